import { sql } from 'drizzle-orm'
import { check, foreignKey, index, integer, pgEnum, pgTable, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core'
import { CARD_KEY_STATUSES } from '../../domain/pool/card-key.js'
import { amountMinor, bytea, createdAt } from './_columns.js'
import { skus } from './skus.js'

export const cardKeyStatus = pgEnum('card_key_status', CARD_KEY_STATUSES)

/** One import: where a set of codes came from and what it cost. */
export const cardKeyBatches = pgTable('card_key_batches', {
  id: text('id').primaryKey(),
  sku: text('sku').notNull().references(() => skus.sku),
  source: text('source'),
  /** What one code of this batch cost us, minor units of the SKU currency (settlement cost). */
  unitCost: amountMinor('unit_cost').notNull(),
  currency: text('currency').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  /** Operator token id, or `cli`. */
  importedBy: text('imported_by').notNull(),
  imported: integer('imported').notNull().default(0),
  duplicates: integer('duplicates').notNull().default(0),
  rejected: integer('rejected').notNull().default(0),
  createdAt: createdAt()
}, (t) => [
  check('card_key_batches_unit_cost_nonnegative', sql`${t.unitCost} >= 0`),
  index('card_key_batches_sku_idx').on(t.sku, t.createdAt),
  // The target of card_keys' (batch_id, sku) foreign key.
  unique('card_key_batches_id_sku_key').on(t.id, t.sku)
])

/**
 * The pool. Code, PIN and serial are AES-256-GCM ciphertexts under `key_id`, bound to the
 * row by their AAD; `fingerprint` (HMAC of the code) finds a code without decrypting.
 */
export const cardKeys = pgTable('card_keys', {
  id: text('id').primaryKey(),
  batchId: text('batch_id').notNull(),
  /** Always its batch's SKU (the foreign key below), which references skus. */
  sku: text('sku').notNull(),
  /** Keyring id that encrypts code, pin and serial of this row. */
  keyId: text('key_id').notNull(),
  codeCiphertext: bytea('code_ciphertext').notNull(),
  pinCiphertext: bytea('pin_ciphertext'),
  serialCiphertext: bytea('serial_ciphertext'),
  fingerprint: bytea('fingerprint').notNull(),
  status: cardKeyStatus('status').notNull().default('available'),
  /**
   * `infinity` when the code never expires: allocation then reads one contiguous range of
   * the available-keys index (`expires_at > now()`) instead of an OR over NULLs.
   */
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  /** The one order this key was sold to; a key belongs to at most one order. */
  orderId: text('order_id'),
  soldAt: timestamp('sold_at', { withTimezone: true }),
  redeemedAt: timestamp('redeemed_at', { withTimezone: true }),
  redeemedIp: text('redeemed_ip'),
  voidedAt: timestamp('voided_at', { withTimezone: true }),
  voidReason: text('void_reason'),
  /** First time the code was shown to an operator; such a key is never sold again. */
  revealedAt: timestamp('revealed_at', { withTimezone: true }),
  createdAt: createdAt()
}, (t) => [
  // A key is sold under its SKU and costed by its batch: one foreign key on both columns
  // makes them agree, and is one check per imported row where two would be two.
  foreignKey({ name: 'card_keys_batch_sku_fk', columns: [t.batchId, t.sku], foreignColumns: [cardKeyBatches.id, cardKeyBatches.sku] }),
  // Duplicates are refused across the whole pool, whatever the SKU.
  uniqueIndex('card_keys_fingerprint_key').on(t.fingerprint),
  // Allocation reads the sellable keys of a SKU in exactly this order (soonest-expiring, then
  // oldest), so it stops at the first unlocked entries, and stock counts per status use it
  // too. One index serving both keeps the planner from sorting all available keys of a SKU,
  // which it did with a partial index beside a (sku, status) one whenever statistics were
  // stale (right after a big import): 15 ms per allocation instead of 0.1 ms.
  index('card_keys_allocation_idx').on(t.sku, t.status, t.expiresAt, t.id),
  index('card_keys_order_idx').on(t.orderId).where(sql`order_id is not null`),
  check('card_keys_sold_has_order', sql`(${t.status} in ('sold', 'redeemed')) <= (${t.orderId} is not null and ${t.soldAt} is not null)`),
  check('card_keys_available_is_untouched', sql`${t.status} <> 'available' or (${t.orderId} is null and ${t.soldAt} is null and ${t.revealedAt} is null and ${t.voidedAt} is null)`),
  check('card_keys_redeemed_has_time', sql`(${t.status} = 'redeemed') <= (${t.redeemedAt} is not null)`),
  check('card_keys_voided_has_time', sql`(${t.status} = 'voided') <= (${t.voidedAt} is not null)`)
])

/**
 * Per SKU, a place in allocation order (expires_at, then id) that no sellable key sorts
 * before: allocation starts its index scan there instead of walking the entries that sold
 * keys leave at the front of the allocation index until VACUUM removes them. Lowered by
 * triggers whenever a key appears or moves before it, raised by card_key_floors_advance
 * (migration 0013).
 */
export const cardKeyFloors = pgTable('card_key_floors', {
  sku: text('sku').primaryKey().references(() => skus.sku),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  cardKeyId: text('card_key_id').notNull()
})

export type CardKeyBatch = typeof cardKeyBatches.$inferSelect
export type CardKey = typeof cardKeys.$inferSelect
