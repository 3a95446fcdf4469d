import t from 'tap'
import { build, type TestApp } from '../helper.js'
import { createSupplier, fuluSim } from '../suppliers/helpers.js'
import { until } from '../webhooks/helpers.js'
import { alertWarnings, firedTimes, isFiring } from './helpers.js'

/** One balance poll that actually asked the supplier (the interval is 10 ms here). */
const poll = async (ta: TestApp): Promise<void> => { await until(async () => (await ta.app.ops.checkSupplierBalances()) === 1, 10_000) }

const balanceCalls = async (apps: TestApp[], supplier: string): Promise<number> => {
  let n = 0
  for (const a of apps) {
    const metric = await a.app.deps.metrics.registry.getSingleMetric('supplier_call_duration_seconds')?.get()
    n += (metric?.values as { metricName?: string, labels: Record<string, unknown>, value: number }[] | undefined)
      ?.filter((v) => v.metricName === 'supplier_call_duration_seconds_count' && v.labels.supplier === supplier && v.labels.operation === 'balance')
      .reduce((s, v) => s + v.value, 0) ?? 0
  }
  return n
}

t.test('supplier_low_balance fires once per crossing, from any of two processes', async (t) => {
  const env = { SUPPLIER_BALANCE_INTERVAL_MS: '10' }
  const a = await build(t, env)
  const b = await build(t, env, { databaseUrl: a.databaseUrl })
  const sim = await fuluSim(t, { balance: '100.00' })
  await createSupplier(a, 'bal-a', sim.url, { low_balance_threshold: 5000 })
  await b.app.suppliers.reload()

  await poll(a)
  const read = await a.app.inject({ method: 'GET', url: '/admin/v1/suppliers/bal-a', headers: a.auth('ops') })
  t.match(read.json(), { low_balance_threshold: 5000, balance: { amount: 10000, currency: 'CNY', checked_at: String } })
  t.notOk(await isFiring(a, 'supplier_low_balance', 'bal-a'), 'above the threshold: nothing')

  sim.knobs.balance = '40.00'
  await poll(b)
  t.ok(await isFiring(a, 'supplier_low_balance', 'bal-a'))
  await firedTimes(t, [a, b], 'supplier_low_balance', 'bal-a', 1, 'crossed')
  const [line] = alertWarnings([a, b], 'supplier_low_balance', 'bal-a')
  t.match(line, { severity: 'warning', details: { balance: 4000, currency: 'CNY', threshold: 5000 } })
  t.notOk(JSON.stringify(line).includes('0123456789abcdef'), 'no credential in the warning')

  for (let i = 0; i < 3; i++) {
    await poll(a)
    await poll(b)
  }
  await firedTimes(t, [a, b], 'supplier_low_balance', 'bal-a', 1, 'still below, polled six more times by two processes')

  sim.knobs.balance = '80.00'
  await poll(a)
  t.notOk(await isFiring(a, 'supplier_low_balance', 'bal-a'), 'cleared above the threshold')
  const [cleared] = await a.database.sql`select severity from ops_events where kind = 'supplier_low_balance' order by id desc limit 1`
  t.equal(cleared?.severity, 'info', 'the recovery is an info event')
  await firedTimes(t, [a, b], 'supplier_low_balance', 'bal-a', 1, 'cleared')

  sim.knobs.balance = '0.00'
  await poll(b)
  await poll(a)
  await firedTimes(t, [a, b], 'supplier_low_balance', 'bal-a', 2, 're-crossed')
  const [again] = await a.database.sql`select severity from ops_events where kind = 'supplier_low_balance' and severity <> 'info' order by id desc limit 1`
  t.equal(again?.severity, 'critical', 'an empty wallet is critical')
})

