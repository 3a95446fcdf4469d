import t from 'tap'
import { isFinal, ORDER_STATUSES, ORDER_TRANSITIONS, type OrderStatus } from '../../src/domain/orders/status.js'
import { build } from '../helper.js'
import { cardSku, createReseller } from './helpers.js'

t.test('an order is fulfilled from the pool: debit, keys, ledger, all at once', async (t) => {
  const ta = await build(t)
  const codes = await cardSku(ta, 'gc-order', 2650, 5)
  const rsl = await createReseller(ta, {}, 10_000)
  const body = { client_order_id: 'A-1', sku: 'gc-order', quantity: 2, max_unit_price: 2700 }
  const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: body })
  t.equal(res.statusCode, 201, res.body)
  const order = res.json()
  t.match(order, { client_order_id: 'A-1', sku: 'gc-order', quantity: 2, unit_price: 2650, amount: 5300, currency: 'CNY', status: 'succeeded', failure: null })
  t.match(order.id, /^ord_/)
  t.equal(order.deliveries.length, 2)
  t.ok(order.deliveries.every((d: { code: string }) => codes.includes(d.code)), 'real pool codes')
  t.equal(res.headers['cache-control'], 'no-store')

  const balance = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })
  t.same(balance.json(), { available: 4700, credit_limit: 0, currency: 'CNY' })
  const ledger = await ta.app.inject({ method: 'GET', url: '/v1/ledger', headers: rsl.bearer })
  t.match(ledger.json().data, [{ id: /^led_\d+$/, kind: 'order_debit', amount: -5300, order_id: order.id }, { id: /^led_\d+$/, kind: 'adjustment', amount: 10_000 }])

  const again = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { ...body } })
  t.equal(again.statusCode, 200, 'same body: the same order')
  t.same(again.json(), order)
  const conflict = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { ...body, quantity: 1 } })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.json().code, 'idempotency_conflict')

  const fetched = await ta.app.inject({ method: 'GET', url: `/v1/orders/${order.id}`, headers: rsl.bearer })
  t.same(fetched.json(), order)
  const listed = await ta.app.inject({ method: 'GET', url: '/v1/orders?client_order_id=A-1', headers: rsl.bearer })
  t.same(listed.json().data, [order], 'found by client_order_id (after a timed-out POST), as GET shows it, codes included')
  t.equal(listed.headers['cache-control'], 'no-store', 'codes are never cached')
  const second = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'A-2', sku: 'gc-order' } })
  const all = await ta.app.inject({ method: 'GET', url: '/v1/orders', headers: rsl.bearer })
  t.same(all.json().data, [second.json(), order], 'a page of orders, each with its own deliveries')
})

