import t from 'tap'
import { build, type TestApp } from '../helper.js'
import { createReseller, signed, type TestReseller } from '../v1/helpers.js'
import type { SupplierResult } from '../../src/domain/supplier.js'
import { getOrder } from '../../src/orders/orders.js'
import { until } from '../webhooks/helpers.js'
import { attemptsOf, buy, createSupplier, directSku, driveUntil, fuluSim, moneyOf, route } from './helpers.js'

const PRICE = 100

// One gateway for the file; each test has its own suppliers, simulators and SKU, so
// breakers and counters never mix. Schedules are compressed: no test sleeps through them.
let ta: TestApp
let buyer: TestReseller
t.before(async () => {
  ta = await build(t, { ORDER_SYNC_WAIT_MS: '1000', SUPPLIER_POLL_INTERVAL_MS: '60000', RECONCILE_AFTER_MS: '200' })
  buyer = await createReseller(ta, {}, 1_000_000)
})

t.test('a supplier that succeeds: one submit, one debit, the recharge reference delivered', async (t) => {
  const a = await fuluSim(t)
  await createSupplier(ta, 'ok-a', a.url)
  await directSku(ta, 'sku-ok', PRICE, { routes: [route('ok-a', 1)] })
  const { status, body } = await buy(ta, buyer, 'ok-1', 'sku-ok')
  t.equal(status, 201)
  t.match(body, { status: 'succeeded', amount: PRICE, failure: null, deliveries: [{ type: 'direct_recharge', reference: /^att_/ }] })
  t.same(a.submits.length, 1)
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 })
  t.match(await attemptsOf(ta, body.id), [{ supplier_id: 'ok-a', status: 'succeeded' }])
  const admin = await ta.app.inject({ method: 'GET', url: `/admin/v1/orders/${body.id}`, headers: ta.auth('support') })
  t.match(admin.json(), { attempts: [{ supplier: 'ok-a', outcome: 'succeeded' }], cost: 90 })
  const again = await buy(ta, buyer, 'ok-1', 'sku-ok')
  t.equal(again.status, 200, 'a replay returns the order')
  t.equal(a.submits.length, 1, 'and buys nothing')
})

t.test('the first attempt goes out with the order: racing duplicates leave one attempt and one submit; a refused order leaves none', async (t) => {
  const a = await fuluSim(t, { latencyMs: 50 })
  await createSupplier(ta, 'dup-a', a.url)
  await directSku(ta, 'sku-dup', PRICE, { routes: [route('dup-a', 1)] })
  const answers = await Promise.all(Array.from({ length: 12 }, async () => await buy(ta, buyer, 'dup-1', 'sku-dup')))
  t.same(answers.map((x) => x.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201], 'one order created, the rest replay it')
  const id = answers[0]?.body.id as string
  t.ok(answers.every((x) => x.body.id === id))
  await until(async () => (await attemptsOf(ta, id))[0]?.status === 'succeeded', 5000)
  t.equal(a.submits.length, 1, 'bought once')
  const attempts = async (): Promise<number> => (await ta.database.sql<{ n: number }[]>`select count(*)::int as n from supplier_attempts where supplier_id = 'dup-a'`)[0]?.n ?? -1
  t.equal(await attempts(), 1, 'no attempt left by the duplicates that rolled back')

  const poor = await createReseller(ta, {}, PRICE - 1)
  const refused = await buy(ta, poor, 'dup-poor', 'sku-dup')
  t.equal(refused.status, 402)
  t.equal(refused.body.code, 'insufficient_balance')
  t.equal(await attempts(), 1, 'a refused order writes no attempt')
  t.equal(a.submits.length, 1)
})

