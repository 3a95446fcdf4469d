import t from 'tap'
import { build, type TestApp } from '../helper.js'
import { createSupplier, directSku, fuluSim } from '../suppliers/helpers.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { place, placed, readCsv, settleByHand, sortRows, type Placed, type Row } from './helpers.js'

// One gateway and one set of orders for the file: a mix of supplier orders (one after a
// failover), pool orders, a pool fallback, a failed and refunded order, an order still open,
// three resellers, two currencies; then some moved across the period's edges.
let ta: TestApp
let from: Date
let to: Date
const orders: Placed[] = []
let a: TestReseller
let b: TestReseller
let usd: TestReseller

t.before(async () => {
  ta = await build(t, { ORDER_SYNC_WAIT_MS: '2000', SUPPLIER_POLL_INTERVAL_MS: '60000' })
  const [row] = await ta.database.sql<{ now: Date }[]>`select now() - interval '1 second' as now`
  from = new Date(row!.now)
  to = new Date(from.getTime() + 3_600_000)

  const simA = await fuluSim(t, { badAccounts: ['nobody'] })
  const simB = await fuluSim(t)
  const simRefuse = await fuluSim(t, { refuseCode: 3001 })
  const simSlow = await fuluSim(t, { completeAfterMs: 3_600_000 })
  await createSupplier(ta, 'sup-a', simA.url)
  await createSupplier(ta, 'sup-b', simB.url)
  await createSupplier(ta, 'sup-refuse', simRefuse.url)
  await createSupplier(ta, 'sup-slow', simSlow.url)
  const route = (supplier: string, cost: number, priority: number) => ({ supplier, supplier_product_id: '10000498', cost, priority })
  await directSku(ta, 'vid-a', 100, { routes: [route('sup-a', 70, 1)] })
  await directSku(ta, 'vid-b', 200, { routes: [route('sup-refuse', 50, 1), route('sup-b', 80, 2)] })
  await directSku(ta, 'vid-c', 400, { card_pool: 'fallback', routes: [route('sup-refuse', 60, 1)] })
  await directSku(ta, 'vid-slow', 150, { routes: [route('sup-slow', 90, 1)] })
  const imported = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus/vid-c/card-keys', headers: ta.auth('ops'), payload: { unit_cost: 123, codes: [{ code: 'VIDC-1' }] } })
  t.equal(imported.statusCode, 201, imported.body)
  await cardSku(ta, 'gc-cny', 300, 5) // unit cost 150
  await cardSku(ta, 'gc-usd', 500, 2, { currency: 'USD' }) // unit cost 250

  a = await createReseller(ta, {}, 100_000)
  b = await createReseller(ta, {}, 100_000)
  usd = await createReseller(ta, { currency: 'USD' }, 100_000)
  const acct = { account: '13800138000' }
  orders.push(placed(await place(ta, a, 'a-1', 'vid-a', acct), a, 'vid-a', 70, 'sup-a'))
  orders.push(placed(await place(ta, a, 'a-2', 'vid-a', { account: 'nobody' }), a, 'vid-a', 0, null))
  orders.push(placed(await place(ta, a, 'a-3', 'gc-cny', {}, 2), a, 'gc-cny', 300, 'card_pool'))
  orders.push(placed(await place(ta, a, 'a-4', 'vid-slow', acct), a, 'vid-slow', 0, null))
  orders.push(placed(await place(ta, b, 'b-1', 'vid-b', acct), b, 'vid-b', 80, 'sup-b'))
  orders.push(placed(await place(ta, b, 'b-2', 'gc-cny'), b, 'gc-cny', 150, 'card_pool'))
  orders.push(placed(await place(ta, b, 'b-3', 'vid-c', acct), b, 'vid-c', 123, 'card_pool'))
  orders.push(placed(await place(ta, usd, 'u-1', 'gc-usd'), usd, 'gc-usd', 250, 'card_pool'))
  // Placed before the period, completed in it: its money counts, its placing does not.
  const early = placed(await place(ta, a, 'a-5', 'vid-a', acct), a, 'vid-a', 70, 'sup-a')
  early.createdAt = new Date(from.getTime() - 86_400_000)
  await ta.database.sql`update orders set created_at = ${early.createdAt.toISOString()} where id = ${early.id}`
  // Placed and completed after the period: not in it at all.
  const late = placed(await place(ta, b, 'b-4', 'vid-b', acct), b, 'vid-b', 80, 'sup-b')
  late.createdAt = new Date(to.getTime() + 1000)
  late.completedAt = new Date(to.getTime() + 2000)
  await ta.database.sql`update orders set created_at = ${late.createdAt.toISOString()}, completed_at = ${late.completedAt.toISOString()} where id = ${late.id}`
  orders.push(early, late)
})

