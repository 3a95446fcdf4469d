import t from 'tap'
import { build, createTestDatabase, spawnGateway, testEnv, type GatewayProcess } from '../helper.js'
import { createReseller, type TestReseller } from '../v1/helpers.js'
import { until } from '../webhooks/helpers.js'
import { createSupplier, directSku, fuluSim, moneyOf, route } from './helpers.js'

const PRICE = 100

async function order (gw: GatewayProcess, buyer: TestReseller, id: string, sku: string): Promise<{ status: number, body: { id?: string, status?: string, code?: string } }> {
  const res = await fetch(`${gw.url}/v1/orders`, {
    method: 'POST', headers: { ...buyer.bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ client_order_id: id, sku, recipient: { account: '13800138000' } })
  })
  return { status: res.status, body: await res.json() as { id?: string, status?: string, code?: string } }
}

t.test('force_state set on one process takes effect on another within 2 s', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, {}, { databaseUrl })
  const a = await fuluSim(t)
  await createSupplier(ta, 'fs-a', a.url)
  await directSku(ta, 'sku-fs', PRICE, { routes: [route('fs-a', 1)] })
  const buyer = await createReseller(ta, {}, 100_000)
  const other = await spawnGateway(t, testEnv(databaseUrl, { LOG_LEVEL: 'info', WORKERS: 'false', DATABASE_POOL_SIZE: '3' }))
  t.match(await order(other, buyer, 'fs-before', 'sku-fs'), { status: 201, body: { status: 'succeeded' } }, 'the other process routes to the supplier')

  let n = 0
  const measure = async (forceState: 'open' | null, served: (status: number) => boolean): Promise<number> => {
    const patched = await ta.app.inject({ method: 'PATCH', url: '/admin/v1/suppliers/fs-a', headers: ta.auth('ops'), payload: { force_state: forceState } })
    t.equal(patched.statusCode, 200, patched.body)
    const started = Date.now()
    await until(async () => served((await order(other, buyer, `fs-${n++}`, 'sku-fs')).status), 5000)
    return Date.now() - started
  }
  const opened = await measure('open', (s) => s === 409)
  t.ok(opened < 2000, `force_state open reached the other process in ${opened} ms`)
  const submits = a.submits.length
  t.match(await order(other, buyer, 'fs-closed-1', 'sku-fs'), { status: 409, body: { code: 'sku_unavailable' } })
  t.equal(a.submits.length, submits, 'no traffic reaches a forced-open supplier')
  const reopened = await measure(null, (s) => s === 201)
  t.ok(reopened < 2000, `clearing force_state reached the other process in ${reopened} ms`)
})

t.test('a gateway killed between the supplier call and the finish: another process completes the order, charged once', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, {}, { databaseUrl })
  // The supplier takes the order and never answers: the first process is killed while it waits.
  const a = await fuluSim(t, { acceptThenHang: true })
  const b = await fuluSim(t)
  await createSupplier(ta, 'kill-a', a.url, { timeout_ms: 1000 })
  await createSupplier(ta, 'kill-b', b.url)
  await directSku(ta, 'sku-kill', PRICE, { routes: [route('kill-a', 1), route('kill-b', 2)] })
  const buyer = await createReseller(ta, {}, 10_000)
  const env = { LOG_LEVEL: 'info', DATABASE_POOL_SIZE: '3', RECONCILE_AFTER_MS: '300', SUPPLIER_POLL_INTERVAL_MS: '100' }
  const doomed = await spawnGateway(t, testEnv(databaseUrl, { ...env, WORKERS: 'false', ORDER_SYNC_WAIT_MS: '10000' }))
  const survivor = await spawnGateway(t, testEnv(databaseUrl, { ...env, WORKERS: 'true' }))

  const inFlight = order(doomed, buyer, 'kill-1', 'sku-kill').catch(() => undefined)
  await until(() => a.submits.length === 1, 10_000)
  doomed.child.kill('SIGKILL')
  t.equal(await inFlight, undefined, 'the buyer lost its connection')
  const [stuck] = await ta.database.sql<{ id: string, status: string }[]>`select id, status from orders where client_order_id = 'kill-1'`
  t.equal(stuck?.status, 'processing', 'left processing by the dead process')
  const [open] = await ta.database.sql`select status from supplier_attempts where order_id = ${stuck!.id}`
  t.equal(open?.status, 'submitting', 'its attempt was written before the call')

  await until(async () => {
    const [o] = await ta.database.sql`select status from orders where id = ${stuck!.id}`
    return o?.status !== 'processing'
  }, 15_000)
  const [done] = await ta.database.sql`select status from orders where id = ${stuck!.id}`
  t.equal(done?.status, 'succeeded', 'the other process completed it')
  t.equal(a.submits.length, 1, 'the supplier was asked to deliver once')
  t.ok(a.queries.length >= 1, 'the survivor asked the supplier what happened')
  t.equal(b.submits.length, 0, 'and never bought it elsewhere')
  t.same(await moneyOf(ta, stuck!.id), { debits: PRICE, refunds: 0 }, 'charged once')
  const [bal] = await ta.database.sql`select sum(balance)::int as n from reseller_balance_buckets where reseller_id = ${buyer.id}`
  t.equal(bal?.n, 10_000 - PRICE)
  t.match(survivor.output(), /taking over an order left mid-call/, 'the takeover is logged')
})
