import { sql } from 'drizzle-orm'
import { bigint, check, integer, jsonb, pgEnum, pgTable, text } from 'drizzle-orm/pg-core'
import { CATEGORIES, DELIVERIES, RECIPIENT_TYPES, SKU_STATUSES, type Fulfilment } from '../../domain/catalog.js'
import { amountMinor, createdAt, updatedAt } from './_columns.js'

export const skuCategory = pgEnum('sku_category', CATEGORIES)
export const skuDelivery = pgEnum('sku_delivery', DELIVERIES)
export const recipientType = pgEnum('recipient_type', RECIPIENT_TYPES)
export const skuStatus = pgEnum('sku_status', SKU_STATUSES)

export const skus = pgTable('skus', {
  sku: text('sku').primaryKey(),
  name: text('name').notNull(),
  category: skuCategory('category').notNull(),
  delivery: skuDelivery('delivery').notNull(),
  recipientType: recipientType('recipient_type').notNull(),
  /** Nominal value printed on the product, minor units of `currency`. */
  faceValue: amountMinor('face_value').notNull(),
  currency: text('currency').notNull(),
  /** Largest `quantity` one order may ask for. */
  maxQuantity: integer('max_quantity').notNull(),
  status: skuStatus('status').notNull().default('active'),
  /** Below this many sellable pool keys a sale logs a warning; null: no alert. */
  lowStockThreshold: integer('low_stock_threshold'),
  /** Routing policy: strategy, card-pool mode and supplier routes (domain/catalog.ts). */
  fulfilment: jsonb('fulfilment').$type<Fulfilment>().notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt()
}, (t) => [
  check('skus_currency_iso', sql`${t.currency} ~ '^[A-Z]{3}$'`),
  check('skus_face_value_nonnegative', sql`${t.faceValue} >= 0`),
  check('skus_max_quantity_range', sql`${t.maxQuantity} between 1 and 100`),
  check('skus_low_stock_threshold_nonnegative', sql`${t.lowStockThreshold} >= 0`),
  check('skus_recipient_fits_delivery', sql`(${t.delivery} = 'card_key') = (${t.recipientType} = 'none')`)
])

export type Sku = typeof skus.$inferSelect

/**
 * One row, bumped by every statement that changes what an order is priced and screened by
 * (skus, tier_prices, reseller_prices, risk_rules; triggers in migration 0015). Processes
 * cache those look-ups under the version they read, and each cached order checks it in its
 * own transaction (src/orders/catalog-cache.ts).
 */
export const catalogVersion = pgTable('catalog_version', {
  id: integer('id').primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull()
}, (t) => [
  check('catalog_version_one_row', sql`${t.id} = 1`)
])
