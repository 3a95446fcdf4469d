import type { z } from 'zod'
import type { getTierPrices } from '../../../../db/repositories/skus.js'
import type { TierPricesSchema } from '../../../schemas/skus.js'

export function presentTierPrices (tier: string, rows: Awaited<ReturnType<typeof getTierPrices>>): z.output<typeof TierPricesSchema> {
  return { tier, prices: rows.map((r) => ({ sku: r.sku, price: r.price, currency: r.currency, updated_at: r.updatedAt.toISOString() })) }
}