t.test('a new threshold is judged at once against the balance already read; null clears', async (t) => {
  const ta = await build(t, { SUPPLIER_BALANCE_INTERVAL_MS: '10' })
  const sim = await fuluSim(t, { balance: '30.00' })
  await createSupplier(ta, 'bal-p', sim.url)
  await poll(ta)
  t.notOk(await isFiring(ta, 'supplier_low_balance', 'bal-p'), 'no threshold, no alert')
  const raised = await ta.app.inject({ method: 'PATCH', url: '/admin/v1/suppliers/bal-p', headers: ta.auth('ops'), payload: { low_balance_threshold: 5000 } })
  t.equal(raised.statusCode, 200)
  t.match(raised.json(), { low_balance_threshold: 5000, balance: { amount: 3000 } })
  t.ok(await isFiring(ta, 'supplier_low_balance', 'bal-p'))
  const [audit] = await ta.database.sql`select details from audit_log where action = 'supplier.update' order by id desc limit 1`
  t.same(audit?.details, { changed: ['low_balance_threshold'], low_balance_threshold: 5000 })
  await ta.app.inject({ method: 'PATCH', url: '/admin/v1/suppliers/bal-p', headers: ta.auth('ops'), payload: { low_balance_threshold: null } })
  t.notOk(await isFiring(ta, 'supplier_low_balance', 'bal-p'))
  const bad = await ta.app.inject({ method: 'PATCH', url: '/admin/v1/suppliers/bal-p', headers: ta.auth('ops'), payload: { low_balance_threshold: -1 } })
  t.equal(bad.statusCode, 400)
})

t.test('each supplier is asked once per interval however many processes poll; a failed poll is retried', async (t) => {
  const a = await build(t, { SUPPLIER_BALANCE_INTERVAL_MS: '3600000' })
  const b = await build(t, { SUPPLIER_BALANCE_INTERVAL_MS: '3600000' }, { databaseUrl: a.databaseUrl })
  const sim = await fuluSim(t, { balance: '12.34' })
  await createSupplier(a, 'bal-c', sim.url, { low_balance_threshold: 100 })
  await createSupplier(a, 'bal-off', sim.url, { enabled: false })
  await b.app.suppliers.reload()
  const polled = await Promise.all([a.app.ops.checkSupplierBalances(), b.app.ops.checkSupplierBalances(), a.app.ops.checkSupplierBalances()])
  t.equal(polled.reduce((s, n) => s + n, 0), 1, 'one claim between them')
  t.equal(await balanceCalls([a, b], 'bal-c'), 1, 'one balance call reached the supplier')
  t.equal(await balanceCalls([a, b], 'bal-off'), 0, 'disabled instances are not asked')
  t.equal(await b.app.ops.checkSupplierBalances(), 0, 'not due again within the interval')
  const [stored] = await a.database.sql<{ balance: string, checked: string }[]>`select balance, balance_checked_at::text as checked from suppliers where id = 'bal-c'`
  t.equal(Number(stored?.balance), 1234)

  // Due again, but the supplier fails: the stored balance and its time stay as they were.
  await a.database.sql`update suppliers set balance_checked_at = balance_checked_at - interval '2 hours' where id = 'bal-c'`
  const [due] = await a.database.sql<{ checked: string }[]>`select balance_checked_at::text as checked from suppliers where id = 'bal-c'`
  sim.knobs.httpStatus = 502
  t.equal(await a.app.ops.checkSupplierBalances(), 1)
  const [after] = await a.database.sql<{ balance: string, checked: string }[]>`select balance, balance_checked_at::text as checked from suppliers where id = 'bal-c'`
  t.same(after, { balance: stored?.balance, checked: due?.checked }, 'balance and checked_at unchanged')
  t.match(a.logs.text(), /"operation":"balance","outcome":"failed"/)
  sim.knobs.httpStatus = null
  sim.knobs.balance = '0.50'
  t.equal(await b.app.ops.checkSupplierBalances(), 1, 'still due, so the next poll asks again')
  t.ok(await isFiring(a, 'supplier_low_balance', 'bal-c'))
})
