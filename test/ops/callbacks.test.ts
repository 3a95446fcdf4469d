import t, { type Test } from 'tap'
import { startDispatcher } from '../../src/webhooks/dispatcher.js'
import { build, type TestApp } from '../helper.js'
import { cardSku, createReseller } from '../v1/helpers.js'
import { receiver, until } from '../webhooks/helpers.js'
import { firedTimes, isFiring } from './helpers.js'

function dispatcher (t: Test, ta: TestApp, scheduleMs: number[]): void {
  const d = startDispatcher({
    sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs, timeoutMs: 2000, pollIntervalMs: 20, allowPrivate: true,
    metrics: ta.app.ops.webhookMetrics, observe: ta.app.ops.observeDelivery
  })
  t.teardown(() => d.stop())
}

const deliveries = async (apps: TestApp[], outcome: string): Promise<number> => {
  let n = 0
  for (const a of apps) n += (await a.app.deps.metrics.registry.getSingleMetric('webhook_deliveries_total')?.get())?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0
  return n
}

const statusOf = async (ta: TestApp, orderId: string): Promise<string | undefined> =>
  (await ta.database.sql<{ status: string }[]>`select status from webhook_events where order_id = ${orderId}`)[0]?.status

t.test('callback_failures fires once when a reseller\'s callbacks keep failing, clears on a 2xx, fires again', async (t) => {
  const env = { CALLBACK_ALLOW_PRIVATE: 'true', CALLBACK_ALERT_ATTEMPTS: '3' }
  const a = await build(t, env)
  const b = await build(t, env, { databaseUrl: a.databaseUrl })
  await cardSku(a, 'gc-cb', 100, 10)
  // Answers 500 to everything until told otherwise.
  const script: number[] = Array.from({ length: 1000 }, () => 500)
  const hook = await receiver(t, script)
  const rsl = await createReseller(a, { callback_url: hook.url }, 100_000)
  let n = 0
  const order = async (who = rsl): Promise<string> => {
    const res = await a.app.inject({ method: 'POST', url: '/v1/orders', headers: who.bearer, payload: { client_order_id: `CB-${++n}`, sku: 'gc-cb' } })
    if (res.statusCode !== 201) throw new Error(res.body)
    return res.json().id as string
  }
  const schedule = [0, 20, 20, 20, 20, 20]
  dispatcher(t, a, schedule)
  dispatcher(t, b, schedule)

  const first = await order()
  await until(async () => await isFiring(a, 'callback_failures', rsl.id), 20_000)
  const [event] = await a.database.sql`select details from ops_events where kind = 'callback_failures'`
  t.match(event?.details, { attempts: 3, last_status: 500, gave_up: false }, 'raised at the third failed attempt in a row')
  const second = await order()
  await until(async () => await statusOf(a, first) === 'failed' && await statusOf(a, second) === 'failed', 20_000)
  await firedTimes(t, [a, b], 'callback_failures', rsl.id, 1, 'two callbacks failing through their whole schedule, over two dispatchers')
  t.equal(await deliveries([a, b], 'gave_up'), 2)
  t.equal(await deliveries([a, b], 'failed_attempt'), 10)
  t.equal(await deliveries([a, b], 'delivered'), 0)

  script.fill(200)
  const third = await order()
  await until(async () => await statusOf(a, third) === 'delivered', 20_000)
  await until(async () => !await isFiring(a, 'callback_failures', rsl.id), 5000)
  t.equal(await deliveries([a, b], 'delivered'), 1)
  await firedTimes(t, [a, b], 'callback_failures', rsl.id, 1, 'acknowledged again')

  script.fill(500)
  const fourth = await order()
  await until(async () => await statusOf(a, fourth) === 'failed', 20_000)
  await firedTimes(t, [a, b], 'callback_failures', rsl.id, 2, 'failing again')
  const metrics = await a.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /webhook_deliveries_total\{outcome="gave_up"\} \d/)
})

t.test('an event given up raises the alert even below the attempt count', async (t) => {
  const a = await build(t, { CALLBACK_ALLOW_PRIVATE: 'true', CALLBACK_ALERT_ATTEMPTS: '5' })
  await cardSku(a, 'gc-gone', 100, 1)
  const hook = await receiver(t, [410])
  const rsl = await createReseller(a, { callback_url: hook.url }, 1000)
  await a.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'G-1', sku: 'gc-gone' } })
  dispatcher(t, a, [0, 20, 20])
  await until(async () => await isFiring(a, 'callback_failures', rsl.id), 20_000)
  const [event] = await a.database.sql`select details from ops_events where kind = 'callback_failures'`
  t.match(event?.details, { attempts: 1, last_status: 410, gave_up: true })
})