t.test('a supplier order from stale cached terms pays the committed price; a signed replay is refused as one', async (t) => {
  const a = await fuluSim(t)
  await createSupplier(ta, 'stale-a', a.url)
  await directSku(ta, 'sku-stale', PRICE, { routes: [route('stale-a', 1)] })
  const key = { id: buyer.id, tier: 'standard', currency: 'CNY' }
  // The notice of the SKU's own creation may empty the cache after an order filled it.
  let bought = 0
  await until(async () => {
    t.equal((await buy(ta, buyer, `stale-1-${bought++}`, 'sku-stale')).body.amount, PRICE)
    return ta.app.catalog.get(key, 'sku-stale') !== undefined
  }, 5000)
  const cached = ta.app.catalog.get(key, 'sku-stale')
  if (!cached) return
  const prices = await ta.app.inject({ method: 'GET', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance') })
  const raise = (prices.json() as { prices: { sku: string, price: number }[] }).prices.map((p) => ({ sku: p.sku, price: p.sku === 'sku-stale' ? PRICE + 50 : p.price }))
  t.equal((await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: raise })).statusCode, 200)
  ta.app.catalog.set(key, cached, ta.app.catalog.current())
  const raised = await buy(ta, buyer, 'stale-2', 'sku-stale')
  t.equal(raised.status, 201)
  t.equal(raised.body.amount, PRICE + 50, 'charged the committed price, not the cached one')
  t.same(await moneyOf(ta, raised.body.id), { debits: PRICE + 50, refunds: 0 })

  // Signed, from stale terms again: the accept rolls back and starts over, its nonce stays used.
  ta.app.catalog.set(key, cached, ta.app.catalog.current())
  const body = JSON.stringify({ client_order_id: 'stale-signed', sku: 'sku-stale', recipient: { account: '13800138000' } })
  const headers = { ...signed(buyer, 'POST', '/v1/orders', body), 'content-type': 'application/json' }
  const first = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers, payload: body })
  t.equal(first.statusCode, 201)
  t.equal(first.json().amount, PRICE + 50)
  const replay = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers, payload: body })
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'replayed_request', 'the same signed request again is a replay, though its order exists')
  t.equal(a.submits.length, bought + 2, 'bought once per order')
})

t.test('an attempt written with the order, at a supplier this process no longer runs, is closed unsent and the next route used', async (t) => {
  const a = await fuluSim(t)
  const b = await fuluSim(t)
  await createSupplier(ta, 'gone-a', a.url)
  await createSupplier(ta, 'gone-b', b.url)
  await until(() => ta.app.suppliers.get('gone-a') !== undefined && ta.app.suppliers.get('gone-b') !== undefined, 5000)
  await directSku(ta, 'sku-gone', PRICE, { routes: [route('gone-a', 1), route('gone-b', 2)] })
  // The state an accept leaves: the order leased to us, its first attempt written with it.
  const [order] = await ta.database.sql<{ id: string }[]>`
    insert into orders (id, reseller_id, client_order_id, request_hash, sku, quantity, recipient, unit_price, amount, currency, status, lease_token, lease_until, next_check_at)
    values ('ord_gone', ${buyer.id}, 'gone-1', '\\x00', 'sku-gone', 1, '{"account":"13800138000"}', ${PRICE}, ${PRICE}, 'CNY', 'processing', 'lease-gone', now() + interval '1 minute', now() + interval '1 minute')
    returning id`
  await ta.database.sql`insert into supplier_attempts (id, order_id, supplier_id, supplier_product_id, cost, status) values ('att_gone', 'ord_gone', 'gone-a', '10000498', 90, 'submitting')`
  // Then this process loses the instance (a reload that could not load it) before the call.
  ;(ta.app.suppliers as unknown as { executors: Map<string, unknown> }).executors.delete('gone-a')
  const record = await getOrder(ta.database.sql, order!.id)
  if (!record) throw new Error('order not found')
  const steps = [{ kind: 'supplier' as const, route: route('gone-a', 1) as never }, { kind: 'supplier' as const, route: route('gone-b', 2) as never }]
  const finished = await ta.app.fulfilment.start(record, 'lease-gone', steps, undefined, 'att_gone')
  t.equal(finished?.order.status, 'succeeded', 'finished by the next route')
  const attempts = (await attemptsOf(ta, 'ord_gone')).sort((x, y) => x.supplier_id.localeCompare(y.supplier_id))
  t.match(attempts, [{ supplier_id: 'gone-a', status: 'failed', failure_code: 'supplier_unavailable' }, { supplier_id: 'gone-b', status: 'succeeded' }])
  t.equal(a.submits.length, 0, 'nothing sent to the supplier this process cannot run')
  t.equal(b.submits.length, 1)
})