t.test('refusals charge nothing: balance, price guard, stock, recipient, visibility', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-cheap', 1000, 2)
  await cardSku(ta, 'gc-empty', 500, 0)
  const direct = await ta.app.inject({
    method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'),
    payload: { sku: 'video-1m', name: 'Video 1m', category: 'video', delivery: 'direct_recharge', recipient_type: 'account', face_value: 3000, currency: 'CNY', fulfilment: { card_pool: 'fallback' } }
  })
  t.equal(direct.statusCode, 201)
  await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: [{ sku: 'gc-cheap', price: 1000 }, { sku: 'gc-empty', price: 500 }, { sku: 'video-1m', price: 2650 }] })
  const rsl = await createReseller(ta, { credit_limit: 500 }, 1000)
  const order = async (payload: Record<string, unknown>) => await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload })

  const poor = await order({ client_order_id: 'P-1', sku: 'gc-cheap', quantity: 2 })
  t.equal(poor.statusCode, 402)
  t.equal(poor.json().code, 'insufficient_balance')
  const guard = await order({ client_order_id: 'P-2', sku: 'gc-cheap', max_unit_price: 999 })
  t.equal(guard.statusCode, 409)
  t.equal(guard.json().code, 'price_changed')
  // A misspelt guard would otherwise be dropped, and the order bought at any price.
  const typo = await order({ client_order_id: 'P-2b', sku: 'gc-cheap', max_unit_prize: 999 })
  t.equal(typo.statusCode, 400)
  t.same(typo.json().errors, [{ path: 'body.max_unit_prize', message: 'unknown field' }], 'an unknown field is refused, by name')
  const empty = await order({ client_order_id: 'P-3', sku: 'gc-empty' })
  t.equal(empty.statusCode, 409)
  t.equal(empty.json().code, 'sku_unavailable')
  const recipient = await order({ client_order_id: 'P-4', sku: 'video-1m', recipient: { phone: '+8613800138000' } })
  t.equal(recipient.statusCode, 422)
  t.equal(recipient.json().code, 'recipient_invalid')
  t.same(recipient.json().errors.map((e: { path: string }) => e.path).sort(), ['body.recipient.account', 'body.recipient.phone'])
  const tooMany = await order({ client_order_id: 'P-5', sku: 'video-1m', quantity: 2, recipient: { account: 'u1' } })
  t.equal(tooMany.statusCode, 400)
  const invisible = await order({ client_order_id: 'P-6', sku: 'gc-nowhere' })
  t.equal(invisible.statusCode, 404)

  const balance = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })
  t.equal(balance.json().available, 1000, 'nothing was charged')
  const orders = await ta.app.inject({ method: 'GET', url: '/v1/orders', headers: rsl.bearer })
  t.same(orders.json().data, [], 'no order rows were left behind')

  // The refused client_order_id can be used once the reason is gone.
  const credit = await order({ client_order_id: 'P-1', sku: 'gc-cheap', quantity: 1 })
  t.equal(credit.statusCode, 201, 'a refused id can be reused')
  const onCredit = await order({ client_order_id: 'P-7', sku: 'gc-cheap', quantity: 1 })
  t.equal(onCredit.statusCode, 402, '0 + 500 credit < 1000')
  await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${rsl.id}/balance-adjustments`, headers: ta.auth('finance'), payload: { amount: 500, reason: 'top-up' } })
  const credited = await order({ client_order_id: 'P-7', sku: 'gc-cheap', quantity: 1 })
  t.equal(credited.statusCode, 201, 'spends into the credit limit')
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })).json().available, -500)
  const [row] = await ta.database.sql`select sum(balance + floor) as headroom from reseller_balance_buckets where reseller_id = ${rsl.id}`
  t.equal(Number(row?.headroom), 0)
})

t.test('catalog per reseller: prices from tier or override; unpriced SKUs are invisible', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-a', 1000, 1)
  await cardSku(ta, 'gc-b', 2000, 0)
  await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'), payload: { sku: 'gc-hidden', name: 'h', category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 1, currency: 'CNY' } })
  const std = await createReseller(ta)
  const vip = await createReseller(ta, { tier: 'gold' })
  await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance'), payload: [{ sku: 'gc-a', price: 900 }] })
  const override = await ta.app.inject({ method: 'PUT', url: `/admin/v1/resellers/${vip.id}/prices`, headers: ta.auth('finance'), payload: [{ sku: 'gc-b', price: 1500 }, { sku: 'gc-hidden', price: 1 }] })
  t.equal(override.statusCode, 200)

  const list = async (r: typeof std) => (await ta.app.inject({ method: 'GET', url: '/v1/products', headers: r.bearer })).json().data.map((p: { sku: string, price: number, available: boolean }) => [p.sku, p.price, p.available])
  t.same(await list(std), [['gc-a', 1000, true], ['gc-b', 2000, false]])
  t.same(await list(vip), [['gc-a', 900, true], ['gc-b', 1500, false], ['gc-hidden', 1, false]])
  const one = await ta.app.inject({ method: 'GET', url: '/v1/products/gc-hidden', headers: std.bearer })
  t.equal(one.statusCode, 404, 'invisible without a price')
  const product = await ta.app.inject({ method: 'GET', url: '/v1/products/gc-a', headers: vip.bearer })
  t.match(product.json(), { sku: 'gc-a', price: 900, currency: 'CNY', category: 'gift_card', delivery: 'card_key', recipient_type: 'none', available: true })
})

t.test('a pool SKU is listed available until its last key is sold', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-last', 100, 2)
  const rsl = await createReseller(ta, {}, 10_000)
  const available = async () => (await ta.app.inject({ method: 'GET', url: '/v1/products/gc-last', headers: rsl.bearer })).json().available as boolean
  const listed = async () => (await ta.app.inject({ method: 'GET', url: '/v1/products', headers: rsl.bearer })).json().data[0].available as boolean
  for (const n of [1, 2]) {
    t.ok(await available(), `available before order ${n}`)
    const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: `LAST-${n}`, sku: 'gc-last' } })
    t.equal(res.statusCode, 201)
  }
  t.notOk(await available(), 'sold out: unavailable')
  t.notOk(await listed(), 'sold out: unavailable in the list too')
})

t.test('cached order terms never outlive a catalog change, even when its notice is late', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-cached', 100, 10)
  const rsl = await createReseller(ta, {}, 10_000)
  const buyer = { id: rsl.id, tier: 'standard', currency: 'CNY' }
  const order = async (id: string) => await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: id, sku: 'gc-cached' } })
  t.equal((await order('C-1')).json().unit_price, 100)
  const stale = ta.app.catalog.get(buyer, 'gc-cached')
  t.ok(stale, 'the first order cached its terms')
  if (!stale) return
  t.equal((await order('C-2')).json().unit_price, 100, 'an order from the cache')

  // A price rise; then the old terms put back, as if this process had not heard of it yet.
  const prices = await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: [{ sku: 'gc-cached', price: 150 }] })
  t.equal(prices.statusCode, 200)
  ta.app.catalog.set(buyer, stale, ta.app.catalog.current())
  const raised = await order('C-3')
  t.equal(raised.statusCode, 201)
  t.match(raised.json(), { unit_price: 150, amount: 150 }, 'charged the committed price, not the cached one')
  t.equal(ta.app.catalog.get(buyer, 'gc-cached')?.sku.price, 150, 'the cache holds the new terms')

  // A rule added later refuses the order, though the stale terms know no rule.
  const stale150 = ta.app.catalog.get(buyer, 'gc-cached')
  const rule = await ta.app.inject({ method: 'POST', url: '/admin/v1/risk-rules', headers: ta.auth('ops'), payload: { kind: 'amount_ceiling', action: 'refuse', sku: 'gc-cached', params: { max_amount: 120 } } })
  t.equal(rule.statusCode, 201)
  if (stale150) ta.app.catalog.set(buyer, stale150, ta.app.catalog.current())
  const refused = await order('C-4')
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'risk_refused')
  const balance = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })
  t.equal(balance.json().available, 10_000 - 100 - 100 - 150, 'charged for three orders only')
})

t.test('20 concurrent duplicates make one order and one debit', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-dup', 100, 10)
  const rsl = await createReseller(ta, {}, 10_000)
  const results = await Promise.all(Array.from({ length: 20 }, async () =>
    await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'DUP-1', sku: 'gc-dup', quantity: 2 } })))
  const statuses = results.map((r) => r.statusCode).sort()
  t.same(statuses, [200, ...Array(18).fill(200), 201].sort(), 'one 201, the rest 200')
  t.equal(new Set(results.map((r) => r.json().id)).size, 1, 'one order')
  t.equal(new Set(results.map((r) => JSON.stringify(r.json().deliveries))).size, 1, 'the same codes every time')
  const [ledger] = await ta.database.sql`select count(*)::int as n, sum(amount)::int as total from ledger_entries where reseller_id = ${rsl.id} and kind = 'order_debit'`
  t.same(ledger, { n: 1, total: -200 })
  const [sold] = await ta.database.sql`select count(*)::int as n from card_keys where status = 'sold'`
  t.equal(sold?.n, 2)
})

t.test('balances reconcile with their ledgers, and a corrupted row is reported', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-rec', 100, 3)
  const a = await createReseller(ta, {}, 1000)
  await createReseller(ta, {}, 500)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: a.bearer, payload: { client_order_id: 'R-1', sku: 'gc-rec' } })
  const ok = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.same(ok.json(), { ok: true, mismatches: [] })
  await ta.database.sql`update ledger_entries set amount = amount - 1 where id = (select max(id) from ledger_entries)`
  const bad = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.equal(bad.json().ok, false)
  t.equal(bad.json().mismatches.length, 1)
})

t.test('order states move only as the domain table says; the request never changes', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-state', 100, 1)
  const rsl = await createReseller(ta, {}, 1000)
  const placed = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'ST-1', sku: 'gc-state' } })
  const id = placed.json().id as string
  const sql = ta.database.sql
  const setStatus = async (status: string) => await sql.begin(async (tx) => {
    await tx`alter table orders disable trigger orders_guard_transition`
    await tx.unsafe(`update orders set status = '${status}', completed_at = ${isFinal(status as OrderStatus) ? 'now()' : 'null'} where id = $1`, [id])
    await tx`alter table orders enable trigger orders_guard_transition`
  })
  for (const from of ORDER_STATUSES) {
    for (const to of ORDER_STATUSES) {
      if (from === to) continue
      await setStatus(from)
      const attempt = sql.unsafe(`update orders set status = '${to}', completed_at = ${isFinal(to) ? 'now()' : 'null'} where id = $1`, [id])
      if (ORDER_TRANSITIONS[from].includes(to)) await t.resolves(attempt, `${from} -> ${to} allowed`)
      else await t.rejects(attempt, /is not allowed/, `${from} -> ${to} refused`)
    }
  }
  await t.rejects(sql`update orders set amount = 1, unit_price = 1 where id = ${id}`, /immutable/)
})

t.test('free products, callback URL normalisation', async (t) => {
  const ta = await build(t, { CALLBACK_ALLOW_PRIVATE: 'false' })
  await cardSku(ta, 'gc-free', 0, 2)
  const rsl = await createReseller(ta)
  const free = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'F-1', sku: 'gc-free' } })
  t.equal(free.statusCode, 201, free.body)
  t.equal(free.json().amount, 0)
  const [ledger] = await ta.database.sql`select count(*)::int as n from ledger_entries where reseller_id = ${rsl.id}`
  t.equal(ledger?.n, 0, 'no money moved, no ledger entry')
  for (const url of ['HTTP://127.0.0.1/hook', 'http://merchant.example/hook', 'https://user:pw@merchant.example/hook']) {
    const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'F-2', sku: 'gc-free', callback_url: url } })
    t.equal(res.statusCode, 400, url)
    t.same(res.json().errors.map((e: { path: string }) => e.path), ['body.callback_url'])
  }
  const ok = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'F-3', sku: 'gc-free', callback_url: 'HTTPS://Merchant.Example/hook' } })
  t.equal(ok.statusCode, 201)
  const [row] = await ta.database.sql`select callback_url from orders where id = ${ok.json().id}`
  t.equal(row?.callback_url, 'https://merchant.example/hook', 'stored normalised')
})

t.test('orders, top-ups and credit-limit changes of one reseller run together without deadlocks', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-mix', 10, 2000)
  const rsl = await createReseller(ta, { credit_limit: 100 }, 2000)
  const until = Date.now() + 2500
  const failures: string[] = []
  const loop = async (name: string, step: (i: number) => Promise<{ statusCode: number, body: string }>, ok: number[]) => {
    for (let i = 0; Date.now() < until; i++) {
      const res = await step(i)
      if (!ok.includes(res.statusCode)) failures.push(`${name} ${res.statusCode} ${res.body}`)
    }
  }
  await Promise.all([
    ...Array.from({ length: 8 }, async (_, w) => await loop('order', async (i) => await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: `MIX-${w}-${i}`, sku: 'gc-mix', quantity: 1 + (i % 3) } }), [201, 402, 409])),
    ...Array.from({ length: 2 }, async () => await loop('top-up', async () => await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${rsl.id}/balance-adjustments`, headers: ta.auth('finance'), payload: { amount: 37, reason: 'drip' } }), [201])),
    loop('credit', async (i) => await ta.app.inject({ method: 'PATCH', url: `/admin/v1/resellers/${rsl.id}`, headers: ta.auth('admin'), payload: { credit_limit: 100 + (i % 5) * 10 } }), [200, 409])
  ])
  t.same(failures.slice(0, 5), [], 'no 500s, no deadlocks')
  const recon = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.same(recon.json(), { ok: true, mismatches: [] })
  const [negative] = await ta.database.sql`select count(*)::int as n from reseller_balance_buckets where balance + floor < 0`
  t.equal(negative?.n, 0)
})

