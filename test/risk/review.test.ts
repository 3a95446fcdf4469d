import t, { type Test } from 'tap'
import { startDispatcher } from '../../src/webhooks/dispatcher.js'
import { build, type TestApp } from '../helper.js'
import { createSupplier, directSku, fuluSim, moneyOf, route } from '../suppliers/helpers.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { receiver, until } from '../webhooks/helpers.js'
import { adminOrder, balanceOf, createRule, order } from './helpers.js'

const PRICE = 100

let ta: TestApp
let buyer: TestReseller
t.before(async () => {
  ta = await build(t, { CALLBACK_ALLOW_PRIVATE: 'true', ORDER_SYNC_WAIT_MS: '2000' })
  buyer = await createReseller(ta, {}, 1_000_000)
})

const review = async (id: string, decision: 'approve' | 'reject', payload?: Record<string, unknown>, role: 'ops' | 'admin' | 'support' = 'ops') =>
  await ta.app.inject({ method: 'POST', url: `/admin/v1/orders/${id}/${decision}`, headers: ta.auth(role), ...(payload ? { payload } : {}) })

/** Every order of `sku` above `max` held for review. */
const holdAbove = async (sku: string, max = PRICE - 1): Promise<void> => {
  await createRule(ta, { kind: 'amount_ceiling', action: 'review', sku, params: { max_amount: max } })
}

t.test('approve a held card-pool order: keys sold, codes to the reseller, review recorded', async (t) => {
  await cardSku(ta, 'gc-held', PRICE, 5)
  await holdAbove('gc-held')
  const held = await order(ta, buyer, { client_order_id: 'H-1', sku: 'gc-held' })
  t.equal(held.body.status, 'pending_review')

  t.equal((await review(held.body.id, 'approve', undefined, 'support')).statusCode, 403, 'support may not decide reviews')
  const approved = await review(held.body.id, 'approve', { reason: 'known customer' })
  t.equal(approved.statusCode, 200, approved.body)
  t.match(approved.json(), { id: held.body.id, status: 'succeeded', deliveries: [{ source: 'pool', card_key_id: /^ck_/ }] })
  const risk = approved.json().risk as { type: string }[]
  t.match(risk.at(-1), { type: 'review', decision: 'approved', by: /^adt_/, role: 'ops', reason: 'known customer' })
  t.match(risk[0], { type: 'rule', kind: 'amount_ceiling', hit: true })

  const mine = await ta.app.inject({ method: 'GET', url: `/v1/orders/${held.body.id}`, headers: buyer.bearer })
  t.match(mine.json(), { status: 'succeeded', deliveries: [{ type: 'card_key', code: /^GC-HELD-/ }] })
  t.same(await moneyOf(ta, held.body.id), { debits: PRICE, refunds: 0 }, 'charged once, at acceptance')

  const twice = await review(held.body.id, 'approve')
  t.equal(twice.statusCode, 409)
  t.equal(twice.json().code, 'invalid_state')
  t.equal((await review(held.body.id, 'reject')).json().code, 'invalid_state', 'a decided order cannot be rejected')
  t.equal((await review('ord_00000000000000000000000000', 'approve')).statusCode, 404)

  const audit = await ta.app.inject({ method: 'GET', url: `/admin/v1/audit-log?target_id=${held.body.id}`, headers: ta.auth('admin') })
  t.match(audit.json().data, [{ action: 'order.approve', actor_role: 'ops', target_type: 'order', details: { reason: 'known customer' } }])
})

/** A direct-recharge SKU routed to its own Fulu simulator, every order held: one held order. */
const heldAtSupplier = async (t: Test, supplier: string, sku: string) => {
  const sim = await fuluSim(t)
  await createSupplier(ta, supplier, sim.url)
  await directSku(ta, sku, PRICE, { routes: [route(supplier, 1)] })
  await holdAbove(sku)
  return { sim, held: await order(ta, buyer, { client_order_id: `${sku}-1`, sku, recipient: { account: '13800138000' } }) }
}

