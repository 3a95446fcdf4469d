import { sql } from 'drizzle-orm'
import { check, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { amountMinor, updatedAt } from './_columns.js'
import { skus } from './skus.js'

/** What resellers of a tier pay per unit of a SKU, in the SKU's currency. */
export const tierPrices = pgTable('tier_prices', {
  tier: text('tier').notNull(),
  sku: text('sku').notNull().references(() => skus.sku, { onDelete: 'cascade' }),
  price: amountMinor('price').notNull(),
  updatedAt: updatedAt()
}, (t) => [
  primaryKey({ columns: [t.tier, t.sku] }),
  check('tier_prices_price_nonnegative', sql`${t.price} >= 0`)
])

export type TierPrice = typeof tierPrices.$inferSelect