t.test('after-sales: the look-up of a sold code names its order and reseller; a void needs no reason', async (t) => {
  const ta = await build(t)
  const codes = await cardSku(ta, 'gc-dispute', 100, 2)
  const rsl = await createReseller(ta, {}, 1000)
  const placed = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'D-1', sku: 'gc-dispute' } })
  const sold = placed.json().deliveries[0].code as string
  const found = await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code: sold } })
  t.match(found.json(), { status: 'sold', order_id: placed.json().id, reseller_id: rsl.id, sold_at: String })
  const other = await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code: codes.find((c) => c !== sold) } })
  t.match(other.json(), { status: 'available', order_id: null, reseller_id: null })
  const voided = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${other.json().id}/void`, headers: ta.auth('ops') })
  t.equal(voided.statusCode, 200, voided.body)
  t.match(voided.json(), { status: 'voided', void_reason: null, reseller_id: null })
  const soldVoid = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${found.json().id}/void`, headers: ta.auth('ops'), payload: { reason: 'disputed' } })
  t.match(soldVoid.json(), { status: 'voided', void_reason: 'disputed', order_id: placed.json().id, reseller_id: rsl.id })
})

t.test('balance adjustments are idempotent with an idempotency-key', async (t) => {
  const ta = await build(t)
  const rsl = await createReseller(ta)
  const adjust = async (key: string | undefined, amount: number) => await ta.app.inject({
    method: 'POST', url: `/admin/v1/resellers/${rsl.id}/balance-adjustments`,
    headers: { ...ta.auth('finance'), ...(key ? { 'idempotency-key': key } : {}) }, payload: { amount, reason: 'wire 4711' }
  })
  const first = await adjust('topup-4711', 5000)
  t.equal(first.statusCode, 201)
  const retry = await adjust('topup-4711', 5000)
  t.equal(retry.statusCode, 200, 'a retry answers with the first entry')
  t.equal(retry.json().id, first.json().id)
  const other = await adjust('topup-4711', 6000)
  t.equal(other.statusCode, 409)
  t.equal(other.json().code, 'idempotency_conflict')
  const racing = await Promise.all(Array.from({ length: 10 }, async () => await adjust('topup-4712', 100)))
  t.same([...new Set(racing.map((r) => r.json().id))].length, 1, 'concurrent retries: one entry')
  t.same(racing.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  await adjust(undefined, 1)
  await adjust(undefined, 1)
  const balance = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })
  t.equal(balance.json().available, 5102, 'money moved once per key, every time without one')
  // Taking the whole balance back: no one bucket can pay, so every racer locks them all, and
  // those behind the first find nothing left. They are retries, not shortfalls.
  const clawback = await Promise.all(Array.from({ length: 6 }, async () => await adjust('reverse-4711', -5102)))
  t.same(clawback.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201], 'concurrent retries of a debit: one entry, no 402')
  t.equal(new Set(clawback.map((r) => r.json().id)).size, 1)
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })).json().available, 0)
  const recon = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.same(recon.json(), { ok: true, mismatches: [] })
})
