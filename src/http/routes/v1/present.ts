import type { z } from 'zod'
import type { Delivery } from '../../../orders/deliveries.js'
import type { OrderRecord } from '../../../orders/orders.js'
import type { PricedSku } from '../../../orders/catalog.js'
import { deliveryFields, orderFields } from '../../../orders/present.js'
import type { OrderSchema, ProductSchema } from '../../schemas/orders.js'

export function presentProduct (p: PricedSku, available: boolean): z.output<typeof ProductSchema> {
  return {
    sku: p.sku,
    name: p.name,
    category: p.category as z.output<typeof ProductSchema>['category'],
    delivery: p.delivery as z.output<typeof ProductSchema>['delivery'],
    recipient_type: p.recipientType,
    face_value: p.faceValue,
    price: p.price,
    currency: p.currency,
    max_quantity: p.maxQuantity,
    available
  }
}

export function presentOrder (o: OrderRecord, deliveries: Delivery[]): z.output<typeof OrderSchema> {
  return {
    ...orderFields(o),
    deliveries: deliveries.map((d) => deliveryFields(d, true))
  }
}
