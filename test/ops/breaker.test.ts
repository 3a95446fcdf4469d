import t from 'tap'
import { build, type TestApp } from '../helper.js'
import { buy, createSupplier, directSku, fuluSim, route } from '../suppliers/helpers.js'
import { createReseller, type TestReseller } from '../v1/helpers.js'
import { until } from '../webhooks/helpers.js'
import { firedTimes, isFiring } from './helpers.js'

const breakerOf = async (ta: TestApp, id: string): Promise<string> =>
  ((await ta.app.inject({ method: 'GET', url: `/admin/v1/suppliers/${id}`, headers: ta.auth('ops') })).json() as { breaker: { state: string } }).breaker.state

let n = 0
/** Orders until this process's breaker of the supplier opens (a 5xx storm). */
const storm = async (ta: TestApp, buyer: TestReseller): Promise<void> => {
  for (let i = 0; i < 10 && await breakerOf(ta, 'brk-a') !== 'open'; i++) await buy(ta, buyer, `BRK-${++n}`, 'sku-brk')
  if (await breakerOf(ta, 'brk-a') !== 'open') throw new Error('the breaker did not open')
  await ta.app.ops.drain()
}

t.test('breaker_open fires once when a breaker opens in any process, clears when it closes, fires again', async (t) => {
  // Orders left processing by a 5xx come back after 100 ms, well inside the breaker's 1 s reset timeout.
  const env = { ORDER_SYNC_WAIT_MS: '100', SUPPLIER_POLL_INTERVAL_MS: '60000' }
  const a = await build(t, env)
  const b = await build(t, env, { databaseUrl: a.databaseUrl })
  const sim = await fuluSim(t, { httpStatus: 502 })
  await createSupplier(a, 'brk-a', sim.url, { breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 1000 } })
  await directSku(a, 'sku-brk', 100, { routes: [route('brk-a', 1)] })
  await b.app.suppliers.reload()
  const buyer = await createReseller(a, {}, 1_000_000)

  await storm(a, buyer)
  t.ok(await isFiring(a, 'breaker_open', 'brk-a'))
  await firedTimes(t, [a, b], 'breaker_open', 'brk-a', 1, 'opened in process A')
  await storm(b, buyer)
  await firedTimes(t, [a, b], 'breaker_open', 'brk-a', 1, 'opened in process B too')

  // The supplier recovers; A's half-open trial succeeds and its breaker closes.
  sim.knobs.httpStatus = null
  await until(async () => await breakerOf(a, 'brk-a') === 'half_open', 10_000)
  await buy(a, buyer, `BRK-${++n}`, 'sku-brk')
  await until(async () => await breakerOf(a, 'brk-a') === 'closed', 10_000)
  await a.app.ops.drain()
  t.notOk(await isFiring(a, 'breaker_open', 'brk-a'), 'cleared')
  const [cleared] = await a.database.sql`select severity, message from ops_events where kind = 'breaker_open' order by id desc limit 1`
  t.match(cleared, { severity: 'info', message: /closed/ })

  sim.knobs.httpStatus = 502
  await storm(a, buyer)
  await firedTimes(t, [a, b], 'breaker_open', 'brk-a', 2, 'opened again')
  const metrics = await a.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /ops_alerts_firing\{kind="breaker_open"\} 1/)
})
