import type { CardKeyDelivery, OrderRecord } from './orders.js'

/** The order as resellers see it (API responses and callbacks), snake_case. */
export function orderFields (o: OrderRecord) {
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

/**
 * A delivery with or without its secrets: callbacks leave code and PIN out unless the
 * reseller opted in (api.md); the authenticated API always has them.
 */
export function deliveryFields (d: Pick<CardKeyDelivery, 'expiresAt'> & Partial<CardKeyDelivery>, withCodes: boolean) {
  return {
    type: 'card_key' as const,
    ...(withCodes ? { code: d.code, pin: d.pin ?? null } : {}),
    ...(d.serial !== undefined ? { serial: d.serial } : {}),
    expires_at: d.expiresAt?.toISOString() ?? null
  }
}
