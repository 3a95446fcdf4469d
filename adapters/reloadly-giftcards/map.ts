import { z } from 'zod'
import type { PurchaseRequest, SupplierCode, SupplierResult } from '../../src/domain/supplier.js'
import { otherRefusal, sharedRefusal } from '../reloadly/map.js'
import type { GiftCardOrder, GiftCardOrderRequest } from './wire.js'

type Failed = Extract<SupplierResult, { status: 'failed' }>

/**
 * The API requires a sender name and a recipient e-mail (Reloadly may mail the code there).
 * Our resellers receive codes from us, not by mail, so by default the mail goes to a
 * reserved domain that accepts none (example.com, RFC 2606); a route may name its own.
 */
export const DEFAULT_SENDER_NAME = 'entitlement-gateway'
export const DEFAULT_RECIPIENT_EMAIL = 'no-reply@example.com'

/** A route's `supplier_params`: the face value per card, in the product's recipient currency. */
export const GiftCardParams = z.object({
  unit_price: z.number().positive().finite(),
  country_code: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 code').optional(),
  sender_name: z.string().min(1).max(100).optional(),
  recipient_email: z.email().optional()
}).strict()

/** The order body, or the refusal of a purchase that must not be sent at all. */
export function toOrderRequest (request: PurchaseRequest): { body: GiftCardOrderRequest } | { failure: Failed } {
  const invalid = (message: string): { failure: Failed } => ({ failure: { status: 'failed', retryable: false, code: 'route_params_invalid', message } })
  if (!/^\d{1,12}$/.test(request.supplierProductId)) return invalid('supplier_product_id must be a Reloadly gift-card product id (digits)')
  const params = GiftCardParams.safeParse(request.supplierParams)
  if (!params.success) {
    const issue = params.error.issues[0]
    return invalid(`supplier_params ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'} (expected { unit_price: number, country_code?, sender_name?, recipient_email? })`)
  }
  const p = params.data
  return {
    body: {
      productId: Number(request.supplierProductId),
      ...(p.country_code ? { countryCode: p.country_code } : {}),
      quantity: request.quantity,
      unitPrice: p.unit_price,
      customIdentifier: request.reference,
      senderName: p.sender_name ?? DEFAULT_SENDER_NAME,
      recipientEmail: p.recipient_email ?? DEFAULT_RECIPIENT_EMAIL
    }
  }
}

/**
 * Why an order answer does not fit what we asked (style rule 9): another reference, product
 * or quantity. Null when it fits or the field is absent.
 */
export function orderMismatch (order: GiftCardOrder, sent: GiftCardOrderRequest): string | null {
  if (order.customIdentifier && order.customIdentifier !== sent.customIdentifier) return 'another customIdentifier'
  if (order.product?.productId != null && Number(order.product.productId) !== sent.productId) return 'another productId'
  if (order.product?.quantity != null && order.product.quantity !== sent.quantity) return 'another quantity'
  return null
}

/**
 * Cards to our codes. A card number with a PIN is a code and its PIN; a lone PIN is the code.
 * Null when any card has neither, or fewer cards came than the order holds (rule 9).
 */
export function toCodes (cards: { cardNumber?: string | null, pinCode?: string | null }[], quantity: number | null | undefined): SupplierCode[] | null {
  if (cards.length === 0 || (quantity != null && cards.length < quantity)) return null
  const codes: SupplierCode[] = []
  for (const card of cards) {
    const code = card.cardNumber || card.pinCode
    if (!code) return null
    codes.push({ code, pin: card.cardNumber && card.pinCode ? card.pinCode : null, serial: null, expiresAt: null })
  }
  return codes
}

/**
 * A definite refusal of an order (§2): nothing was bought. Gift-card errors often have a null
 * `errorCode`, so the HTTP status and the message decide. A gift card has no recipient to
 * blame, so every refusal leaves room for another route.
 */
export function fromGiftCardRefusal (status: number, errorCode: string | null, message: string): Failed {
  const shared = sharedRefusal(status, errorCode, message)
  if (shared) return shared
  const text = message.slice(0, 200)
  if (/not found|no longer available|out of stock|unavailable|inactive/i.test(message) || errorCode === 'PRODUCT_NOT_FOUND') {
    return { status: 'failed', retryable: true, code: 'product_unavailable', message: text }
  }
  // "Invalid price, please ensure you selected the right price." — the route's unit_price.
  if (/price|denomination|amount/i.test(message)) return { status: 'failed', retryable: true, code: 'route_refused', message: text }
  return otherRefusal(status, errorCode, message)
}