t.test('a refusal fails over to the next route', async (t) => {
  const a = await fuluSim(t, { refuseCode: 3001 })
  const b = await fuluSim(t)
  await createSupplier(ta, 'ref-a', a.url, { breaker: { volume_threshold: 2, error_threshold_percentage: 50 } })
  await createSupplier(ta, 'ref-b', b.url)
  await directSku(ta, 'sku-ref', PRICE, { routes: [route('ref-a', 1), route('ref-b', 2)] })
  const { body } = await buy(ta, buyer, 'ref-1', 'sku-ref')
  t.equal(body.status, 'succeeded')
  t.equal(a.submits.length, 1)
  t.equal(b.submits.length, 1)
  t.match(await attemptsOf(ta, body.id), [{ supplier_id: 'ref-a', status: 'failed', failure_code: 'product_unavailable' }, { supplier_id: 'ref-b', status: 'succeeded' }])
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 }, 'charged once')
  for (let i = 2; i <= 6; i++) await buy(ta, buyer, `ref-${i}`, 'sku-ref')
  const read = await ta.app.inject({ method: 'GET', url: '/admin/v1/suppliers/ref-a', headers: ta.auth('ops') })
  t.equal((read.json() as { breaker: { state: string } }).breaker.state, 'closed', 'business refusals do not trip the breaker')
  t.equal(a.submits.length, 6, 'so the refusing supplier keeps its place in the routing')
})

t.test('a bad recipient fails the order and refunds it without trying other suppliers', async (t) => {
  const a = await fuluSim(t, { badAccounts: ['nobody'] })
  const b = await fuluSim(t)
  await createSupplier(ta, 'bad-a', a.url)
  await createSupplier(ta, 'bad-b', b.url)
  await directSku(ta, 'sku-bad', PRICE, { routes: [route('bad-a', 1), route('bad-b', 2)] })
  const before = await balance()
  const { status, body } = await buy(ta, buyer, 'bad-1', 'sku-bad', 'nobody')
  t.equal(status, 201)
  t.match(body, { status: 'failed', failure: { code: 'recipient_invalid' }, deliveries: [] })
  t.equal(b.submits.length, 0, 'no other supplier was asked')
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: PRICE })
  t.equal(await balance(), before, 'balance restored')
  const [event] = await ta.database.sql`select type from webhook_events where order_id = ${body.id}`
  t.equal(event, undefined, 'no callback URL, no event')
})

t.test('accept-then-hang: resolved by querying, exactly one submit, no second supplier', async (t) => {
  const a = await fuluSim(t, { acceptThenHang: true })
  const b = await fuluSim(t)
  await createSupplier(ta, 'hang-a', a.url)
  await createSupplier(ta, 'hang-b', b.url)
  await directSku(ta, 'sku-hang', PRICE, { routes: [route('hang-a', 1), route('hang-b', 2)] })
  const { body } = await buy(ta, buyer, 'hang-1', 'sku-hang')
  // The deadline (0.5 s) and the query fit the sync wait (1 s) unless the machine is loaded;
  // then the order is still processing, and the poller's next query settles it the same way.
  await driveUntil(ta, body.id, (status) => status === 'succeeded')
  t.equal(a.submits.length, 1, 'exactly one submit')
  t.ok(a.queries.length >= 1, `queried ${a.queries.length} time(s)`)
  t.equal(b.submits.length, 0, 'never tried another supplier while the first might deliver')
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 })
})

t.test('a connection reset: the supplier is asked first, and only a definite "no such order" moves on', async (t) => {
  const a = await fuluSim(t, { reset: true })
  const b = await fuluSim(t)
  await createSupplier(ta, 'reset-a', a.url)
  await createSupplier(ta, 'reset-b', b.url)
  await directSku(ta, 'sku-reset', PRICE, { routes: [route('reset-a', 1), route('reset-b', 2)] })
  const { body } = await buy(ta, buyer, 'reset-1', 'sku-reset')
  t.equal(body.status, 'processing', 'the query was reset too: still unclear, so it waits')
  t.equal(b.submits.length, 0, 'no second supplier while the first may have the order')
  t.match(await attemptsOf(ta, body.id), [{ supplier_id: 'reset-a', status: 'unknown' }])
  a.knobs.reset = false
  await driveUntil(ta, body.id, (status) => status === 'succeeded')
  t.match(await attemptsOf(ta, body.id), [{ supplier_id: 'reset-a', status: 'not_found' }, { supplier_id: 'reset-b', status: 'succeeded' }],
    'the reset request never created an order there, so the next route served it')
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 })
})

