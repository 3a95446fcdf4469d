import t from 'tap'
import { build, type TestApp } from '../helper.js'
import { createSupplier, directSku, fuluSim } from '../suppliers/helpers.js'
import { cardSku, createReseller, type TestReseller } from '../v1/helpers.js'
import { place, readCsv } from './helpers.js'

interface Movement { id: string, kind: string, amount: number, currency: string, order_id: string | null, reason: string | null, created_at: string, balance_after: number }
interface Statement { reseller_id: string, currency: string, from: string, to: string, opening_balance: number, closing_balance: number, movement_count: number, data: Movement[], next_cursor: string | null }

let ta: TestApp
let buyer: TestReseller
let other: TestReseller
let start: string
let mid: string
let end: string

const dbNow = async (): Promise<string> => {
  const [row] = await ta.database.sql<{ now: Date }[]>`select clock_timestamp() as now`
  return new Date(row!.now).toISOString()
}

const adjust = async (r: TestReseller, amount: number, reason: string): Promise<void> => {
  const res = await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${r.id}/balance-adjustments`, headers: ta.auth('finance'), payload: { amount, reason } })
  if (res.statusCode !== 201) throw new Error(res.body)
}

t.before(async () => {
  ta = await build(t, { ORDER_SYNC_WAIT_MS: '2000' })
  const sim = await fuluSim(t, { badAccounts: ['nobody'] })
  await createSupplier(ta, 'sup-st', sim.url)
  await directSku(ta, 'vid-st', 250, { routes: [{ supplier: 'sup-st', supplier_product_id: '1', cost: 200, priority: 1 }] })
  await cardSku(ta, 'gc-st', 300, 10)
  start = await dbNow()
  buyer = await createReseller(ta, {}, 10_000)
  other = await createReseller(ta, {}, 5_000)
  await place(ta, buyer, 's-1', 'gc-st')
  await place(ta, other, 'o-1', 'gc-st')
  await new Promise((resolve) => setTimeout(resolve, 5))
  mid = await dbNow()
  await new Promise((resolve) => setTimeout(resolve, 5))
  await place(ta, buyer, 's-2', 'vid-st', { account: '13800138000' })
  await place(ta, buyer, 's-3', 'vid-st', { account: 'nobody' }) // debited, then refunded
  await adjust(buyer, -120, 'correction, ticket "42", see notes')
  await place(ta, buyer, 's-4', 'gc-st', {}, 3)
  await adjust(buyer, 7_000, 'top-up\nsecond line')
  end = new Date(Date.parse(await dbNow()) + 3_600_000).toISOString()
})

const get = async (url: string, headers: Record<string, string>) => await ta.app.inject({ method: 'GET', url, headers })

t.test('the closing balance of a period reaching now equals the live balance', async (t) => {
  for (const [r, label] of [[buyer, 'buyer'], [other, 'other']] as const) {
    const res = await get(`/admin/v1/resellers/${r.id}/statement?from=${start}&to=${end}`, ta.auth('finance'))
    t.equal(res.statusCode, 200, res.body)
    const live = (await get('/v1/balance', r.bearer)).json() as { available: number }
    t.equal((res.json() as Statement).closing_balance, live.available, `${label}: closing = GET /v1/balance`)
    t.equal((res.json() as Statement).opening_balance, 0, `${label}: nothing before the reseller existed`)
  }
})

t.test('opening, movements and closing chain up, across periods and pages', async (t) => {
  const first = (await get(`/admin/v1/resellers/${buyer.id}/statement?from=${start}&to=${mid}`, ta.auth('finance'))).json() as Statement
  t.match(first, { reseller_id: buyer.id, currency: 'CNY', opening_balance: 0, closing_balance: 10_000 - 300, movement_count: 2 })
  t.same(first.data.map((m) => [m.kind, m.amount, m.balance_after]), [['adjustment', 10_000, 10_000], ['order_debit', -300, 9_700]])

  // The second period, two movements a page: the pages add up to the statement.
  const pages: Movement[] = []
  let cursor: string | null = null
  let summary: Statement | undefined
  do {
    const res = await get(`/admin/v1/resellers/${buyer.id}/statement?from=${mid}&to=${end}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, ta.auth('finance'))
    t.equal(res.statusCode, 200, res.body)
    summary = res.json() as Statement
    t.ok(summary.data.length <= 2)
    pages.push(...summary.data)
    cursor = summary.next_cursor
  } while (cursor !== null)
  t.equal(summary.opening_balance, first.closing_balance, 'opening = closing of the period before')
  t.equal(summary.movement_count, pages.length)
  t.same(pages.map((m) => [m.kind, m.amount]), [
    ['order_debit', -250], ['order_debit', -250], ['order_refund', 250], ['adjustment', -120], ['order_debit', -900], ['adjustment', 7_000]
  ])
  let balance = summary.opening_balance
  for (const m of pages) {
    balance += m.amount
    t.equal(m.balance_after, balance, `balance after entry ${m.id}`)
  }
  t.equal(summary.closing_balance, balance, 'closing = opening + movements')
  t.ok(pages.every((m) => m.created_at >= mid && m.created_at < end))
})