t.test('approve a held supplier order: nothing bought until approved, then fulfilled by the supplier', async (t) => {
  const { sim, held } = await heldAtSupplier(t, 'review-fulu', 'sku-held-fulu')
  t.equal(held.status, 201)
  t.equal(held.body.status, 'pending_review')
  t.equal(sim.submits.length, 0, 'no supplier called for a held order')
  const [row] = await ta.database.sql`select lease_token, next_check_at from orders where id = ${held.body.id}`
  t.same(row, { lease_token: null, next_check_at: null }, 'not leased, so no worker picks it up')

  const approved = await review(held.body.id, 'approve')
  t.equal(approved.statusCode, 200, approved.body)
  t.match(approved.json(), { status: 'succeeded', attempts: [{ supplier: 'review-fulu', outcome: 'succeeded' }], deliveries: [{ type: 'direct_recharge', source: 'supplier' }] })
  t.equal(sim.submits.length, 1)
  t.same(await moneyOf(ta, held.body.id), { debits: PRICE, refunds: 0 })
})

t.test('approve while nothing can serve the SKU: 409 sku_unavailable, the order stays held', async (t) => {
  const { held } = await heldAtSupplier(t, 'review-down', 'sku-held-down')
  t.equal(held.body.status, 'pending_review')
  const down = await ta.app.inject({ method: 'PATCH', url: '/admin/v1/suppliers/review-down', headers: ta.auth('ops'), payload: { force_state: 'open' } })
  t.equal(down.statusCode, 200)
  const refused = await review(held.body.id, 'approve')
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'sku_unavailable')
  t.equal((await adminOrder(ta, held.body.id)).status, 'pending_review')
  await ta.app.inject({ method: 'PATCH', url: '/admin/v1/suppliers/review-down', headers: ta.auth('ops'), payload: { force_state: null } })
  t.equal((await review(held.body.id, 'approve')).json().status, 'succeeded', 'approved once a route is back')
})

