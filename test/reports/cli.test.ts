import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { build, runCli, spawnGateway, testEnv, type TestApp } from '../helper.js'
import { createSupplier, directSku, fuluSim } from '../suppliers/helpers.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { place, readCsv, type OrderAnswer } from './helpers.js'

let ta: TestApp
let dir: string
let from: string
let to: string
const resellers: TestReseller[] = []
const orders: OrderAnswer[] = []
let codes: string[]

t.before(async () => {
  ta = await build(t, { ORDER_SYNC_WAIT_MS: '2000' })
  dir = await mkdtemp(join(tmpdir(), 'egw-reports-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const sim = await fuluSim(t, { badAccounts: ['nobody'] })
  await createSupplier(ta, 'sup-cli', sim.url)
  await directSku(ta, 'vid-cli', 250, { routes: [{ supplier: 'sup-cli', supplier_product_id: '1', cost: 200, priority: 1 }] })
  codes = await cardSku(ta, 'gc-cli', 300, 10)
  const [row] = await ta.database.sql<{ now: Date }[]>`select now() as now`
  from = new Date(row!.now).toISOString()
  for (let i = 0; i < 3; i++) resellers.push(await createReseller(ta, { name: `R${i}` }, 10_000))
  for (const [i, r] of resellers.entries()) {
    orders.push(await place(ta, r, `c-${i}-1`, 'gc-cli', {}, 2))
    orders.push(await place(ta, r, `c-${i}-2`, 'vid-cli', { account: `acct-${i}` }))
    orders.push(await place(ta, r, `c-${i}-3`, 'vid-cli', { account: 'nobody' }))
  }
  to = new Date(Date.parse(from) + 3_600_000).toISOString()
})

t.test('statements writes one CSV per reseller, the same as the API answers', async (t) => {
  const out = join(dir, 'statements')
  const res = await runCli(['statements', '--from', from, '--to', to, '--out', out], testEnv(ta.databaseUrl))
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, new RegExp(`^wrote 3 statement\\(s\\) for ${from.replace(/\./g, '\\.')} to ${to.replace(/\./g, '\\.')} into ${out} \\(15 movements, [\\d.]+ s\\)\\n$`))
  t.notMatch(res.stderr, /[\r\x1b]/, 'no progress line when stderr is not a terminal')
  t.same((await readdir(out)).sort(), resellers.map((r) => `${r.id}.csv`).sort())
  for (const r of resellers) {
    const api = await ta.app.inject({ method: 'GET', url: `/admin/v1/resellers/${r.id}/statement?from=${from}&to=${to}`, headers: { ...ta.auth('finance'), accept: 'text/csv' } })
    t.equal(await readFile(join(out, `${r.id}.csv`), 'utf8'), api.body, `${r.id}: byte for byte the API's CSV`)
    const live = (await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: r.bearer })).json() as { available: number }
    t.equal(readCsv(api.body).at(-1)?.[7], String(live.available), 'closing balance = live balance')
  }

  const one = await runCli(['statements', '--from', from, '--to', to, '--reseller', resellers[1]!.id, '--out', join(dir, 'one')], testEnv(ta.databaseUrl))
  t.equal(one.code, 0, one.stderr)
  t.same(await readdir(join(dir, 'one')), [`${resellers[1]!.id}.csv`])
  const unknown = await runCli(['statements', '--from', from, '--to', to, '--reseller', 'rsl_nobody', '--out', join(dir, 'none')], testEnv(ta.databaseUrl))
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /error: no reseller rsl_nobody/)
  t.same(await readdir(join(dir, 'none')), [], 'no partial file left behind')
  const backwards = await runCli(['statements', '--from', to, '--to', from, '--out', out], testEnv(ta.databaseUrl))
  t.equal(backwards.code, 64)
  t.match(backwards.stderr, /--to: must be after from/)
  const noOut = await runCli(['statements', '--from', from, '--to', to], testEnv(ta.databaseUrl))
  t.equal(noOut.code, 64)
  t.match(noOut.stderr, /--out DIR is required/)
})

