import type postgres from 'postgres'
import { toDate } from '../db/timestamps.js'
import { csvRecord, csvRow } from './csv.js'
import type { Period } from './period.js'
import { serialId } from '../domain/ids.js'

/**
 * A reseller's statement for `[from, to)`, from the ledger alone: the opening balance is
 * the sum of every entry written before `from`, the movements are the entries written in
 * the period (by `created_at`, listed in ledger order), and the closing balance is the
 * opening plus the movements. For a period that ends now or later, the closing balance is
 * the live balance whenever the balance reconciles with its ledger.
 */
export interface StatementSummary {
  resellerId: string
  currency: string
  opening: number
  closing: number
  movements: number
}

export interface Movement {
  id: number
  kind: 'adjustment' | 'order_debit' | 'order_refund'
  amount: number
  currency: string
  orderId: string | null
  reason: string | null
  createdAt: Date
  /** The balance after this entry, counting from the opening balance in ledger order. */
  balanceAfter: number
}

/** Opening, closing and the number of movements, read in one statement (one snapshot). */
export async function statementSummary (sql: postgres.Sql, resellerId: string, period: Period): Promise<StatementSummary | undefined> {
  const from = period.from.toISOString()
  const to = period.to.toISOString()
  const [row] = await sql<{ currency: string, opening: string, moved: string, movements: string }[]>`
    select r.currency,
           coalesce((select sum(amount) from ledger_entries where reseller_id = r.id and created_at < ${from}::timestamptz), 0) as opening,
           coalesce(p.moved, 0) as moved, p.movements
    from resellers r,
         lateral (select sum(amount) as moved, count(*) as movements from ledger_entries
                  where reseller_id = r.id and created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz) p
    where r.id = ${resellerId}`
  if (!row) return undefined
  const opening = Number(row.opening)
  return { resellerId, currency: row.currency, opening, closing: opening + Number(row.moved), movements: Number(row.movements) }
}

interface LedgerRow { id: string, kind: Movement['kind'], amount: string, currency: string, order_id: string | null, reason: string | null, created_at: unknown }

async function movementsAfter (sql: postgres.Sql, resellerId: string, period: Period, afterId: number, limit: number): Promise<LedgerRow[]> {
  return await sql<LedgerRow[]>`
    select id, kind, amount, currency, order_id, reason, created_at from ledger_entries
    where reseller_id = ${resellerId} and id > ${afterId}
      and created_at >= ${period.from.toISOString()}::timestamptz and created_at < ${period.to.toISOString()}::timestamptz
    order by id limit ${limit}`
}

function withBalances (rows: LedgerRow[], before: number): Movement[] {
  let balance = before
  return rows.map((r) => {
    balance += Number(r.amount)
    return {
      id: Number(r.id), kind: r.kind, amount: Number(r.amount), currency: r.currency, orderId: r.order_id, reason: r.reason,
      createdAt: toDate(r.created_at) as Date, balanceAfter: balance
    }
  })
}

/** One page of movements after ledger entry `afterId` (0: from the start of the period). */
export async function statementPage (sql: postgres.Sql, summary: StatementSummary, period: Period, afterId: number, limit: number): Promise<Movement[]> {
  const [rows, [before]] = await Promise.all([
    movementsAfter(sql, summary.resellerId, period, afterId, limit),
    sql<{ moved: string }[]>`
      select coalesce(sum(amount), 0) as moved from ledger_entries
      where reseller_id = ${summary.resellerId} and id <= ${afterId}
        and created_at >= ${period.from.toISOString()}::timestamptz and created_at < ${period.to.toISOString()}::timestamptz`
  ])
  return withBalances(rows, summary.opening + Number(before?.moved ?? 0))
}

export const STATEMENT_COLUMNS = ['id', 'created_at', 'kind', 'order_id', 'reason', 'amount', 'currency', 'balance_after'] as const

const BATCH = 1000

/**
 * The statement as CSV lines: a header, an `opening_balance` line at `from`, every movement
 * with the balance after it, and a `closing_balance` line at `to`. Read in batches along the
 * ledger index, so memory stays flat however long the period; the closing line is the
 * opening plus the lines above it.
 */
export async function * statementCsv (sql: postgres.Sql, summary: StatementSummary, period: Period): AsyncGenerator<string> {
  yield csvRecord(STATEMENT_COLUMNS)
  const edge = (kind: string, at: Date, balance: number) =>
    csvRow(STATEMENT_COLUMNS, { id: null, created_at: at.toISOString(), kind, order_id: null, reason: null, amount: null, currency: summary.currency, balance_after: balance })
  yield edge('opening_balance', period.from, summary.opening)
  let balance = summary.opening
  let afterId = 0
  for (;;) {
    const rows = await movementsAfter(sql, summary.resellerId, period, afterId, BATCH)
    for (const m of withBalances(rows, balance)) {
      yield csvRow(STATEMENT_COLUMNS, {
        id: serialId('led', m.id), created_at: m.createdAt.toISOString(), kind: m.kind, order_id: m.orderId, reason: m.reason,
        amount: m.amount, currency: m.currency, balance_after: m.balanceAfter
      })
      balance = m.balanceAfter
      afterId = m.id
    }
    if (rows.length < BATCH) break
  }
  yield edge('closing_balance', period.to, balance)
}

export async function countResellers (sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*) as n from resellers`
  return Number(row?.n ?? 0)
}

/** Every reseller id in order, read a page at a time. */
export async function * resellerIds (sql: postgres.Sql): AsyncGenerator<string> {
  let after = ''
  for (;;) {
    const rows = await sql<{ id: string }[]>`select id from resellers where id > ${after} order by id limit 500`
    for (const r of rows) yield r.id
    if (rows.length < 500) return
    after = rows[rows.length - 1]?.id ?? after
  }
}
