import t from 'tap'
import { build, createTestDatabase, exclusive, spawnGateway, testEnv } from '../helper.js'
import { cardSku, createReseller } from './helpers.js'

t.test('3 gateways, 600 concurrent orders, 150 keys, one reseller able to afford 40', async (t) => {
  await exclusive(t)
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, {}, { databaseUrl })
  const price = 100
  const codes = await cardSku(ta, 'gc-rush', price, 150)
  const rich = await createReseller(ta, {}, 1_000_000)
  const poor = await createReseller(ta, {}, 40 * price)
  const env = testEnv(databaseUrl, { LOG_LEVEL: 'info', WORKERS: 'false', DATABASE_POOL_SIZE: '5' })
  const gateways = await Promise.all([1, 2, 3].map(async () => await spawnGateway(t, env)))

  const attempts = Array.from({ length: 600 }, (_, i) => ({ buyer: i % 2 === 0 ? rich : poor, gateway: gateways[i % 3]!, id: `RUSH-${i}` }))
  const results = await Promise.all(attempts.map(async ({ buyer, gateway, id }) => {
    const res = await fetch(`${gateway.url}/v1/orders`, {
      method: 'POST',
      headers: { ...buyer.bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ client_order_id: id, sku: 'gc-rush' })
    })
    const body = await res.json() as { code?: string, deliveries?: { code: string }[] }
    return { buyer: buyer.id, status: res.status, code: body.code, delivered: body.deliveries?.map((d) => d.code) ?? [] }
  }))

  const byStatus = new Map<string, number>()
  for (const r of results) byStatus.set(`${r.status} ${r.code ?? ''}`.trim(), (byStatus.get(`${r.status} ${r.code ?? ''}`.trim()) ?? 0) + 1)
  t.comment(JSON.stringify(Object.fromEntries(byStatus)))
  const unexpected = results.filter((r) => !(r.status === 201 || (r.status === 402 && r.code === 'insufficient_balance') || (r.status === 409 && r.code === 'sku_unavailable')))
  t.same(unexpected, [], `every answer is a sale, no money, or no stock: ${JSON.stringify(Object.fromEntries(byStatus))}`)
  const sold = results.filter((r) => r.status === 201)
  t.equal(sold.length, 150, 'exactly the stock was sold')
  const delivered = sold.flatMap((r) => r.delivered)
  t.equal(new Set(delivered).size, 150, 'no code twice')
  t.ok(delivered.every((c) => codes.includes(c)))
  t.ok(sold.filter((r) => r.buyer === poor.id).length <= 40, 'the poor reseller bought at most what it could afford')

  const balances = await ta.database.sql<{ reseller_id: string, balance: string, credit_limit: string }[]>`select reseller_id, sum(balance) as balance, sum(floor) as credit_limit from reseller_balance_buckets group by reseller_id`
  t.ok(balances.every((b) => Number(b.balance) + Number(b.credit_limit) >= 0), 'no balance below its limit')
  const [negative] = await ta.database.sql`select count(*)::int as n from reseller_balance_buckets where balance + floor < 0`
  t.equal(negative?.n, 0, 'no bucket below its floor')
  const [debits] = await ta.database.sql`select -sum(amount)::int as total, count(*)::int as n from ledger_entries where kind = 'order_debit'`
  t.same(debits, { total: 150 * price, n: 150 }, 'money debited = 150 × price')
  const recon = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.same(recon.json(), { ok: true, mismatches: [] }, 'ledger sums equal balances')
  const [keys] = await ta.database.sql`select count(*) filter (where status = 'sold')::int as sold, count(distinct order_id)::int as orders from card_keys`
  t.same(keys, { sold: 150, orders: 150 })
  const bOrders = await ta.app.inject({ method: 'GET', url: '/v1/orders?limit=200', headers: poor.bearer })
  t.ok(bOrders.json().data.every((o: { client_order_id: string }) => Number(o.client_order_id.split('-')[1]) % 2 === 1), 'a reseller lists its own orders only')
})
