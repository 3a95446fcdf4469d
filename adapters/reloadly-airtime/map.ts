import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { z } from 'zod'
import type { PurchaseRequest, SupplierResult } from '../../src/domain/supplier.js'
import { fromStatus, otherRefusal, sharedRefusal } from '../reloadly/map.js'
import type { Topup, TopupRequest } from './wire.js'

type Failed = Extract<SupplierResult, { status: 'failed' }>

/** A route's `supplier_params`: the amount in the sender currency (or the operator's local one). */
export const AirtimeParams = z.object({
  amount: z.number().positive().finite(),
  use_local_amount: z.boolean().optional()
}).strict()

const E164 = /^\+[1-9]\d{6,14}$/

/**
 * Splits an E.164 number into the ISO country and the national significant number (no
 * trunk prefix, no dial code), which Reloadly pairs with `countryCode` (§1.4). Google's full
 * metadata (`/max`) checks the number against the country's real ranges, so a well-formed
 * but impossible number is refused here instead of being sent. Null when it is not valid.
 */
export function splitPhone (phone: string): { countryCode: string, number: string } | null {
  if (!E164.test(phone)) return null
  const parsed = parsePhoneNumberFromString(phone)
  if (!parsed?.country || !parsed.isValid()) return null
  return { countryCode: parsed.country, number: parsed.nationalNumber }
}

const recipientInvalid = (message: string): Failed => ({ status: 'failed', retryable: false, code: 'recipient_invalid', message })
const routeInvalid = (message: string): Failed => ({ status: 'failed', retryable: false, code: 'route_params_invalid', message })

/** The top-up body, or the refusal of a purchase that must not be sent at all. */
export function toTopupRequest (request: PurchaseRequest): { body: TopupRequest } | { failure: Failed } {
  if (!/^\d{1,12}$/.test(request.supplierProductId)) return { failure: routeInvalid('supplier_product_id must be a Reloadly operator id (digits)') }
  const params = AirtimeParams.safeParse(request.supplierParams)
  if (!params.success) {
    const issue = params.error.issues[0]
    return { failure: routeInvalid(`supplier_params ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'} (expected { amount: number, use_local_amount?: boolean })`) }
  }
  // A top-up has no quantity at Reloadly: one order, one top-up.
  if (request.quantity !== 1) return { failure: routeInvalid('Reloadly airtime tops up one recipient once; quantity must be 1') }
  const phone = request.recipient.phone
  const split = phone === undefined ? null : splitPhone(phone)
  if (!split) return { failure: recipientInvalid('the recipient is not a valid E.164 phone number') }
  return {
    body: {
      operatorId: Number(request.supplierProductId),
      amount: params.data.amount,
      useLocalAmount: params.data.use_local_amount ?? false,
      customIdentifier: request.reference,
      recipientPhone: split
    }
  }
}

/** What a top-up's state means for us; a PIN operator's PIN is delivered as a code. */
export function fromTopup (topup: Topup): SupplierResult {
  return fromStatus(topup.status, topup.transactionId, 'top-up', (): SupplierResult => ({
    status: 'succeeded',
    supplierOrderId: topup.transactionId,
    codes: topup.pinDetail?.code ? [{ code: topup.pinDetail.code, pin: null, serial: topup.pinDetail.serial ?? null, expiresAt: null }] : []
  }))
}

/** Refusals that name the recipient: every route would charge the same number, so failover stops. */
const RECIPIENT = new Set([
  'INVALID_RECIPIENT_PHONE', 'INVALID_PHONE_NUMBER', 'COULD_NOT_AUTO_DETECT_OPERATOR',
  // Listed as a permanent failure (§1.6); it is about the number, which any route would send.
  'PHONE_BANNED_BY_OPERATOR'
])

/** The operator or Reloadly cannot serve now: another route may (§1.6 "transient"). */
const TRANSIENT = new Set([
  'OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE', 'OPERATOR_NOT_IN_SERVICE', 'TRANSACTION_CANNOT_BE_PROCESSED_AT_THE_MOMENT',
  'PROVIDER_INTERNAL_ERROR', 'SERVICE_TO_OPERATOR_TEMPORARILY_UNAVAILABLE', 'TRANSACTION_FAILED_ON_OPERATOR',
  'RECIPIENT_HAS_PENDING_TRANSACTION'
])

/** This route's set-up or this account's limits: another route (another account, supplier) may serve. */
const ROUTE = new Set([
  'OPERATOR_NOT_FOUND', 'INVALID_AMOUNT', 'INVALID_AMOUNT_FOR_OPERATOR', 'INVALID_AMOUNT_FOR_RECIPIENT_PHONE', 'IMPOSSIBLE_AMOUNT',
  'COUNTRY_NOT_SUPPORTED',
  'MAX_DAILY_TRANSACTION_COUNT_REACHED', 'MAX_DAILY_TRANSACTION_AMOUNT_REACHED', 'INACTIVE_ACCOUNT', 'ACCOUNT_NOT_FOUND',
  'INVALID_SENDER_PHONE'
])

/** The operator turned this top-up down for good. */
const PERMANENT = new Set(['TOPUP_TRANSACTION_FAILED', 'TRANSACTION_REJECTED_BY_OPERATOR'])

/**
 * A definite refusal of a top-up (suppliers.md §1.6): nothing was bought. `retryable` says
 * whether another route may be tried.
 */
export function fromAirtimeRefusal (status: number, errorCode: string | null, message: string): Failed {
  const shared = sharedRefusal(status, errorCode, message)
  if (shared) return shared
  const text = message.slice(0, 200)
  if (errorCode === null) return otherRefusal(status, errorCode, message)
  if (RECIPIENT.has(errorCode)) return recipientInvalid(`${errorCode}: ${text}`)
  // A guard against topping one number up twice within two minutes: failing over would
  // defeat it. The order fails; the reseller may send it again later.
  if (errorCode === 'PHONE_RECENTLY_RECHARGED') return { status: 'failed', retryable: false, code: 'phone_recently_recharged', message: text }
  if (TRANSIENT.has(errorCode)) return { status: 'failed', retryable: true, code: 'product_unavailable', message: `${errorCode}: ${text}` }
  if (ROUTE.has(errorCode)) return { status: 'failed', retryable: true, code: 'route_refused', message: `${errorCode}: ${text}` }
  if (PERMANENT.has(errorCode)) return { status: 'failed', retryable: false, code: 'supplier_rejected', message: `${errorCode}: ${text}` }
  return otherRefusal(status, errorCode, message)
}
