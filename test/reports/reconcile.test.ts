import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startReconcileJob } from '../../src/reports/reconcile-job.js'
import { build, testEnv, type TestApp } from '../helper.js'
import { createSupplier, directSku, fuluSim } from '../suppliers/helpers.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { until } from '../webhooks/helpers.js'
import { place, type OrderAnswer } from './helpers.js'

interface Result {
  ok: boolean
  counts: Record<string, number>
  findings: { kind: string, subject: string, detail: string }[]
  findings_truncated: boolean
  supplier_spend: { day: string, supplier: string, currency: string, attempts: number, amount: number }[]
}

const SLA_MS = 60_000

let ta: TestApp
let buyer: TestReseller
let other: TestReseller
const o: Record<string, OrderAnswer> = {}

t.before(async () => {
  ta = await build(t, { ORDER_SYNC_WAIT_MS: '2000', ORDER_SLA_MS: String(SLA_MS), SUPPLIER_POLL_INTERVAL_MS: '60000' })
  const sim = await fuluSim(t, { badAccounts: ['nobody'] })
  const slow = await fuluSim(t, { completeAfterMs: 3_600_000 })
  await createSupplier(ta, 'sup-r', sim.url)
  await createSupplier(ta, 'sup-slow', slow.url)
  await directSku(ta, 'vid-r', 100, { routes: [{ supplier: 'sup-r', supplier_product_id: '1', cost: 60, priority: 1 }] })
  await directSku(ta, 'vid-slow', 100, { routes: [{ supplier: 'sup-slow', supplier_product_id: '1', cost: 60, priority: 1 }] })
  await cardSku(ta, 'gc-r', 300, 5)
  buyer = await createReseller(ta, {}, 10_000)
  other = await createReseller(ta, {}, 10_000)
  const acct = { account: '13800138000' }
  o.supplied = await place(ta, buyer, 'r-1', 'vid-r', acct)
  o.supplied2 = await place(ta, buyer, 'r-2', 'vid-r', acct)
  o.supplied3 = await place(ta, other, 'r-3', 'vid-r', acct)
  o.failed = await place(ta, buyer, 'r-4', 'vid-r', { account: 'nobody' })
  o.failed2 = await place(ta, other, 'r-5', 'vid-r', { account: 'nobody' })
  o.pool = await place(ta, other, 'r-6', 'gc-r')
  o.open = await place(ta, buyer, 'r-7', 'vid-slow', acct)
})

const run = async (role: 'finance' | 'ops' = 'finance'): Promise<Result> => {
  const res = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation', headers: ta.auth(role) })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json()
}

const metric = async (kind: string): Promise<number | undefined> => {
  const res = await ta.app.inject({ method: 'GET', url: '/metrics' })
  const line = res.body.split('\n').find((l) => l.startsWith(`reconciliation_findings{kind="${kind}"}`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

t.test('ORDER_SLA_MS and RECONCILE_REPORT_INTERVAL_MS are validated, with defaults', async (t) => {
  const config = loadConfig({})
  t.equal(config.orderSlaMs, 86_400_000)
  t.equal(config.reconcileReportIntervalMs, 900_000)
  for (const [name, value] of [['ORDER_SLA_MS', '999'], ['ORDER_SLA_MS', 'a day'], ['RECONCILE_REPORT_INTERVAL_MS', '0'], ['RECONCILE_REPORT_INTERVAL_MS', '86400001']]) {
    const err = (() => { try { loadConfig({ ...testEnv('postgres://x/y'), [name!]: value! }) } catch (e) { return e } })()
    t.type(err, ConfigError, `${name}=${value}`)
    t.equal((err as ConfigError).problems.length, 1)
    t.match((err as ConfigError).problems[0], new RegExp(`^${name}: expected an integer`), `${name}=${value}: names the variable`)
  }
})

t.test('the orders came out as the test set them up', async (t) => {
  t.same(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.status])),
    { supplied: 'succeeded', supplied2: 'succeeded', supplied3: 'succeeded', failed: 'failed', failed2: 'failed', pool: 'succeeded', open: 'processing' })
})

let job: { stop (): Promise<void> } | undefined
t.teardown(async () => await job?.stop())

