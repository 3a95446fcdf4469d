import type { z } from 'zod'
import type { CardKeyDelivery, OrderRecord } from '../../../orders/orders.js'
import type { PricedSku } from '../../../orders/catalog.js'
import type { OrderSchema, ProductSchema } from '../../schemas/orders.js'

export function presentProduct (p: PricedSku): z.output<typeof ProductSchema> {
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
    available: p.available
  }
}

/** The fields every view of an order shares (reseller and admin). */
export function orderFields (o: OrderRecord): Omit<z.output<typeof OrderSchema>, 'deliveries'> {
  return {
    id: o.id,
    client_order_id: o.clientOrderId,
    sku: o.sku,
    quantity: o.quantity,
    recipient: o.recipient,
    unit_price: o.unitPrice,
    amount: o.amount,
    currency: o.currency,
    status: o.status,
    failure: o.failure,
    created_at: o.createdAt.toISOString(),
    completed_at: o.completedAt?.toISOString() ?? null
  }
}

export function presentOrder (o: OrderRecord, deliveries: CardKeyDelivery[]): z.output<typeof OrderSchema> {
  return {
    ...orderFields(o),
    deliveries: deliveries.map((d) => ({ type: 'card_key' as const, code: d.code, pin: d.pin, serial: d.serial, expires_at: d.expiresAt?.toISOString() ?? null }))
  }
}
