import { sql } from 'drizzle-orm'
import { bigserial, boolean, check, index, integer, pgEnum, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'
import { amountMinor, bytea, createdAt, updatedAt } from './_columns.js'
import { skus } from './skus.js'

export const authMode = pgEnum('auth_mode', ['bearer_or_signature', 'signature_only'])
export const resellerStatus = pgEnum('reseller_status', ['active', 'suspended'])
export const ledgerKind = pgEnum('ledger_kind', ['adjustment', 'order_debit', 'order_refund'])

export const resellers = pgTable('resellers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Price list the reseller buys from; per-reseller prices override it. */
  tier: text('tier').notNull(),
  currency: text('currency').notNull(),
  callbackUrl: text('callback_url'),
  /** Whether order callbacks carry codes and PINs; otherwise the reseller fetches them. */
  callbackIncludesCodes: boolean('callback_includes_codes').notNull().default(false),
  authMode: authMode('auth_mode').notNull().default('bearer_or_signature'),
  /** CIDRs; empty means any address. */
  ipAllowlist: text('ip_allowlist').array().notNull().default(sql`'{}'::text[]`),
  rateLimitPerMinute: integer('rate_limit_per_minute').notNull().default(600),
  status: resellerStatus('status').notNull().default('active'),
  /** `whsec_…` encrypted with the keyring (AAD `resellers:<id>:webhook_secret`). */
  webhookSecretKeyId: text('webhook_secret_key_id').notNull(),
  webhookSecretCiphertext: bytea('webhook_secret_ciphertext').notNull(),
  /** After a rotation the old secret still signs (beside the new one) until this time. */
  previousWebhookSecretKeyId: text('previous_webhook_secret_key_id'),
  previousWebhookSecretCiphertext: bytea('previous_webhook_secret_ciphertext'),
  previousWebhookSecretUntil: timestamp('previous_webhook_secret_until', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [
  check('resellers_currency_iso', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  check('resellers_rate_limit_positive', sql`${t.rateLimitPerMinute} > 0`)
])

/** API credentials: public `ak_…` id, secret `sk_…` stored as SHA-256 (bearer) and encrypted (signatures). */
export const resellerApiKeys = pgTable('reseller_api_keys', {
  id: text('id').primaryKey(),
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  secretHash: bytea('secret_hash').notNull().unique('reseller_api_keys_secret_hash_key'),
  secretKeyId: text('secret_key_id').notNull(),
  secretCiphertext: bytea('secret_ciphertext').notNull(),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at', { withTimezone: true })
}, (t) => [
  index('reseller_api_keys_reseller_idx').on(t.resellerId)
])

/**
 * The prepaid balance, split into buckets so that concurrent orders of one reseller debit
 * different rows instead of queueing on one row lock held through each commit. The
 * balance is the sum of the buckets. Every bucket stays at or above `-floor`, and only
 * bucket 0 has a floor (the credit limit), so the sum can never go below -credit_limit.
 */
export const resellerBalanceBuckets = pgTable('reseller_balance_buckets', {
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  bucket: smallint('bucket').notNull(),
  balance: amountMinor('balance').notNull().default(0),
  /** How far below zero this bucket may go: the credit limit on bucket 0, zero elsewhere. */
  floor: amountMinor('floor').notNull().default(0),
  updatedAt: updatedAt()
}, (t) => [
  primaryKey({ columns: [t.resellerId, t.bucket] }),
  check('reseller_balance_buckets_within_floor', sql`${t.balance} + ${t.floor} >= 0`),
  check('reseller_balance_buckets_floor_only_on_bucket_0', sql`${t.floor} >= 0 and (${t.bucket} = 0 or ${t.floor} = 0)`)
])

/** Every money movement, written in the same transaction as the balance change it explains. */
export const ledgerEntries = pgTable('ledger_entries', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  kind: ledgerKind('kind').notNull(),
  /** Signed: credits positive, debits negative. */
  amount: amountMinor('amount').notNull(),
  currency: text('currency').notNull(),
  orderId: text('order_id'),
  reason: text('reason'),
  /** Operator token id for adjustments. */
  actorId: text('actor_id'),
  /** The caller's Idempotency-Key of an adjustment: a retried top-up credits once. */
  idempotencyKey: text('idempotency_key'),
  createdAt: createdAt()
}, (t) => [
  index('ledger_entries_reseller_idx').on(t.resellerId, t.id),
  uniqueIndex('ledger_entries_idempotency_key').on(t.resellerId, t.idempotencyKey).where(sql`idempotency_key is not null`),
  // One debit and at most one refund per order, however often a finish is retried.
  uniqueIndex('ledger_entries_order_kind_key').on(t.orderId, t.kind).where(sql`order_id is not null`),
  check('ledger_entries_amount_nonzero', sql`${t.amount} <> 0`),
  check('ledger_entries_sign_fits_kind', sql`(${t.kind} <> 'order_debit' or ${t.amount} < 0) and (${t.kind} <> 'order_refund' or ${t.amount} > 0)`),
  check('ledger_entries_order_kinds_have_order', sql`(${t.kind} = 'adjustment') = (${t.orderId} is null)`)
])

/** Per-reseller prices; they beat the tier's. */
export const resellerPrices = pgTable('reseller_prices', {
  resellerId: text('reseller_id').notNull().references(() => resellers.id),
  sku: text('sku').notNull().references(() => skus.sku, { onDelete: 'cascade' }),
  price: amountMinor('price').notNull(),
  updatedAt: updatedAt()
}, (t) => [
  primaryKey({ columns: [t.resellerId, t.sku] }),
  check('reseller_prices_price_nonnegative', sql`${t.price} >= 0`)
])

/** Nonces of signed requests, kept at least as long as the timestamp window. */
export const requestNonces = pgTable('request_nonces', {
  keyId: text('key_id').notNull(),
  nonce: text('nonce').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull()
}, (t) => [
  primaryKey({ columns: [t.keyId, t.nonce] }),
  index('request_nonces_expires_idx').on(t.expiresAt)
])

export type Reseller = typeof resellers.$inferSelect
export type ResellerApiKey = typeof resellerApiKeys.$inferSelect
export type LedgerEntry = typeof ledgerEntries.$inferSelect
