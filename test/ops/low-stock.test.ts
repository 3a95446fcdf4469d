import t from 'tap'
import { build, type TestApp } from '../helper.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { firedTimes, isFiring } from './helpers.js'

let n = 0
const sell = async (ta: TestApp, buyer: TestReseller, sku: string, quantity = 1): Promise<void> => {
  const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: buyer.bearer, payload: { client_order_id: `LS-${++n}`, sku, quantity } })
  if (res.statusCode !== 201 || res.json().status !== 'succeeded') throw new Error(`sale failed: ${res.statusCode} ${res.body}`)
}

t.test('low_stock fires once when a SKU sells down to its threshold, and again after a restock and a new fall', async (t) => {
  const a = await build(t)
  const b = await build(t, {}, { databaseUrl: a.databaseUrl })
  await cardSku(a, 'gc-low', 100, 4, { low_stock_threshold: 2 })
  await cardSku(a, 'gc-plenty', 100, 5, { low_stock_threshold: 1 })
  await cardSku(a, 'gc-unwatched', 100, 1)
  const buyer = await createReseller(a, {}, 100_000)

  await a.app.ops.checkLowStock()
  t.notOk(await isFiring(a, 'low_stock', 'gc-low'), '4 keys, threshold 2: nothing')
  await sell(a, buyer, 'gc-low')
  await b.app.ops.checkLowStock()
  t.notOk(await isFiring(a, 'low_stock', 'gc-low'), '3 keys: nothing')

  await sell(b, buyer, 'gc-low')
  await Promise.all([a.app.ops.checkLowStock(), b.app.ops.checkLowStock()])
  t.ok(await isFiring(a, 'low_stock', 'gc-low'), '2 keys: at the threshold')
  await firedTimes(t, [a, b], 'low_stock', 'gc-low', 1, 'crossed')

  await sell(a, buyer, 'gc-low')
  for (let i = 0; i < 3; i++) await Promise.all([a.app.ops.checkLowStock(), b.app.ops.checkLowStock()])
  await firedTimes(t, [a, b], 'low_stock', 'gc-low', 1, 'lower still, checked six more times by two processes')
  const [event] = await a.database.sql`select severity, details from ops_events where kind = 'low_stock' and subject = 'gc-low'`
  t.same(event, { severity: 'warning', details: { available: 2, threshold: 2 } })
  const listed = await b.app.inject({ method: 'GET', url: '/admin/v1/alerts?firing=true&kind=low_stock', headers: b.auth('ops') })
  t.match(listed.json(), { data: [{ kind: 'low_stock', subject: 'gc-low', severity: 'warning', firing: true, details: { available: 2, threshold: 2 } }], next_cursor: null })
  t.notOk(await isFiring(a, 'low_stock', 'gc-plenty'), 'other SKUs are unaffected')
  t.notOk(await isFiring(a, 'low_stock', 'gc-unwatched'), 'a SKU without a threshold never alerts')

  const restock = await a.app.inject({ method: 'POST', url: '/admin/v1/skus/gc-low/card-keys', headers: a.auth('ops'), payload: { unit_cost: 50, codes: [{ code: 'GC-LOW-R1' }, { code: 'GC-LOW-R2' }, { code: 'GC-LOW-R3' }] } })
  t.equal(restock.statusCode, 201)
  await b.app.ops.checkLowStock()
  t.notOk(await isFiring(a, 'low_stock', 'gc-low'), '4 keys again: cleared')
  await firedTimes(t, [a, b], 'low_stock', 'gc-low', 1, 'restocked')

  await sell(a, buyer, 'gc-low', 4)
  await a.app.ops.checkLowStock()
  await firedTimes(t, [a, b], 'low_stock', 'gc-low', 2, 'sold out after the restock')
  const [last] = await a.database.sql`select severity from ops_events where kind = 'low_stock' order by id desc limit 1`
  t.equal(last?.severity, 'critical', 'none left is critical')

  // A SKU taken out of sale is no longer watched: its alert clears.
  const current = await a.app.inject({ method: 'GET', url: '/admin/v1/skus/gc-low', headers: a.auth('ops') })
  const { sku, name, category, delivery, recipient_type: recipientType, face_value: faceValue, currency, max_quantity: maxQuantity, fulfilment } = current.json()
  const retired = await a.app.inject({
    method: 'PUT', url: '/admin/v1/skus/gc-low', headers: a.auth('ops'),
    payload: { sku, name, category, delivery, recipient_type: recipientType, face_value: faceValue, currency, max_quantity: maxQuantity, fulfilment, status: 'inactive', low_stock_threshold: 2 }
  })
  t.equal(retired.statusCode, 200, retired.body)
  await a.app.ops.checkLowStock()
  t.notOk(await isFiring(a, 'low_stock', 'gc-low'))
})
