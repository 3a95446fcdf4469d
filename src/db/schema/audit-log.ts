import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core'
import { operatorRole } from './operators.js'

/** One row per admin mutation and per reveal of a secret to an operator; never updated. */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
  actorId: text('actor_id').notNull(),
  actorRole: operatorRole('actor_role').notNull(),
  /** Dotted verb, e.g. `sku.create`, `card_key.reveal`. */
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: text('target_id').notNull(),
  requestId: text('request_id').notNull(),
  ip: text('ip').notNull(),
  /** Non-secret facts about the change (changed field names, counts). */
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({})
}, (t) => [
  index('audit_log_target_idx').on(t.targetType, t.targetId, t.id),
  index('audit_log_actor_idx').on(t.actorId, t.id)
])

export type AuditEntry = typeof auditLog.$inferSelect
