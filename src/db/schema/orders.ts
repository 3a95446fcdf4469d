import { sql } from 'drizzle-orm'
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'
import { ORDER_STATUSES } from '../../domain/orders/status.js'
import { amountMinor, bytea, createdAt, updatedAt } from './_columns.js'
import { resellers } from './resellers.js'
import { skus } from './skus.js'

export const orderStatus = pgEnum('order_status', ORDER_STATUSES)

/**
 * What a reseller asked for, and how it ended. Fulfilment tries (supplier attempts, pool
 * allocations) hang off it; an order never changes what was asked.
 */
export const orders = pgTable('orders', {
  id: text('id').primaryKey(),
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  clientOrderId: text('client_order_id').notNull(),
  /** SHA-256 of the canonical request: a replay with another body is a conflict. */
  requestHash: bytea('request_hash').notNull(),
  sku: text('sku').notNull().references(() => skus.sku),
  quantity: integer('quantity').notNull(),
  recipient: jsonb('recipient').$type<Record<string, string>>().notNull(),
  unitPrice: amountMinor('unit_price').notNull(),
  amount: amountMinor('amount').notNull(),
  currency: text('currency').notNull(),
  status: orderStatus('status').notNull(),
  failure: jsonb('failure').$type<{ code: string, message: string }>(),
  callbackUrl: text('callback_url'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  completedAt: timestamp('completed_at', { withTimezone: true }),
  /**
   * Fulfilment lease: the process driving a `processing` order holds it until `lease_until`;
   * finishing requires the token, so two processes never both finish one order.
   */
  leaseToken: text('lease_token'),
  leaseUntil: timestamp('lease_until', { withTimezone: true, precision: 6 }),
  /** When the poller or reconciler should next look at this `processing` order. */
  nextCheckAt: timestamp('next_check_at', { withTimezone: true, precision: 6 }),
  /** The caller's address as the edge saw it (risk rules, after-sales disputes). */
  clientIp: text('client_ip'),
  /**
   * The recipient as risk rules compare it (the account or phone, trimmed and lower-cased),
   * so that velocity per recipient is one index range.
   */
  recipientKey: text('recipient_key'),
  /** Every risk decision taken on this order: which rule, what it saw, what it did, and reviews. */
  risk: jsonb('risk').$type<Record<string, unknown>[]>().notNull().default([])
}, (t) => [
  // Idempotency: one order per reseller and client_order_id, however many retries race.
  uniqueIndex('orders_reseller_client_order_key').on(t.resellerId, t.clientOrderId),
  index('orders_reseller_created_idx').on(t.resellerId, t.id),
  index('orders_next_check_idx').on(t.nextCheckAt).where(sql`status = 'processing'`),
  index('orders_status_idx').on(t.status, t.id).where(sql`status in ('processing', 'pending_review')`),
  // Velocity rules count a recipient's recent orders.
  index('orders_recipient_recent_idx').on(t.recipientKey, t.createdAt).where(sql`recipient_key is not null`),
  check('orders_amount_is_quantity_times_price', sql`${t.amount} = ${t.quantity} * ${t.unitPrice}`),
  check('orders_quantity_range', sql`${t.quantity} between 1 and 100`),
  check('orders_final_has_time', sql`(${t.status} in ('succeeded', 'failed')) = (${t.completedAt} is not null)`)
])

export type Order = typeof orders.$inferSelect
