import { z } from 'zod'
import {
  CATEGORIES, DELIVERIES, FulfilmentSchema, FulfilmentView, RECIPIENT_TYPES, SKU_PATTERN, SKU_STATUSES, TIER_PATTERN, recipientFitsDelivery
} from '../../domain/catalog.js'
import { Timestamp } from './common.js'

export const SkuParam = z.string().regex(SKU_PATTERN, 'expected 2..64 characters of [a-z0-9._-], starting with a letter or digit')
export const TierParam = z.string().regex(TIER_PATTERN, 'expected 1..32 characters of [a-z0-9_-]')
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 code such as CNY')
// 10^12 minor units (ten billion in major units) per amount keeps every product and sum we
// compute far inside the 2^53 range where JavaScript numbers are exact.
export const MAX_MINOR_UNITS = 1_000_000_000_000
export const MinorUnits = z.number().int().min(0).max(MAX_MINOR_UNITS)
  .describe('Integer amount in minor units (fen, cents)')

const SkuFields = z.strictObject({
  name: z.string().trim().min(1).max(200),
  category: z.enum(CATEGORIES),
  delivery: z.enum(DELIVERIES),
  recipient_type: z.enum(RECIPIENT_TYPES),
  face_value: MinorUnits,
  currency: Currency,
  max_quantity: z.number().int().min(1).max(100).optional()
    .describe('Largest quantity per order; defaults to 100 for card keys and 1 for direct recharge'),
  status: z.enum(SKU_STATUSES).default('active'),
  low_stock_threshold: z.number().int().min(0).max(10_000_000).nullable().default(null)
    .describe('A sale that leaves this many sellable pool keys or fewer logs a warning; null: no alert'),
  fulfilment: FulfilmentSchema.optional()
})

const fitsDelivery = (s: { delivery: typeof DELIVERIES[number], recipient_type: typeof RECIPIENT_TYPES[number] }) =>
  recipientFitsDelivery(s.delivery, s.recipient_type)
const fitsMessage = { message: 'card_key SKUs take recipient_type none; direct_recharge SKUs need a recipient', path: ['recipient_type'] }

export const CreateSkuBody = SkuFields.extend({ sku: SkuParam }).refine(fitsDelivery, fitsMessage)
  .meta({ id: 'CreateSku' })
export const ReplaceSkuBody = SkuFields.extend({
  // A client that read the SKU may send it back whole: its id is allowed, and must match the
  // path; the timestamps are the server's and are ignored.
  sku: SkuParam.optional().describe('May be sent; must equal the SKU in the path'),
  created_at: z.string().optional().describe('Read-only: accepted from a GET round trip and ignored'),
  updated_at: z.string().optional().describe('Read-only: accepted from a GET round trip and ignored')
}).refine(fitsDelivery, fitsMessage)
  .meta({ id: 'ReplaceSku', description: 'Replaces the catalog fields; `fulfilment` is kept when omitted' })

export const SkuSchema = z.object({
  sku: z.string(),
  name: z.string(),
  category: z.enum(CATEGORIES),
  delivery: z.enum(DELIVERIES),
  recipient_type: z.enum(RECIPIENT_TYPES),
  face_value: z.number().int(),
  currency: z.string(),
  max_quantity: z.number().int(),
  status: z.enum(SKU_STATUSES),
  low_stock_threshold: z.number().int().nullable(),
  fulfilment: FulfilmentView,
  created_at: Timestamp,
  updated_at: Timestamp
}).meta({ id: 'AdminSku' })

export const TierPricesBody = z.array(z.strictObject({
  sku: SkuParam,
  price: MinorUnits,
  // What GET answers per item besides sku and price, so its list can be sent back as it is.
  currency: z.string().optional().describe('Read-only (the SKU\'s currency): accepted from a GET round trip and ignored'),
  updated_at: z.string().optional().describe('Read-only: accepted from a GET round trip and ignored')
}))
  .max(5000)
  .superRefine((items, ctx) => {
    const seen = new Set<string>()
    items.forEach((item, i) => {
      if (seen.has(item.sku)) ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: 'SKU listed twice' })
      seen.add(item.sku)
    })
  })
  .meta({ id: 'TierPriceList', description: 'The full price list of the tier: SKUs left out lose their tier price' })

export const TierPricesSchema = z.object({
  tier: z.string(),
  prices: z.array(z.object({ sku: z.string(), price: z.number().int(), currency: z.string(), updated_at: Timestamp }))
}).meta({ id: 'TierPrices' })
