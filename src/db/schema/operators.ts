import { sql } from 'drizzle-orm'
import { check, index, pgEnum, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'
import { bytea, createdAt } from './_columns.js'

export const operatorRole = pgEnum('operator_role', ['admin', 'ops', 'support', 'finance'])

/** Operator (admin API) tokens. Only a SHA-256 of the token is stored: tokens are 256-bit random. */
export const adminTokens = pgTable('admin_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: operatorRole('role').notNull(),
  tokenHash: bytea('token_hash').notNull(),
  /** First characters of the token, shown in listings so operators can tell tokens apart. */
  tokenPrefix: text('token_prefix').notNull(),
  createdBy: text('created_by'),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true })
}, (t) => [
  uniqueIndex('admin_tokens_token_hash_key').on(t.tokenHash),
  // "Is there any active admin?" is asked at every start for BOOTSTRAP_ADMIN_TOKEN.
  index('admin_tokens_active_role_idx').on(t.role).where(sql`revoked_at is null`),
  check('admin_tokens_id_prefix', sql`${t.id} like 'adt\\_%'`)
])

export type AdminToken = typeof adminTokens.$inferSelect
export type OperatorRole = typeof operatorRole.enumValues[number]