for (const withId of [true, false]) {
  t.test(`"no such order" from a supplier that took the order is not believed: nobody else buys it (${withId ? 'with' : 'without'} its order id)`, async (t) => {
    const a = await fuluSim(t, { completeAfterMs: 60_000 })
    const b = await fuluSim(t)
    const [lag, other, sku] = withId ? ['lag-a', 'lag-b', 'sku-lag'] : ['lag-noid-a', 'lag-noid-b', 'sku-lag-noid']
    await createSupplier(ta, lag, a.url)
    await createSupplier(ta, other, b.url)
    await directSku(ta, sku, PRICE, { routes: [route(lag, 1), route(other, 2)] })
    if (!withId) {
      // An adapter may acknowledge without an order id of the supplier's: only the attempt's
      // `pending` remembers that the order was taken.
      const executor = ta.app.suppliers.get(lag)
      if (!executor) throw new Error('supplier not loaded')
      const adapter = executor.adapter
      const withoutId = (r: SupplierResult): SupplierResult => r.status === 'pending' || r.status === 'succeeded' ? { ...r, supplierOrderId: null } : r
      executor.adapter = {
        ...adapter,
        purchase: async (request, ctx) => withoutId(await adapter.purchase(request, ctx)),
        getOrder: async (reference, ctx) => withoutId(await adapter.getOrder(reference, ctx))
      }
    }
    const { body } = await buy(ta, buyer, `${sku}-1`, sku)
    t.equal(body.status, 'processing')
    t.match(await attemptsOf(ta, body.id), [{ supplier_id: lag, status: 'pending' }])
    a.knobs.lookupLag = true
    for (let i = 0; i < 3; i++) {
      // Much later, as far as the attempt knows: its age is no excuse any more.
      await ta.database.sql`update supplier_attempts set created_at = created_at - interval '1 day' where order_id = ${body.id}`
      await ta.database.sql`update orders set next_check_at = now() where id = ${body.id} and lease_until is null`
      await ta.app.fulfilment.runDue()
      await until(async () => (await ta.database.sql`select 1 from orders where id = ${body.id} and lease_until is null`).length === 1, 5000)
    }
    t.ok(a.queries.length >= 3, 'asked again each time')
    t.equal(b.submits.length, 0, 'the other supplier was never asked')
    t.match(await attemptsOf(ta, body.id), [{ supplier_id: lag, status: 'pending' }], 'still acknowledged')
    t.match(ta.logs.text(), /supplier says it has no order it acknowledged/)
    a.knobs.lookupLag = false
    a.knobs.completeAfterMs = 0
    await driveUntil(ta, body.id, (status) => status === 'succeeded')
    t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 })
  })
}

t.test('a 5xx storm opens the breaker; traffic then stops reaching the supplier', async (t) => {
  const a = await fuluSim(t, { httpStatus: 502 })
  const b = await fuluSim(t)
  await createSupplier(ta, 'storm-a', a.url, { breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 60_000 } })
  await createSupplier(ta, 'storm-b', b.url)
  await directSku(ta, 'sku-storm', PRICE, { routes: [route('storm-a', 1), route('storm-b', 2)] })
  const read = async (): Promise<{ breaker: { state: string } }> =>
    (await ta.app.inject({ method: 'GET', url: '/admin/v1/suppliers/storm-a', headers: ta.auth('ops') })).json()
  t.equal((await read()).breaker.state, 'closed')
  const results: string[] = []
  for (let i = 0; i < 3; i++) results.push((await buy(ta, buyer, `storm-${i}`, 'sku-storm')).body.status)
  // A 5xx says nothing of whether the order went in: those orders wait for a query, never for B.
  t.same(results, ['processing', 'processing', 'processing'])
  t.equal(b.submits.length, 0)
  t.equal((await read()).breaker.state, 'open', 'the admin API shows the open breaker')
  const submits = a.submits.length
  for (let i = 3; i < 8; i++) t.equal((await buy(ta, buyer, `storm-${i}`, 'sku-storm')).body.status, 'succeeded')
  t.equal(a.submits.length, submits, 'no new order reached the failing supplier')
  t.equal(b.submits.length, 5, 'the next route took them')
  const metrics = await ta.app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /supplier_breaker_state\{supplier="storm-a"\} 2/)
  // The supplier recovers: the poller's queries settle the parked orders, each charged once.
  a.knobs.httpStatus = null
  const parked = await ta.database.sql<{ id: string }[]>`select id from orders where client_order_id in ('storm-0', 'storm-1', 'storm-2')`
  await ta.database.sql`update orders set next_check_at = now() where id in ${ta.database.sql(parked.map((p) => p.id))}`
  await until(async () => {
    await ta.app.fulfilment.runDue()
    const [left] = await ta.database.sql`select count(*)::int as n from orders where id in ${ta.database.sql(parked.map((p) => p.id))} and status = 'processing'`
    return left?.n === 0
  }, 10_000)
  for (const { id } of parked) {
    const money = await moneyOf(ta, id)
    const [order] = await ta.database.sql`select status from orders where id = ${id}`
    // Each ends by what the supplier has: delivered (charged) or no such order (refunded in full).
    t.ok((order?.status === 'succeeded' && money.refunds === 0) || (order?.status === 'failed' && money.refunds === PRICE), `${id} settled once`)
  }
})