t.test('CSV: the whole period, with opening and closing lines, quoted where needed', async (t) => {
  const url = `/admin/v1/resellers/${buyer.id}/statement?from=${mid}&to=${end}`
  const json = (await get(`${url}&limit=200`, ta.auth('finance'))).json() as Statement
  const res = await get(url, { ...ta.auth('finance'), accept: 'text/csv' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/csv/)
  t.match(res.body, /"correction, ticket ""42"", see notes"/, 'a comma and quotes are quoted')
  t.match(res.body, /"top-up\nsecond line"/, 'a line break is quoted')
  const records = readCsv(res.body.replace('top-up\nsecond line', 'top-up second line'))
  t.same(records[0], ['id', 'created_at', 'kind', 'order_id', 'reason', 'amount', 'currency', 'balance_after'])
  t.same(records[1], ['', mid, 'opening_balance', '', '', '', 'CNY', String(json.opening_balance)])
  t.same(records.slice(2, -1).map((r) => [r[0], r[2], r[5], r[7]]), json.data.map((m) => [m.id, m.kind, String(m.amount), String(m.balance_after)]))
  t.same(records.at(-1), ['', end, 'closing_balance', '', '', '', 'CNY', String(json.closing_balance)])
})

t.test('a reseller reads its own statement at /v1/statement', async (t) => {
  const own = await get(`/v1/statement?from=${start}&to=${end}&limit=200`, buyer.bearer)
  t.equal(own.statusCode, 200, own.body)
  const admin = await get(`/admin/v1/resellers/${buyer.id}/statement?from=${start}&to=${end}&limit=200`, ta.auth('finance'))
  t.same(own.json(), admin.json())
  const csv = await get(`/v1/statement?from=${start}&to=${end}`, { ...other.bearer, accept: 'text/csv' })
  t.match(csv.body, /closing_balance,,,,CNY,4700\r\n$/)
  t.notMatch(csv.body, new RegExp(buyer.id), 'only its own movements')
})

t.test('unknown reseller 404, bad period 400, finance and admin only', async (t) => {
  const missing = await get(`/admin/v1/resellers/rsl_00000000000000000000000000/statement?from=${start}&to=${end}`, ta.auth('finance'))
  t.equal(missing.statusCode, 404)
  const backwards = await get(`/admin/v1/resellers/${buyer.id}/statement?from=${end}&to=${start}`, ta.auth('finance'))
  t.match(backwards.json(), { status: 400, code: 'invalid_request', errors: [{ path: 'querystring.to', message: 'must be after from' }] })
  const badCursor = await get(`/admin/v1/resellers/${buyer.id}/statement?from=${start}&to=${end}&cursor=nope`, ta.auth('finance'))
  t.equal(badCursor.statusCode, 400)
  for (const role of ['ops', 'support'] as const) {
    t.equal((await get(`/admin/v1/resellers/${buyer.id}/statement?from=${start}&to=${end}`, ta.auth(role))).statusCode, 403, role)
  }
})
