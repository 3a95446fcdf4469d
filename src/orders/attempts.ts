import type postgres from 'postgres'
import type { TxSql } from '../db/pipelined.js'
import type { Route } from '../domain/routing/choose-routes.js'

export interface NewAttempt {
  id: string
  route: Route
  quantity: number
}

/**
 * The attempt row, `submitting`, written before its supplier call so that a crash mid-call
 * leaves something to query. One row per order id that `orders` yields (the order itself,
 * or none when a guard on it failed). created_at is the clock at the insert, not the
 * transaction's start: purchase-limit windows count it.
 */
export function insertAttempt (sql: TxSql | postgres.Sql, attempt: NewAttempt, orders: postgres.PendingQuery<postgres.Row[]>): postgres.PendingQuery<postgres.Row[]> {
  return sql`
    insert into supplier_attempts (id, order_id, supplier_id, supplier_product_id, cost, status, created_at)
    select ${attempt.id}, id, ${attempt.route.supplier}, ${attempt.route.supplier_product_id}, ${attempt.route.cost * attempt.quantity}, 'submitting', clock_timestamp()
    from ${orders}
    returning id`
}
