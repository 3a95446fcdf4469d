import { sql } from 'drizzle-orm'
import { boolean, check, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'
import { ATTEMPT_STATUSES } from '../../domain/orders/attempts.js'
import { amountMinor, bytea, createdAt, updatedAt } from './_columns.js'
import { orders } from './orders.js'

export const supplierForceState = pgEnum('supplier_force_state', ['open', 'closed'])

/**
 * One account at one upstream supplier, served by one adapter. Credentials are sealed by
 * the keyring (AAD `suppliers:<id>:credentials`) and never leave the process in clear.
 * Every change bumps `version` and notifies the other processes (supplier_changes).
 */
export const suppliers = pgTable('suppliers', {
  id: text('id').primaryKey(),
  adapter: text('adapter').notNull(),
  baseUrl: text('base_url').notNull(),
  credentialsKeyId: text('credentials_key_id').notNull(),
  credentialsCiphertext: bytea('credentials_ciphertext').notNull(),
  /** Total deadline of one supplier call, connection to last byte. */
  timeoutMs: integer('timeout_ms').notNull(),
  errorThresholdPercentage: integer('error_threshold_percentage').notNull(),
  resetTimeoutMs: integer('reset_timeout_ms').notNull(),
  volumeThreshold: integer('volume_threshold').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  /** Below this prepaid balance at the supplier (minor units) an alert is raised; null: none. */
  lowBalanceThreshold: amountMinor('low_balance_threshold'),
  /** Our balance at the supplier as its balance call last said (minor units, its currency). */
  balance: amountMinor('balance'),
  balanceCurrency: text('balance_currency'),
  balanceCheckedAt: timestamp('balance_checked_at', { withTimezone: true, precision: 6 }),
  /** Operator override of the breaker: `open` takes the supplier out, `closed` ignores its breaker. */
  forceState: supplierForceState('force_state'),
  version: integer('version').notNull().default(1),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [
  check('suppliers_timeout_range', sql`${t.timeoutMs} between 100 and 120000`),
  check('suppliers_threshold_range', sql`${t.errorThresholdPercentage} between 1 and 100`),
  check('suppliers_reset_timeout_range', sql`${t.resetTimeoutMs} between 100 and 3600000`),
  check('suppliers_volume_threshold_range', sql`${t.volumeThreshold} between 1 and 100000`)
])

export type Supplier = typeof suppliers.$inferSelect
export type NewSupplier = typeof suppliers.$inferInsert

export const attemptStatus = pgEnum('supplier_attempt_status', ATTEMPT_STATUSES)

/**
 * One try at one supplier for one order, written before the call: its id is the reference
 * the supplier sees (our idempotency key there), so a crash mid-call leaves a row that says
 * whom to ask. At most one attempt per order is open at a time (the partial unique index):
 * an order is never in flight at two suppliers.
 */
export const supplierAttempts = pgTable('supplier_attempts', {
  id: text('id').primaryKey(),
  orderId: text('order_id').notNull().references(() => orders.id),
  supplierId: text('supplier_id').notNull().references(() => suppliers.id),
  supplierProductId: text('supplier_product_id').notNull(),
  /** What this supplier charges us for the whole order, minor units of the order currency. */
  cost: amountMinor('cost').notNull(),
  status: attemptStatus('status').notNull(),
  supplierOrderId: text('supplier_order_id'),
  failureCode: text('failure_code'),
  failureMessage: text('failure_message'),
  /** Failed attempts only: may another route be tried. */
  retryable: boolean('retryable'),
  latencyMs: integer('latency_ms'),
  queries: integer('queries').notNull().default(0),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  completedAt: timestamp('completed_at', { withTimezone: true, precision: 6 })
}, (t) => [
  index('supplier_attempts_order_idx').on(t.orderId, t.id),
  // Purchases per supplier in a recent window: suppliers' own rate limits (kashangwl 20 per 6 s).
  index('supplier_attempts_supplier_recent_idx').on(t.supplierId, t.createdAt),
  uniqueIndex('supplier_attempts_one_open_per_order').on(t.orderId).where(sql`status in ('submitting', 'pending', 'unknown')`),
  check('supplier_attempts_cost_nonnegative', sql`${t.cost} >= 0`),
  check('supplier_attempts_final_has_time', sql`(${t.status} in ('succeeded', 'failed', 'not_found')) = (${t.completedAt} is not null)`)
])

/**
 * What a supplier delivered for an order: a direct-recharge reference, or codes sealed like
 * pool codes (AAD `order_deliveries:<id>:<field>`). Pool keys are read from card_keys.
 */
export const orderDeliveries = pgTable('order_deliveries', {
  id: text('id').primaryKey(),
  orderId: text('order_id').notNull().references(() => orders.id),
  attemptId: text('attempt_id').notNull().references(() => supplierAttempts.id),
  type: text('type', { enum: ['direct_recharge', 'card_key'] }).notNull(),
  reference: text('reference'),
  keyId: text('key_id'),
  codeCiphertext: bytea('code_ciphertext'),
  pinCiphertext: bytea('pin_ciphertext'),
  serialCiphertext: bytea('serial_ciphertext'),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  createdAt: createdAt()
}, (t) => [
  index('order_deliveries_order_idx').on(t.orderId, t.id),
  check('order_deliveries_codes_sealed', sql`(${t.type} = 'card_key') = (${t.codeCiphertext} is not null and ${t.keyId} is not null)`)
])
