import t from 'tap'
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
  t.match(ledger.json().data, [{ kind: 'order_debit', amount: -5300, balance_after: 4700, order_id: order.id }, { kind: 'adjustment', amount: 10_000 }])

  const again = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { ...body } })
  t.equal(again.statusCode, 200, 'same body: the same order')
  t.same(again.json(), order)
  const conflict = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { ...body, quantity: 1 } })
  t.equal(conflict.statusCode, 409)
  t.equal(conflict.json().code, 'idempotency_conflict')

  const fetched = await ta.app.inject({ method: 'GET', url: `/v1/orders/${order.id}`, headers: rsl.bearer })
  t.same(fetched.json(), order)
  const listed = await ta.app.inject({ method: 'GET', url: '/v1/orders?client_order_id=A-1', headers: rsl.bearer })
  t.equal(listed.json().data[0].id, order.id)
  t.same(listed.json().data[0].deliveries, [], 'lists leave codes out')
})
