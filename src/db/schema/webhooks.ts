import { sql } from 'drizzle-orm'
import { bigserial, index, integer, jsonb, pgEnum, pgTable, text, timestamp } from 'drizzle-orm/pg-core'
import { createdAt } from './_columns.js'
import { resellers } from './resellers.js'

export const webhookEventStatus = pgEnum('webhook_event_status', ['pending', 'delivered', 'failed'])

/** Why the last attempt failed, as resellers are told it (src/webhooks/failure.ts). */
export const webhookFailureKind = pgEnum('webhook_failure_kind', ['http_status', 'timeout', 'connection_failed', 'no_public_address', 'url_refused'])

/**
 * The outbox: one row per callback, written in the same transaction as the order outcome
 * it announces, so a committed outcome always has its event and a rolled-back one never.
 */
export const webhookEvents = pgTable('webhook_events', {
  id: text('id').primaryKey(),
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  orderId: text('order_id'),
  type: text('type').notNull(),
  /** The body without codes or PINs; those are added at send time for resellers who opted in. */
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  url: text('url').notNull(),
  status: webhookEventStatus('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  /** Bumped by each redelivery, so an attempt already in flight cannot overwrite the reset. */
  generation: integer('generation').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  /** A dispatcher owns the event until then; longer than one delivery's total deadline. */
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
  /** Random per claim: only the holder of the current lease may record an outcome. */
  leaseToken: text('lease_token'),
  lastStatus: integer('last_status'),
  /** The full reason, for operators and logs only: it may name hosts and addresses. */
  lastError: text('last_error'),
  /** Set whenever last_error is: the only part of a failure resellers see. */
  lastErrorKind: webhookFailureKind('last_error_kind'),
  createdAt: createdAt(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true })
}, (t) => [
  // What dispatchers poll: due, undelivered events.
  index('webhook_events_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
  index('webhook_events_reseller_idx').on(t.resellerId, t.id)
])

export const webhookAttempts = pgTable('webhook_attempts', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  eventId: text('event_id').notNull().references(() => webhookEvents.id),
  attemptedAt: timestamp('attempted_at', { withTimezone: true }).notNull().defaultNow(),
  statusCode: integer('status_code'),
  latencyMs: integer('latency_ms').notNull(),
  error: text('error')
}, (t) => [
  index('webhook_attempts_event_idx').on(t.eventId, t.id)
])
