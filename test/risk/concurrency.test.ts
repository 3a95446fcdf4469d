import t from 'tap'
import { build, createTestDatabase, exclusive, spawnGateway, testEnv, type GatewayProcess } from '../helper.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { accountSku, balanceOf, createRule } from './helpers.js'

const PRICE = 100

/** Fires all orders at once, spread round-robin over the gateways; counts answers by status and code. */
async function rush (gateways: GatewayProcess[], buyer: TestReseller, bodies: Record<string, unknown>[]): Promise<{ tally: Record<string, number>, accepted: string[] }> {
  const results = await Promise.all(bodies.map(async (body, i) => {
    const res = await fetch(`${gateways[i % gateways.length]!.url}/v1/orders`, {
      method: 'POST', headers: { ...buyer.bearer, 'content-type': 'application/json' }, body: JSON.stringify(body)
    })
    const json = await res.json() as { id?: string, code?: string }
    return { key: `${res.status} ${json.code ?? ''}`.trim(), id: res.status === 201 ? json.id : undefined }
  }))
  const tally: Record<string, number> = {}
  for (const r of results) tally[r.key] = (tally[r.key] ?? 0) + 1
  return { tally, accepted: results.flatMap((r) => r.id === undefined ? [] : [r.id]) }
}

t.test('3 gateways on one database: the daily quota and recipient velocity hold exactly', async (t) => {
  await exclusive(t)
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, {}, { databaseUrl })
  await cardSku(ta, 'gc-quota-rush', PRICE, 100)
  await accountSku(ta, 'acct-velocity-rush', PRICE, 100)
  const buyer = await createReseller(ta, { rate_limit_per_minute: 100_000 }, 1_000_000)
  const quota = await createRule(ta, { kind: 'daily_quota', sku: 'gc-quota-rush', params: { max_orders: 25 } })
  await createRule(ta, { kind: 'recipient_velocity', sku: 'acct-velocity-rush', params: { max_orders: 5, window_seconds: 3600 } })
  const env = testEnv(databaseUrl, { LOG_LEVEL: 'info', WORKERS: 'false', DATABASE_POOL_SIZE: '5' })
  const gateways = await Promise.all([1, 2, 3].map(async () => await spawnGateway(t, env)))

  t.test('daily quota of 25 orders, 80 concurrent orders', async (t) => {
    const before = await balanceOf(ta, buyer)
    const { tally, accepted } = await rush(gateways, buyer, Array.from({ length: 80 }, (_, i) => ({ client_order_id: `QR-${i}`, sku: 'gc-quota-rush' })))
    t.same(tally, { 201: 25, '429 quota_exceeded': 55 }, JSON.stringify(tally))
    t.equal(await balanceOf(ta, buyer), before - 25 * PRICE, 'balance debited for 25 orders only')
    const [counter] = await ta.database.sql`select orders, amount::int from risk_counters where rule_id = ${quota} and reseller_id = ${buyer.id}`
    t.same(counter, { orders: 25, amount: 25 * PRICE }, 'the counter counts the accepted orders')
    const [orders] = await ta.database.sql`select count(*)::int as n from orders where sku = 'gc-quota-rush'`
    t.equal(orders?.n, 25, 'refused orders were not kept')
    const [debits] = await ta.database.sql`select count(*)::int as n, -sum(amount)::int as total from ledger_entries where kind = 'order_debit' and order_id = any(${accepted})`
    t.same(debits, { n: 25, total: 25 * PRICE })
  })

  t.test('recipient velocity of 5 per hour: 40 concurrent orders for one recipient, 20 for others', async (t) => {
    const one = Array.from({ length: 40 }, (_, i) => ({ client_order_id: `VR-${i}`, sku: 'acct-velocity-rush', recipient: { account: i % 2 === 0 ? 'target-1' : ' TARGET-1' } }))
    const others = Array.from({ length: 20 }, (_, i) => ({ client_order_id: `VO-${i}`, sku: 'acct-velocity-rush', recipient: { account: `other-${i}` } }))
    const { tally } = await rush(gateways, buyer, [...one, ...others])
    t.same(tally, { 201: 25, '403 risk_refused': 35 }, JSON.stringify(tally))
    const rows = await ta.database.sql<{ recipient_key: string, n: number }[]>`
      select recipient_key, count(*)::int as n from orders where sku = 'acct-velocity-rush' group by recipient_key order by n desc, recipient_key`
    t.same(rows[0], { recipient_key: 'target-1', n: 5 }, 'exactly 5 orders for the one recipient')
    t.equal(rows.length, 21, 'every other recipient got its order')
  })

  t.test('the books balance', async (t) => {
    const recon = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
    t.same(recon.json(), { ok: true, mismatches: [] })
  })
})
