import type postgres from 'postgres'
import type { Period } from './period.js'

export const GROUP_BY = ['reseller', 'sku', 'supplier'] as const
export type GroupBy = typeof GROUP_BY[number]

/** Pool sales, in `group_by=supplier`: the card pool stands where a supplier would. */
export const CARD_POOL = 'card_pool'

/**
 * Per order `o`: the supplier that delivered it (`sa.supplier_id`, the succeeded attempt)
 * and what fulfilling it cost us: the succeeded attempt's cost (what that supplier charges
 * for the whole order) plus the batch unit cost of every pool key sold to it. A key voided
 * after the sale still cost what it cost.
 */
export const FULFILMENT_JOINS = `
  left join lateral (
    select min(a.supplier_id) as supplier_id, sum(a.cost) as cost
    from supplier_attempts a where a.order_id = o.id and a.status = 'succeeded'
  ) sa on true
  left join lateral (
    select count(*) as keys, sum(b.unit_cost) as cost
    from card_keys k join card_key_batches b on b.id = k.batch_id where k.order_id = o.id
  ) pk on true`

/** Who delivered: the supplier of the succeeded attempt, else the pool when keys were sold, else null. */
export const DELIVERED_BY = `coalesce(sa.supplier_id, case when pk.keys > 0 then '${CARD_POOL}' end)`
export const FULFILMENT_COST = '(coalesce(sa.cost, 0) + coalesce(pk.cost, 0))'

const GROUP_EXPRESSION: Record<GroupBy, string> = {
  reseller: 'o.reseller_id',
  sku: 'o.sku',
  supplier: DELIVERED_BY
}

export interface SettlementFigures {
  currency: string
  orders: number
  succeeded: number
  failed: number
  revenue: number
  cost: number
  margin: number
  refunds: number
}

export interface SettlementRow extends SettlementFigures {
  group: string | null
}

export interface SettlementReport {
  rows: SettlementRow[]
  totals: SettlementFigures[]
}

/**
 * Settlement for `[from, to)`, per group and currency (amounts are never added across
 * currencies). Each figure has one clock, so a closed period's report never changes:
 * - `orders`: orders placed in the period (`created_at`);
 * - `succeeded`, `failed`: orders that reached that state in the period (`completed_at`);
 * - `revenue`, `cost`, `margin`: of the orders that succeeded in the period;
 * - `refunds`: `order_refund` ledger entries written in the period (a failed order is
 *   refunded in the transaction that fails it, so with the same time as its completed_at).
 */
export async function settlementReport (sql: postgres.Sql, period: Period, groupBy: GroupBy): Promise<SettlementReport> {
  const from = period.from.toISOString()
  const to = period.to.toISOString()
  const rows = await sql<{ grp: string | null, currency: string, orders: string, succeeded: string, failed: string, revenue: string, cost: string, refunds: string }[]>`
    with refunds as (
      select order_id, sum(amount) as amount from ledger_entries
      where kind = 'order_refund' and created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz
      group by order_id
    ), facts as (
      select ${sql.unsafe(GROUP_EXPRESSION[groupBy])} as grp, o.currency, o.amount, coalesce(r.amount, 0) as refunds,
             (o.created_at >= ${from}::timestamptz and o.created_at < ${to}::timestamptz) as placed,
             (o.completed_at >= ${from}::timestamptz and o.completed_at < ${to}::timestamptz and o.status = 'succeeded') as succeeded,
             (o.completed_at >= ${from}::timestamptz and o.completed_at < ${to}::timestamptz and o.status = 'failed') as failed,
             ${sql.unsafe(FULFILMENT_COST)} as cost
      from orders o
      left join refunds r on r.order_id = o.id
      ${sql.unsafe(FULFILMENT_JOINS)}
      where (o.created_at >= ${from}::timestamptz and o.created_at < ${to}::timestamptz)
         or (o.completed_at >= ${from}::timestamptz and o.completed_at < ${to}::timestamptz)
         or r.order_id is not null
    )
    select grp, currency,
           count(*) filter (where placed) as orders,
           count(*) filter (where succeeded) as succeeded,
           count(*) filter (where failed) as failed,
           coalesce(sum(amount) filter (where succeeded), 0) as revenue,
           coalesce(sum(cost) filter (where succeeded), 0) as cost,
           sum(refunds) as refunds
    from facts
    group by grp, currency
    order by grp nulls last, currency`
  const report: SettlementReport = { rows: [], totals: [] }
  const totals = new Map<string, SettlementFigures>()
  for (const r of rows) {
    const revenue = Number(r.revenue)
    const cost = Number(r.cost)
    const row: SettlementRow = {
      group: r.grp, currency: r.currency, orders: Number(r.orders), succeeded: Number(r.succeeded), failed: Number(r.failed),
      revenue, cost, margin: revenue - cost, refunds: Number(r.refunds)
    }
    report.rows.push(row)
    const total = totals.get(row.currency) ?? { currency: row.currency, orders: 0, succeeded: 0, failed: 0, revenue: 0, cost: 0, margin: 0, refunds: 0 }
    for (const k of ['orders', 'succeeded', 'failed', 'revenue', 'cost', 'margin', 'refunds'] as const) total[k] += row[k]
    totals.set(row.currency, total)
  }
  report.totals = [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency))
  return report
}
