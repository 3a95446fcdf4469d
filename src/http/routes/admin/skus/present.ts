import type { z } from 'zod'
import type { Sku } from '../../../../db/schema/index.js'
import type { SkuSchema } from '../../../schemas/skus.js'

export function presentSku (row: Sku): z.output<typeof SkuSchema> {
  return {
    sku: row.sku,
    name: row.name,
    category: row.category,
    delivery: row.delivery,
    recipient_type: row.recipientType,
    face_value: row.faceValue,
    currency: row.currency,
    max_quantity: row.maxQuantity,
    status: row.status,
    low_stock_threshold: row.lowStockThreshold,
    fulfilment: row.fulfilment,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString()
  }
}
