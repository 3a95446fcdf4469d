import type { PurchaseRequest, SupplierResult } from '../../src/domain/supplier.js'
import { fuluDecryptCard, type FuluOrderResult } from './wire.js'

/** `fulu.order.direct.add` business parameters from a purchase (suppliers.md §3.3). */
export function toDirectAdd (request: PurchaseRequest): Record<string, unknown> {
  const biz: Record<string, unknown> = {
    product_id: Number(request.supplierProductId),
    customer_order_no: request.reference,
    charge_account: request.recipient.account ?? request.recipient.phone ?? '',
    buy_num: request.quantity
  }
  if (request.recipient.server) biz.charge_game_srv = request.recipient.server
  return biz
}

/** Codes-only products go through `fulu.order.card.add` and have no recipient. */
export function toCardAdd (request: PurchaseRequest): Record<string, unknown> {
  return { product_id: Number(request.supplierProductId), customer_order_no: request.reference, buy_num: request.quantity }
}

const STATE: Record<FuluOrderResult['order_state'], 'pending' | 'succeeded' | 'failed' | 'unknown'> = {
  untreated: 'pending',
  processing: 'pending',
  success: 'succeeded',
  failed: 'failed',
  unknown: 'unknown'
}

export function fromFuluOrder (order: FuluOrderResult, secret: string): SupplierResult {
  switch (STATE[order.order_state]) {
    case 'pending': return { status: 'pending', supplierOrderId: order.order_id }
    case 'failed': return { status: 'failed', retryable: false, code: 'supplier_failed', message: 'Fulu reports the order failed' }
    case 'unknown': return { status: 'unknown', reason: 'unrecognised Fulu order state' }
    case 'succeeded': return {
      status: 'succeeded',
      supplierOrderId: order.order_id,
      codes: (order.cards ?? []).map((c) => ({
        code: c.card_number ? fuluDecryptCard(c.card_number, secret) : fuluDecryptCard(c.card_pwd ?? '', secret),
        pin: c.card_number && c.card_pwd ? fuluDecryptCard(c.card_pwd, secret) : null,
        serial: null,
        expiresAt: c.card_deadline ?? null
      }))
    }
  }
}

/**
 * Refusals by envelope code. 3001–3008 mean "this product cannot be bought now" in
 * production integrations (suppliers.md §3.5): another route may serve it.
 */
export function fromFuluRefusal (code: number, message: string): SupplierResult {
  const productUnavailable = code >= 3001 && code <= 3008
  return { status: 'failed', retryable: productUnavailable, code: productUnavailable ? 'product_unavailable' : `fulu_${code}`, message: message.slice(0, 200) }
}
