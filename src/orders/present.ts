import type { Delivery } from './deliveries.js'
import type { OrderRecord } from './orders.js'

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
 * reseller opted in (api.md); the authenticated API always has them. A pool key still
 * sealed (the outbox row, written without decrypting) shows only what is not secret.
 */
export function deliveryFields (d: Delivery | { type: 'card_key', expiresAt: Date | null }, withCodes: boolean) {
  if (d.type === 'direct_recharge') return { type: 'direct_recharge' as const, reference: d.reference }
  return {
    type: 'card_key' as const,
    ...(withCodes && 'code' in d ? { code: d.code, pin: d.pin } : {}),
    ...('serial' in d ? { serial: d.serial } : {}),
    expires_at: d.expiresAt?.toISOString() ?? null
  }
}