t.test('orders export streams the period\'s orders as CSV, without recipients or codes', async (t) => {
  const file = join(dir, 'orders.csv')
  const res = await runCli(['orders', 'export', '--from', from, '--to', to, '--out', file], testEnv(ta.databaseUrl))
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /^exported 9 order\(s\) placed from \S+ to \S+ into \S+orders\.csv \([\d.]+ s, \d+ orders\/s\)\n$/)
  const text = await readFile(file, 'utf8')
  const [header, ...records] = readCsv(text)
  t.same(header, ['id', 'client_order_id', 'reseller_id', 'sku', 'quantity', 'unit_price', 'amount', 'currency', 'status', 'failure_code', 'supplier', 'cost', 'created_at', 'completed_at'])
  t.same(records.map((r) => r[0]), orders.map((o) => o.id).sort(), 'every order of the period, oldest id first')
  const byId = new Map(records.map((r) => [r[0], r]))
  for (const order of orders) {
    const r = byId.get(order.id)!
    t.same([r[6], r[7], r[8], r[12], r[13]], [String(order.amount), order.currency, order.status, order.created_at, order.completed_at ?? ''], order.id)
  }
  t.same(records.filter((r) => r[3] === 'gc-cli').map((r) => [r[10], r[11]]), [['card_pool', '300'], ['card_pool', '300'], ['card_pool', '300']], 'two keys at 150')
  t.same(new Set(records.filter((r) => r[3] === 'vid-cli').map((r) => `${r[8]} ${r[9]} ${r[10]} ${r[11]}`)),
    new Set(['succeeded  sup-cli 200', 'failed recipient_invalid  0']))
  for (const secret of [...codes, 'acct-0', 'nobody']) t.notOk(text.includes(secret), 'no code or recipient in the export')

  const empty = await runCli(['orders', 'export', '--from', '2020-01-01T00:00:00Z', '--to', '2020-02-01T00:00:00Z', '--out', join(dir, 'empty.csv')], testEnv(ta.databaseUrl))
  t.equal(empty.code, 0, empty.stderr)
  t.match(empty.stdout, /^exported 0 order\(s\)/)
  t.equal((await readFile(join(dir, 'empty.csv'), 'utf8')).split('\r\n').length, 2, 'the header alone')
  const tooLong = await runCli(['orders', 'export', '--from', '2020-01-01T00:00:00Z', '--to', '2021-06-01T00:00:00Z', '--out', file], testEnv(ta.databaseUrl))
  t.equal(tooLong.code, 64)
  t.match(tooLong.stderr, /--to: at most 366 days after from/)
})

t.test('reconcile exits 0 when clean and 2 with the findings listed', async (t) => {
  const clean = await runCli(['reconcile'], testEnv(ta.databaseUrl))
  t.equal(clean.code, 0, clean.stderr)
  t.match(clean.stdout, /^spend\t\d{4}-\d\d-\d\d\tsup-cli\tCNY 600 in 3 attempt\(s\)\nclean: no findings \(checked \S+\)\n$/)

  const [entry] = await ta.database.sql<{ id: string, reseller_id: string }[]>`select id, reseller_id from ledger_entries where kind = 'adjustment' order by id limit 1`
  await ta.database.sql`update ledger_entries set amount = amount + 5 where id = ${entry!.id}`
  const found = await runCli(['reconcile'], testEnv(ta.databaseUrl))
  t.equal(found.code, 2, found.stderr)
  t.match(found.stdout, `balance_mismatch\t${entry!.reseller_id}\tbuckets sum to 9150, ledger to 9155\n`)
  t.match(found.stdout, /\n1 finding\(s\): balance_mismatch 1 \(checked \S+\)\n$/)
  const json = await runCli(['reconcile', '--json', '--days', '3'], testEnv(ta.databaseUrl))
  t.equal(json.code, 2)
  t.match(JSON.parse(json.stdout), { ok: false, counts: { balance_mismatch: 1, order_past_sla: 0 }, findings: [{ kind: 'balance_mismatch', subject: entry!.reseller_id }] })
  t.equal((await runCli(['reconcile', '--days', '0'], testEnv(ta.databaseUrl))).code, 64)
  await ta.database.sql`update ledger_entries set amount = amount - 5 where id = ${entry!.id}`
})

t.test('a gateway with WORKERS on runs the reconciliation job and exports its gauges', async (t) => {
  await ta.database.sql`update orders set created_at = now() - interval '2 hours' where id = ${orders[0]!.id}`
  const gw = await spawnGateway(t, testEnv(ta.databaseUrl, { LOG_LEVEL: 'info', WORKERS: 'true', ORDER_SLA_MS: '1000', RECONCILE_REPORT_INTERVAL_MS: '1000' }))
  // The first run starts with the process; a scrape before it ends has no findings yet.
  let text = ''
  for (let i = 0; i < 100 && !text.includes('reconciliation_findings{'); i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100))
    text = await (await fetch(`${gw.url}/metrics`)).text()
  }
  t.match(text, 'reconciliation_findings{kind="balance_mismatch"} 0')
  t.match(text, 'reconciliation_findings{kind="order_past_sla"} 0', 'a succeeded order is never past its SLA')
  t.match(text, 'reconciliation_supplier_spend_today_minor{supplier="sup-cli",currency="CNY"} 600')
})
