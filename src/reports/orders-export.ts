import type postgres from 'postgres'
import { toDate } from '../db/timestamps.js'
import { csvRecord, csvRow } from './csv.js'
import type { Period } from './period.js'
import { DELIVERED_BY, FULFILMENT_COST, FULFILMENT_JOINS } from './settlement.js'

/** What an order export holds: no recipient, no codes, nothing secret. */
export const ORDER_EXPORT_COLUMNS = [
  'id', 'client_order_id', 'reseller_id', 'sku', 'quantity', 'unit_price', 'amount', 'currency', 'status', 'failure_code',
  'supplier', 'cost', 'created_at', 'completed_at'
] as const

const BATCH = 1000

/** Orders placed in the period (by `created_at`). */
export async function countOrders (sql: postgres.Sql, period: Period): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    select count(*) as n from orders where created_at >= ${period.from.toISOString()}::timestamptz and created_at < ${period.to.toISOString()}::timestamptz`
  return Number(row?.n ?? 0)
}

/**
 * The orders placed in the period as CSV lines, header first, oldest id first. Read in
 * batches of 1,000 with the last id as the cursor (no transaction or server-side cursor held
 * open), so memory stays flat and the export never blocks vacuum however long it runs.
 */
export async function * exportOrders (sql: postgres.Sql, period: Period): AsyncGenerator<string> {
  yield csvRecord(ORDER_EXPORT_COLUMNS)
  let after = ''
  for (;;) {
    const rows = await sql<{ id: string, client_order_id: string, reseller_id: string, sku: string, quantity: number, unit_price: string, amount: string, currency: string, status: string, failure_code: string | null, supplier: string | null, cost: string, created_at: unknown, completed_at: unknown }[]>`
      select o.id, o.client_order_id, o.reseller_id, o.sku, o.quantity, o.unit_price, o.amount, o.currency, o.status,
             o.failure->>'code' as failure_code, ${sql.unsafe(DELIVERED_BY)} as supplier, ${sql.unsafe(FULFILMENT_COST)} as cost,
             o.created_at, o.completed_at
      from orders o
      ${sql.unsafe(FULFILMENT_JOINS)}
      where o.created_at >= ${period.from.toISOString()}::timestamptz and o.created_at < ${period.to.toISOString()}::timestamptz and o.id > ${after}
      order by o.id limit ${BATCH}`
    for (const r of rows) {
      yield csvRow(ORDER_EXPORT_COLUMNS, {
        ...r, unit_price: Number(r.unit_price), amount: Number(r.amount), cost: Number(r.cost),
        created_at: toDate(r.created_at)?.toISOString(), completed_at: toDate(r.completed_at)?.toISOString()
      })
    }
    if (rows.length < BATCH) return
    after = rows[rows.length - 1]?.id ?? after
  }
}
