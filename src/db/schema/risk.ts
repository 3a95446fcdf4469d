import { sql } from 'drizzle-orm'
import { boolean, check, date, index, integer, jsonb, pgEnum, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { amountMinor, createdAt, updatedAt } from './_columns.js'
import { resellers } from './resellers.js'
import { skus } from './skus.js'

export const riskRuleKind = pgEnum('risk_rule_kind', ['recipient_velocity', 'daily_quota', 'amount_ceiling', 'recipient_blocklist', 'ip_blocklist'])
export const riskAction = pgEnum('risk_action', ['refuse', 'review'])

/**
 * A risk rule: what it checks (`kind`, with `params` validated per kind by the API), where
 * (one SKU or every SKU, one reseller or every reseller) and what a hit does: refuse the
 * order (nothing charged) or hold it `pending_review` (charged, not fulfilled).
 */
export const riskRules = pgTable('risk_rules', {
  id: text('id').primaryKey(),
  kind: riskRuleKind('kind').notNull(),
  action: riskAction('action').notNull(),
  /** null: every SKU. */
  sku: text('sku').references(() => skus.sku),
  /** null: every reseller. */
  resellerId: text('reseller_id').references(() => resellers.id),
  params: jsonb('params').$type<Record<string, unknown>>().notNull(),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [
  // The accept path loads the rules that apply to one SKU and one reseller.
  index('risk_rules_scope_idx').on(t.sku, t.resellerId).where(sql`enabled`)
])

/**
 * Daily quota usage per rule, reseller and day (UTC), bumped in the accepting transaction
 * by a guarded upsert, so the quota holds exactly however many processes accept orders.
 */
export const riskCounters = pgTable('risk_counters', {
  ruleId: text('rule_id').notNull().references(() => riskRules.id, { onDelete: 'cascade' }),
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  day: date('day', { mode: 'string' }).notNull(),
  orders: integer('orders').notNull().default(0),
  amount: amountMinor('amount').notNull().default(0)
}, (t) => [
  primaryKey({ columns: [t.ruleId, t.resellerId, t.day] }),
  check('risk_counters_nonnegative', sql`${t.orders} >= 0 and ${t.amount} >= 0`)
])