t.test('clean: no findings, every kind counted as 0, supplier spend of today', async (t) => {
  const result = await run()
  t.equal(result.ok, true)
  t.same(result.findings, [])
  t.same(Object.values(result.counts), [0, 0, 0, 0, 0, 0, 0])
  const today = new Date().toISOString().slice(0, 10)
  t.same(result.supplier_spend, [{ day: today, supplier: 'sup-r', currency: 'CNY', attempts: 3, amount: 180 }],
    'three succeeded attempts at 60; failed and pending attempts cost nothing')
  t.equal((await run('ops')).ok, true, 'ops may run it too')
  t.equal((await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation', headers: ta.auth('support') })).statusCode, 403)

  job = startReconcileJob({ sql: ta.database.sql, registry: ta.app.deps.metrics.registry, intervalMs: 100, slaMs: SLA_MS, log: ta.app.log })
  await until(async () => await metric('balance_mismatch') === 0, 10_000)
  const body = (await ta.app.inject({ method: 'GET', url: '/metrics' })).body
  for (const kind of ['balance_mismatch', 'order_ledger_mismatch', 'failed_order_not_refunded', 'order_past_sla', 'failed_order_holds_keys', 'succeeded_order_without_delivery', 'open_attempt_on_final_order']) {
    t.match(body, `reconciliation_findings{kind="${kind}"} 0`)
  }
  t.match(body, 'reconciliation_supplier_spend_today_minor{supplier="sup-r",currency="CNY"} 180')
  t.match(body, /reconciliation_last_success_timestamp_seconds \d+/)
})

t.test('a corrupted ledger row, an order past its SLA and money or keys left on final orders are all reported', async (t) => {
  const sql = ta.database.sql
  // The debit of a succeeded order, one unit short: the reseller's balance no longer matches
  // its ledger, and the order's ledger no longer nets to its price.
  await sql`update ledger_entries set amount = amount + 1 where order_id = ${o.supplied!.id} and kind = 'order_debit'`
  await sql`update orders set created_at = now() - interval '2 hours' where id = ${o.open!.id}`
  await sql`delete from ledger_entries where order_id = ${o.failed2!.id} and kind = 'order_refund'`
  await sql`update card_keys set status = 'sold', order_id = ${o.failed!.id}, sold_at = now() where id = (select id from card_keys where status = 'available' limit 1)`
  await sql`delete from order_deliveries where order_id = ${o.supplied2!.id}`
  await sql`update supplier_attempts set status = 'pending', completed_at = null where order_id = ${o.supplied3!.id}`

  const result = await run()
  t.equal(result.ok, false)
  t.same(result.counts, {
    balance_mismatch: 2, order_ledger_mismatch: 1, failed_order_not_refunded: 1, order_past_sla: 1,
    failed_order_holds_keys: 1, succeeded_order_without_delivery: 1, open_attempt_on_final_order: 1
  })
  t.same(result.findings.map((f) => [f.kind, f.subject]), [
    ...[buyer.id, other.id].sort().map((id) => ['balance_mismatch', id]),
    ['order_ledger_mismatch', o.supplied!.id],
    ['failed_order_not_refunded', o.failed2!.id],
    ['order_past_sla', o.open!.id],
    ['failed_order_holds_keys', o.failed!.id],
    ['succeeded_order_without_delivery', o.supplied2!.id],
    ['open_attempt_on_final_order', o.supplied3!.id]
  ])
  const detail = (kind: string, subject: string) => result.findings.find((f) => f.kind === kind && f.subject === subject)?.detail
  t.equal(detail('balance_mismatch', buyer.id), `buckets sum to ${10_000 - 100 - 100 - 100 + 100 - 100}, ledger to ${10_000 - 100 - 100 - 100 + 100 - 100 + 1}`)
  t.equal(detail('order_ledger_mismatch', o.supplied!.id), 'succeeded order of 100: ledger nets -99, expected -100')
  t.equal(detail('failed_order_not_refunded', o.failed2!.id), 'failed order of 100: ledger nets -100, expected 0')
  t.match(detail('order_past_sla', o.open!.id), /^processing since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  t.equal(detail('failed_order_holds_keys', o.failed!.id), '1 sold pool key(s)')
  t.match(detail('open_attempt_on_final_order', o.supplied3!.id), /^succeeded order has attempt att_\S+ at sup-r still pending$/)
  t.equal(result.findings_truncated, false)

  // The finding count reaches the metrics at the job's next run.
  await until(async () => await metric('balance_mismatch') === 2, 10_000)
  for (const kind of ['order_ledger_mismatch', 'failed_order_not_refunded', 'order_past_sla', 'failed_order_holds_keys', 'succeeded_order_without_delivery', 'open_attempt_on_final_order']) {
    t.equal(await metric(kind), 1, kind)
  }

  const balances = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation/balances', headers: ta.auth('finance') })
  t.equal(balances.json().ok, false, 'the balances-only check still answers')
  t.same(balances.json().mismatches.map((m: { reseller_id: string }) => m.reseller_id), [buyer.id, other.id].sort())
})

t.test('supplier spend per day goes back as many days as asked', async (t) => {
  const res = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation?days=94', headers: ta.auth('finance') })
  t.equal(res.statusCode, 400)
  await ta.database.sql`update supplier_attempts set created_at = created_at - interval '3 days' where order_id = ${o.supplied!.id}`
  const recent = await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation?days=2', headers: ta.auth('finance') })
  t.same((recent.json() as Result).supplier_spend.map((s) => s.attempts), [1], 'the open attempt no longer counts; the moved one is outside 2 days')
  const week = (await ta.app.inject({ method: 'GET', url: '/admin/v1/reconciliation?days=7', headers: ta.auth('finance') })).json() as Result
  t.same(week.supplier_spend.map((s) => [s.supplier, s.attempts, s.amount]), [['sup-r', 1, 60], ['sup-r', 1, 60]])
  t.ok(week.supplier_spend[0]!.day > week.supplier_spend[1]!.day, 'newest day first')
})
