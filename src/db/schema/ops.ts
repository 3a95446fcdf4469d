import { bigserial, boolean, index, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'
import { createdAt } from './_columns.js'

/**
 * Operational events operators list (`GET /admin/v1/alerts`): a supplier's balance below its
 * threshold, low stock, a breaker opening, failing callbacks. Written once per crossing.
 */
export const opsEvents = pgTable('ops_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  kind: text('kind').notNull(),
  /** What it is about: a supplier id, a SKU, a reseller id. */
  subject: text('subject').notNull(),
  severity: text('severity', { enum: ['info', 'warning', 'critical'] }).notNull(),
  message: text('message').notNull(),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: createdAt()
}, (t) => [
  index('ops_events_created_idx').on(t.createdAt, t.id),
  index('ops_events_kind_idx').on(t.kind, t.subject, t.id)
])

/**
 * Whether an alert is firing now, per kind and subject: an alert is raised when its
 * condition starts to hold and not again until it has cleared, whichever process looks.
 */
export const alertStates = pgTable('alert_states', {
  kind: text('kind').notNull(),
  subject: text('subject').notNull(),
  firing: boolean('firing').notNull(),
  changedAt: timestamp('changed_at', { withTimezone: true, precision: 6 }).notNull().defaultNow()
}, (t) => [primaryKey({ columns: [t.kind, t.subject] })])
