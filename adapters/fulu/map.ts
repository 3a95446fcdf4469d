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
const OUR_BALANCE = /余额|balance/i
const OUR_CREDENTIALS = /签名|sign|app_?key|商户.{0,6}(不存在|无效|禁用|关闭)/i

/**
 * Refusals by envelope code and message; Fulu publishes no error table (suppliers.md §3.5).
 * Only what can be recognised counts as a definite refusal: a bad recipient stops the order
 * (every route would charge the same account); 3001–3008 ("this product cannot be bought
 * now" in production integrations), our balance and our credentials let another route
 * serve it. Anything else may have been said after the order was taken, so it is unknown
 * and resolved by asking Fulu, never by buying elsewhere.
 */
export function fromFuluRefusal (code: number, message: string): SupplierResult {
  const text = message.slice(0, 200)
  if (RECIPIENT.test(message) && !OUR_ACCOUNT.test(message)) return { status: 'failed', retryable: false, code: 'recipient_invalid', message: text }
  if (code >= 3001 && code <= 3008) return { status: 'failed', retryable: true, code: 'product_unavailable', message: text }
  if (OUR_BALANCE.test(message)) return { status: 'failed', retryable: true, code: 'supplier_insufficient_balance', message: `ALERT: the Fulu account balance is too low: ${text}` }
  if (OUR_CREDENTIALS.test(message)) return { status: 'failed', retryable: true, code: 'supplier_auth_failed', message: `Fulu refused our credentials (${code}): ${text}` }
  return { status: 'unknown', reason: `unrecognised Fulu refusal ${code}` }
}

// Fulu's query has no documented "not found" code: only a message about the order itself
// counts, never one about our merchant account, key, signature or method.
const ORDER_MISSING = /订单.{0,8}(不存在|未找到)|(查无|未找到|找不到).{0,4}订单|order.{0,16}not (exist|found)/i
const NOT_ABOUT_THE_ORDER = /商户|app_?key|签名|sign|方法|method/i

export function isOrderMissing (message: string): boolean {
  return ORDER_MISSING.test(message) && !NOT_ABOUT_THE_ORDER.test(message)
}

/**
 * A refusal of our customer_order_no as already used: the order exists at Fulu (an earlier
 * attempt whose answer was lost), so it is looked up, not failed. The real code is not
 * published; 2001 is the simulator's. A false match costs one query.
 */
export function isDuplicateReference (code: number, message: string): boolean {
  return code === 2001 || /订单号?重复|订单已存在|duplicate/i.test(message)
}
