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

// A refusal that names the charge account (充值账号格式不正确), but not one about our own
// merchant account (e.g. a balance refusal worded 商户账号余额不足).
const RECIPIENT = /账号|帐号|account/i
const OUR_ACCOUNT = /商户|余额|balance|merchant|app_?key/i

/**
 * Refusals by envelope code and message; Fulu publishes no error table (suppliers.md §3.5).
 * A definite refusal means nothing was bought, so another route may serve the order
 * (signature, our balance, unknown codes); only a bad recipient stops it, since every route
 * would charge the same account. 3001–3008 mean "this product cannot be bought now" in
 * production integrations.
 */
export function fromFuluRefusal (code: number, message: string): SupplierResult {
  const text = message.slice(0, 200)
  if (RECIPIENT.test(message) && !OUR_ACCOUNT.test(message)) return { status: 'failed', retryable: false, code: 'recipient_invalid', message: text }
  if (code >= 3001 && code <= 3008) return { status: 'failed', retryable: true, code: 'product_unavailable', message: text }
  return { status: 'failed', retryable: true, code: `fulu_${code}`, message: text }
}

/**
 * A refusal of our customer_order_no as already used: the order exists at Fulu (an earlier
 * attempt whose answer was lost), so it is looked up, not failed. The real code is not
 * published; 2001 is the simulator's. A false match costs one query.
 */
export function isDuplicateReference (code: number, message: string): boolean {
  return code === 2001 || /订单号?重复|订单已存在|duplicate/i.test(message)
}
