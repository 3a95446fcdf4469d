import { randomUUID } from 'node:crypto'
import type postgres from 'postgres'
import { writeAuditSql, type AuditActor } from '../db/repositories/audit-log.js'
import { hasSellableKeys } from '../db/repositories/card-keys.js'
import type { Fulfilment } from '../domain/catalog.js'
import type { ReviewRecord } from '../domain/risk/rules.js'
import { chooseRoutes, type Step, type SupplierHealth } from '../domain/routing/choose-routes.js'
import { GatewayError } from '../errors/gateway-error.js'
import { ORDER_COLUMNS, refund, toOrder, writeOutcomeEvent, type OrderRecord } from './orders.js'

export interface Review {
  actor: AuditActor
  reason: string | null
}

const REJECTED = { code: 'review_rejected', message: 'the order was refused in review' }

function record (review: Review, decision: ReviewRecord['decision']): string {
  const entry: ReviewRecord = { type: 'review', decision, by: review.actor.actorId, role: review.actor.actorRole, reason: review.reason, at: new Date().toISOString() }
  return JSON.stringify([entry])
}

/** Why the guarded update found nothing: no such order (404) or not held any more (409). */
async function notHeld (tx: postgres.TransactionSql, orderId: string): Promise<never> {
  const [row] = await tx<{ status: string }[]>`select status from orders where id = ${orderId}`
  if (!row) throw new GatewayError('not_found', { detail: `no order ${orderId}` })
  throw new GatewayError('invalid_state', { detail: `order ${orderId} is ${row.status}, not pending_review` })
}

/**
 * The plan an approved order will walk, as routing and stock stand now: the pool step only
 * while the pool holds the order's quantity (the engine sells the keys in its finishing
 * transaction), as acceptance decides. Empty: nothing can serve it now, and the order should
 * stay held rather than fail.
 */
export async function reviewPlan (sql: postgres.Sql, order: { sku: string, quantity: number }, health: Readonly<Record<string, SupplierHealth | undefined>>): Promise<Step[]> {
  const [row] = await sql<{ fulfilment: Fulfilment }[]>`select fulfilment from skus where sku = ${order.sku}`
  if (!row) return []
  const steps = chooseRoutes(row.fulfilment, health)
  if (!steps.some((s) => s.kind === 'card_pool') || await hasSellableKeys(sql, order.sku, order.quantity)) return steps
  return steps.filter((s) => s.kind !== 'card_pool')
}

/**
 * `pending_review` → `processing`, taking the fulfilment lease in the same guarded update
 * (so of two operators deciding at once, exactly one wins), with the review on the order
 * and in the audit log. The caller then drives the order with the returned token.
 */
export async function approveOrder (sql: postgres.Sql, orderId: string, review: Review, leaseMs: number): Promise<{ order: OrderRecord, leaseToken: string }> {
  const leaseToken = randomUUID()
  return await sql.begin(async (tx) => {
    const [row] = await tx.unsafe(`
      update orders set status = 'processing', lease_token = $2, lease_until = now() + $3 * interval '1 millisecond',
                        next_check_at = now() + $3 * interval '1 millisecond', risk = risk || $4::jsonb, updated_at = now()
      where id = $1 and status = 'pending_review'
      returning ${ORDER_COLUMNS}`, [orderId, leaseToken, leaseMs, record(review, 'approved')], { prepare: true })
    if (!row) return await notHeld(tx, orderId)
    await writeAuditSql(tx, review.actor, { action: 'order.approve', targetType: 'order', targetId: orderId, details: { reason: review.reason } })
    return { order: toOrder(row), leaseToken }
  })
}

/**
 * `pending_review` → `failed` (`review_rejected`) with the full refund, the review on the
 * order, the `order.failed` outbox row and the audit entry, all in one transaction.
 */
export async function rejectOrder (sql: postgres.Sql, orderId: string, review: Review, firstCallbackDelayMs: number): Promise<OrderRecord> {
  return await sql.begin(async (tx) => {
    const [row] = await tx.unsafe(`
      update orders set status = 'failed', failure = $2::jsonb, completed_at = now(), risk = risk || $3::jsonb, updated_at = now()
      where id = $1 and status = 'pending_review'
      returning ${ORDER_COLUMNS}`, [orderId, JSON.stringify(REJECTED), record(review, 'rejected')], { prepare: true })
    if (!row) return await notHeld(tx, orderId)
    const order = toOrder(row)
    await refund(tx, order)
    await writeOutcomeEvent(tx, order, [], firstCallbackDelayMs)
    await writeAuditSql(tx, review.actor, { action: 'order.reject', targetType: 'order', targetId: orderId, details: { reason: review.reason } })
    return order
  })
}