t.test('the orders came out as the test set them up', async (t) => {
  t.same(orders.map((o) => o.status), ['succeeded', 'failed', 'succeeded', 'processing', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'])
  t.same(orders.map((o) => o.currency), ['CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'USD', 'CNY', 'CNY'])
})

for (const groupBy of ['reseller', 'sku', 'supplier'] as const) {
  t.test(`group_by=${groupBy}: every figure equals the sum the test computes from its own orders`, async (t) => {
    const res = await ta.app.inject({ method: 'GET', url: `/admin/v1/reports/settlement?from=${from.toISOString()}&to=${to.toISOString()}&group_by=${groupBy}`, headers: ta.auth('finance') })
    t.equal(res.statusCode, 200, res.body)
    const report = res.json() as { from: string, to: string, group_by: string, rows: Row[], totals: (Omit<Row, 'group'>)[] }
    t.equal(report.from, from.toISOString())
    t.equal(report.to, to.toISOString())
    t.equal(report.group_by, groupBy)
    const expected = settleByHand(orders, from, to, groupBy)
    t.same(sortRows(report.rows), expected)
    for (const currency of ['CNY', 'USD']) {
      const mine = expected.filter((r) => r.currency === currency)
      const sum = (k: keyof Omit<Row, 'group' | 'currency'>) => mine.reduce((s, r) => s + r[k], 0)
      t.same(report.totals.find((x) => x.currency === currency),
        { currency, orders: sum('orders'), succeeded: sum('succeeded'), failed: sum('failed'), revenue: sum('revenue'), cost: sum('cost'), margin: sum('margin'), refunds: sum('refunds') },
        `${currency} totals`)
    }
    t.equal(report.totals.length, 2, 'one total per currency, never one across them')
  })
}

t.test('the figures by supplier, spelled out', async (t) => {
  const res = await ta.app.inject({ method: 'GET', url: `/admin/v1/reports/settlement?from=${from.toISOString()}&to=${to.toISOString()}&group_by=supplier`, headers: ta.auth('finance') })
  const rows = (res.json() as { rows: Row[] }).rows
  t.same(rows, [
    // a-3 (2 keys at 150), b-2, b-3 (the pool fallback, batch unit cost 123)
    { group: 'card_pool', currency: 'CNY', orders: 3, succeeded: 3, failed: 0, revenue: 600 + 300 + 400, cost: 300 + 150 + 123, margin: 1300 - 573, refunds: 0 },
    { group: 'card_pool', currency: 'USD', orders: 1, succeeded: 1, failed: 0, revenue: 500, cost: 250, margin: 250, refunds: 0 },
    // a-1, and a-5 placed the day before: revenue yes, placing no
    { group: 'sup-a', currency: 'CNY', orders: 1, succeeded: 2, failed: 0, revenue: 200, cost: 140, margin: 60, refunds: 0 },
    // b-1 after sup-refuse refused it: only the delivering attempt's cost
    { group: 'sup-b', currency: 'CNY', orders: 1, succeeded: 1, failed: 0, revenue: 200, cost: 80, margin: 120, refunds: 0 },
    // a-2 failed and refunded, a-4 still at the supplier
    { group: null, currency: 'CNY', orders: 2, succeeded: 0, failed: 1, revenue: 0, cost: 0, margin: 0, refunds: 100 }
  ])
})

t.test('accept: text/csv answers the same rows as CSV', async (t) => {
  for (const groupBy of ['reseller', 'sku', 'supplier'] as const) {
    const url = `/admin/v1/reports/settlement?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&group_by=${groupBy}`
    const json = (await ta.app.inject({ method: 'GET', url, headers: ta.auth('finance') })).json() as { rows: Row[] }
    const res = await ta.app.inject({ method: 'GET', url, headers: { ...ta.auth('finance'), accept: 'text/csv' } })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/csv/)
    t.match(res.headers.vary, /accept/i)
    const [header, ...records] = readCsv(res.body)
    t.same(header, ['group', 'currency', 'orders', 'succeeded', 'failed', 'revenue', 'cost', 'margin', 'refunds'])
    t.same(records, json.rows.map((r) => header!.map((c) => {
      const v = r[c as keyof Row]
      return v === null ? '' : String(v)
    })), `${groupBy}: CSV rows are the JSON rows`)
  }
  const preferred = await ta.app.inject({
    method: 'GET', url: `/admin/v1/reports/settlement?from=${from.toISOString()}&to=${to.toISOString()}`,
    headers: { ...ta.auth('finance'), accept: 'application/json, text/csv;q=0.5' }
  })
  t.match(preferred.headers['content-type'], /^application\/json/, 'JSON when the client prefers it')
  t.equal(preferred.json().group_by, 'reseller', 'group_by defaults to reseller')
})

t.test('a period outside the orders is empty; bad periods are 400', async (t) => {
  const empty = await ta.app.inject({ method: 'GET', url: '/admin/v1/reports/settlement?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00%2B08:00', headers: ta.auth('finance') })
  t.same(empty.json(), { from: '2020-01-01T00:00:00.000Z', to: '2020-01-31T16:00:00.000Z', group_by: 'reseller', rows: [], totals: [] })
  const cases: [string, string][] = [
    ['from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'querystring.to'],
    ['from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'querystring.to'],
    ['from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z', 'querystring.to'],
    ['from=2026-01-01&to=2026-02-01T00:00:00Z', 'querystring.from'],
    ['from=2026-01-01T00:00:00Z', 'querystring.to'],
    ['from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&group_by=tier', 'querystring.group_by']
  ]
  for (const [query, path] of cases) {
    const res = await ta.app.inject({ method: 'GET', url: `/admin/v1/reports/settlement?${query}`, headers: ta.auth('finance') })
    t.equal(res.statusCode, 400, query)
    t.match(res.json(), { code: 'invalid_request', errors: [{ path }] }, query)
  }
  const leap = await ta.app.inject({ method: 'GET', url: '/admin/v1/reports/settlement?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z', headers: ta.auth('finance') })
  t.equal(leap.statusCode, 200, 'a leap year (366 days) is one period')
})

t.test('finance and admin may read the report; other roles and resellers may not', async (t) => {
  const url = `/admin/v1/reports/settlement?from=${from.toISOString()}&to=${to.toISOString()}`
  for (const role of ['admin', 'finance'] as const) t.equal((await ta.app.inject({ method: 'GET', url, headers: ta.auth(role) })).statusCode, 200, role)
  for (const role of ['ops', 'support'] as const) t.equal((await ta.app.inject({ method: 'GET', url, headers: ta.auth(role) })).statusCode, 403, role)
  t.equal((await ta.app.inject({ method: 'GET', url, headers: a.bearer })).statusCode, 401)
})