t.test('an empty supplier wallet counts against its breaker: orders go elsewhere, then stop trying it', async (t) => {
  const a = await fuluSim(t, { refuseCode: 4001, refuseMessage: '商户余额不足' })
  const b = await fuluSim(t)
  await createSupplier(ta, 'broke-a', a.url, { breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 60_000 } })
  await createSupplier(ta, 'broke-b', b.url)
  await directSku(ta, 'sku-broke', PRICE, { routes: [route('broke-a', 1), route('broke-b', 2)] })
  for (let i = 0; i < 6; i++) t.equal((await buy(ta, buyer, `broke-${i}`, 'sku-broke')).body.status, 'succeeded')
  t.equal(a.submits.length, 3, 'after three refusals the breaker opened and kept orders away')
  t.equal(b.submits.length, 6)
  const read = await ta.app.inject({ method: 'GET', url: '/admin/v1/suppliers/broke-a', headers: ta.auth('ops') })
  t.equal((read.json() as { breaker: { state: string } }).breaker.state, 'open')
  const [attempt] = await ta.database.sql`select failure_code from supplier_attempts where supplier_id = 'broke-a' limit 1`
  t.equal(attempt?.failure_code, 'supplier_insufficient_balance')
})

t.test('all suppliers refusing falls back to the card pool when the SKU allows it', async (t) => {
  const a = await fuluSim(t, { refuseCode: 3001 })
  const b = await fuluSim(t, { refuseCode: 3002 })
  await createSupplier(ta, 'pool-a', a.url)
  await createSupplier(ta, 'pool-b', b.url)
  await directSku(ta, 'sku-pool', PRICE, { card_pool: 'fallback', routes: [route('pool-a', 1), route('pool-b', 2)] })
  const imported = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus/sku-pool/card-keys', headers: ta.auth('ops'), payload: { unit_cost: 70, codes: [{ code: 'POOL-FALLBACK-CODE-1' }] } })
  t.equal(imported.statusCode, 201, imported.body)
  const { body } = await buy(ta, buyer, 'pool-1', 'sku-pool')
  t.match(body, { status: 'succeeded', deliveries: [{ type: 'card_key', code: 'POOL-FALLBACK-CODE-1' }] })
  t.equal(a.submits.length + b.submits.length, 2, 'both suppliers were asked first')
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 })
  const empty = await buy(ta, buyer, 'pool-2', 'sku-pool')
  t.match(empty.body, { status: 'failed', failure: { code: 'out_of_stock' } }, 'pool empty too: failed and refunded')
  t.same(await moneyOf(ta, empty.body.id), { debits: PRICE, refunds: PRICE })
})

t.test('nothing can serve: 409 sku_unavailable, nothing charged', async (t) => {
  const a = await fuluSim(t)
  await createSupplier(ta, 'off-a', a.url, { enabled: false })
  await directSku(ta, 'sku-off', PRICE, { routes: [route('off-a', 1)] })
  const before = await balance()
  const { status, body } = await buy(ta, buyer, 'off-1', 'sku-off')
  t.equal(status, 409)
  t.equal(body.code, 'sku_unavailable')
  t.equal(await balance(), before)
  t.equal(a.submits.length, 0)
})