t.test('approve a held pool order once the pool has run dry: 409 sku_unavailable, held until keys are back', async (t) => {
  await cardSku(ta, 'gc-dry', PRICE, 2)
  await holdAbove('gc-dry')
  const held = await order(ta, buyer, { client_order_id: 'DRY-1', sku: 'gc-dry', quantity: 2 })
  t.equal(held.body.status, 'pending_review')
  // The keys go while the order waits (voided here; sold to others alike).
  const keys = await ta.database.sql<{ id: string }[]>`select id from card_keys where sku = 'gc-dry' order by id`
  const voided = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${keys[0]!.id}/void`, headers: ta.auth('ops'), payload: { reason: 'test' } })
  t.equal(voided.statusCode, 200)
  const refused = await review(held.body.id, 'approve')
  t.equal(refused.statusCode, 409, 'one key left cannot fill an order of two')
  t.equal(refused.json().code, 'sku_unavailable')
  t.equal((await adminOrder(ta, held.body.id)).status, 'pending_review', 'the order stays held, not failed')
  t.same(await moneyOf(ta, held.body.id), { debits: 2 * PRICE, refunds: 0 }, 'still charged once, nothing refunded')
  const imported = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus/gc-dry/card-keys', headers: ta.auth('ops'), payload: { unit_cost: 1, codes: [{ code: 'GC-DRY-REFILL-1' }] } })
  t.equal(imported.statusCode, 201)
  t.match((await review(held.body.id, 'approve')).json(), { status: 'succeeded', deliveries: [{ source: 'pool' }, { source: 'pool' }] }, 'approved once the pool holds enough')
})

t.test('reject: failed review_rejected, refunded in full, order.failed callback', async (t) => {
  const hook = await receiver(t)
  const merchant = await createReseller(ta, { callback_url: hook.url }, 10_000)
  await cardSku(ta, 'gc-rejected', PRICE, 5)
  await holdAbove('gc-rejected')
  const held = await order(ta, merchant, { client_order_id: 'R-1', sku: 'gc-rejected', quantity: 3 })
  t.equal(held.body.status, 'pending_review')
  t.equal(await balanceOf(ta, merchant), 10_000 - 3 * PRICE, 'charged while held')

  const rejected = await review(held.body.id, 'reject', { reason: 'stolen card pattern' })
  t.equal(rejected.statusCode, 200, rejected.body)
  t.match(rejected.json(), { status: 'failed', failure: { code: 'review_rejected' }, completed_at: /Z$/ })
  t.match((rejected.json().risk as unknown[]).at(-1), { type: 'review', decision: 'rejected', role: 'ops', reason: 'stolen card pattern' })
  t.same(await moneyOf(ta, held.body.id), { debits: 3 * PRICE, refunds: 3 * PRICE })
  t.equal(await balanceOf(ta, merchant), 10_000, 'balance restored')
  const [keys] = await ta.database.sql`select count(*)::int as n from card_keys where sku = 'gc-rejected' and status = 'available'`
  t.equal(keys?.n, 5, 'no key left the shelf')

  const dispatcher = startDispatcher({ sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs: [0, 100], timeoutMs: 2000, pollIntervalMs: 20, allowPrivate: true })
  t.teardown(() => dispatcher.stop())
  await until(() => hook.received.length > 0, 10_000)
  const body = JSON.parse(hook.received[0]!.body) as { type: string, data: { id: string, status: string, failure: { code: string, message: string } } }
  t.match(body, { type: 'order.failed', data: { id: held.body.id, status: 'failed', failure: { code: 'review_rejected' } } })
  t.notMatch(hook.received[0]!.body, /stolen card pattern/, 'the review reason stays internal')

  const mine = await ta.app.inject({ method: 'GET', url: `/v1/orders/${held.body.id}`, headers: merchant.bearer })
  t.match(mine.json(), { status: 'failed', failure: { code: 'review_rejected' } })
  t.equal((await review(held.body.id, 'approve')).json().code, 'invalid_state')
  const audit = await ta.app.inject({ method: 'GET', url: `/admin/v1/audit-log?target_id=${held.body.id}`, headers: ta.auth('admin') })
  t.match(audit.json().data, [{ action: 'order.reject', details: { reason: 'stolen card pattern' } }])
})

t.test('approve and reject of one order at once: exactly one wins, money and keys follow the winner', async (t) => {
  const N = 12
  await cardSku(ta, 'gc-race', PRICE, N)
  await holdAbove('gc-race')
  const racer = await createReseller(ta, {}, N * PRICE)
  const held = await Promise.all(Array.from({ length: N }, async (_, i) => await order(ta, racer, { client_order_id: `RACE-${i}`, sku: 'gc-race' })))
  t.ok(held.every((h) => h.body.status === 'pending_review'))
  t.equal(await balanceOf(ta, racer), 0)

  // One order at a time, both decisions at once. Approve reads more before its guarded
  // update (order, routing), so it gets a head start of 0..9 ms on some orders: both sides win somewhere.
  const outcomes = []
  for (const [i, h] of held.entries()) {
    const lead = (i % 4) * 3
    const [approve, reject] = await Promise.all([
      review(h.body.id, 'approve'),
      new Promise((resolve) => setTimeout(resolve, lead)).then(async () => await review(h.body.id, 'reject'))
    ])
    outcomes.push({ id: h.body.id, approve, reject })
  }
  let approved = 0
  for (const o of outcomes) {
    const codes = [o.approve.statusCode, o.reject.statusCode].sort()
    t.same(codes, [200, 409], `one decision per order: ${o.approve.body} / ${o.reject.body}`)
    const loser = o.approve.statusCode === 409 ? o.approve : o.reject
    t.equal(loser.json().code, 'invalid_state')
    const final = await adminOrder(ta, o.id)
    const winner = o.approve.statusCode === 200 ? 'approved' : 'rejected'
    if (winner === 'approved') approved++
    t.equal(final.status, winner === 'approved' ? 'succeeded' : 'failed')
    t.same(final.risk.filter((e) => e.type === 'review').map((e) => e.decision), [winner], 'one review recorded')
    t.same(await moneyOf(ta, o.id), { debits: PRICE, refunds: winner === 'approved' ? 0 : PRICE })
  }
  t.comment(`${approved} approved, ${N - approved} rejected`)
  t.equal(await balanceOf(ta, racer), (N - approved) * PRICE, 'refunds only for the rejected')
  const [keys] = await ta.database.sql`select count(*)::int as n from card_keys where sku = 'gc-race' and status = 'sold'`
  t.equal(keys?.n, approved, 'keys only for the approved')
  const recon = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.same(recon.json(), { ok: true, mismatches: [] })
})