t.test('a slow supplier: the order comes back processing and its callback finishes it', async (t) => {
  const url = await ta.app.listen({ port: 0, host: '127.0.0.1' })
  const a = await fuluSim(t, { completeAfterMs: 1500, callbackUrl: `${url}/callbacks/suppliers/slow-a` })
  await createSupplier(ta, 'slow-a', a.url)
  await directSku(ta, 'sku-slow', PRICE, { routes: [route('slow-a', 1)] })
  const { status, body } = await buy(ta, buyer, 'slow-1', 'sku-slow')
  t.equal(status, 201)
  t.equal(body.status, 'processing', 'past ORDER_SYNC_WAIT_MS the order comes back processing')
  const queriesBefore = a.queries.length
  // The poller is 60 s away in this file: only the callback can end the order in time.
  await until(async () => {
    const res = await ta.app.inject({ method: 'GET', url: `/v1/orders/${body.id}`, headers: buyer.bearer })
    return (res.json() as { status: string }).status === 'succeeded'
  }, 10_000)
  t.match(a.callbacks, [{ status: 200, body: 'success' }], 'the callback was acknowledged the Fulu way')
  t.ok(a.queries.length > queriesBefore, 'the callback was confirmed by a query')
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: 0 })

  const forged = await ta.app.inject({
    method: 'POST', url: '/callbacks/suppliers/slow-a', headers: { 'content-type': 'application/json' },
    payload: { customer_order_no: 'att_forged', order_status: 'success', sign: '0'.repeat(32) }
  })
  t.equal(forged.statusCode, 400)
  t.equal(forged.body, 'fail', 'a forged callback is refused')
  t.match(ta.logs.text(), /supplier callback refused/)
  const unknown = await ta.app.inject({ method: 'POST', url: '/callbacks/suppliers/nobody', headers: { 'content-type': 'application/json' }, payload: {} })
  t.equal(unknown.statusCode, 404)
})

t.test('a pending order without callbacks is finished by the poller', async (t) => {
  const a = await fuluSim(t, { completeAfterMs: 1200, finalState: 'failed' })
  await createSupplier(ta, 'poll-a', a.url)
  await directSku(ta, 'sku-poll', PRICE, { routes: [route('poll-a', 1)] })
  const { body } = await buy(ta, buyer, 'poll-1', 'sku-poll')
  t.equal(body.status, 'processing')
  await driveUntil(ta, body.id, (status) => status !== 'processing')
  const res = await ta.app.inject({ method: 'GET', url: `/v1/orders/${body.id}`, headers: buyer.bearer })
  t.match(res.json(), { status: 'failed', failure: { code: 'supplier_rejected' } }, 'a supplier failure after acceptance fails the order')
  t.same(await moneyOf(ta, body.id), { debits: PRICE, refunds: PRICE }, 'and refunds it')
  t.equal(a.submits.length, 1)
})

t.test("a supplier's purchase limit holds: waiting orders go through as the window frees", async (t) => {
  const a = await fuluSim(t)
  await createSupplier(ta, 'limit-a', a.url)
  await directSku(ta, 'sku-limit', PRICE, { routes: [route('limit-a', 1)] })
  const executor = ta.app.suppliers.get('limit-a')
  if (!executor) throw new Error('supplier not loaded')
  // Fulu publishes no limit; this test gives its adapter one, and times each submit it sends.
  const sent: number[] = []
  const adapter = executor.adapter
  executor.adapter = {
    ...adapter,
    purchaseLimit: { max: 3, windowMs: 600 },
    purchase: async (request, ctx) => {
      sent.push(performance.now())
      return await adapter.purchase(request, ctx)
    }
  }
  const orders = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await buy(ta, buyer, `limit-${i}`, 'sku-limit')).body))
  await until(async () => {
    const [left] = await ta.database.sql`select count(*)::int as n from orders where sku = 'sku-limit' and status <> 'succeeded'`
    return left?.n === 0
  }, 15_000)
  t.equal(a.submits.length, 10, 'every order was submitted once')
  sent.sort((x, y) => x - y)
  const busiest = Math.max(...sent.map((start) => sent.filter((s) => s >= start && s < start + 600).length))
  t.ok(busiest <= 3, `at most 3 submits in any 600 ms window (busiest: ${busiest})`)
  t.ok(sent.at(-1)! - sent[0]! >= 1200, 'ten submits at three per window take at least three windows')
  t.equal(orders.length, 10)
})

async function balance (): Promise<number> {
  const res = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: buyer.bearer })
  return (res.json() as { available: number }).available
}
