import type { SupplierResult } from '../../src/domain/supplier.js'
import type { ReloadlyAuthFailed } from './client.js'
import type { ReloadlyStatusValue } from './wire.js'

type Failed = Extract<SupplierResult, { status: 'failed' }>

/** Where a transaction stands, for both products (suppliers.md §1.5, §2). */
export const STATUS: Record<ReloadlyStatusValue, 'pending' | 'succeeded' | 'failed' | 'refunded' | 'unknown'> = {
  PENDING: 'pending',
  PROCESSING: 'pending',
  SUCCESSFUL: 'succeeded',
  FAILED: 'failed',
  REFUNDED: 'refunded',
  UNKNOWN: 'unknown'
}

/**
 * A transaction that ended without delivering. Final at Reloadly, so it is not retryable:
 * the failure may come long after acceptance, and the order fails and is refunded rather
 * than being bought again elsewhere behind the reseller's back.
 */
function finalFailure (product: string, state: 'failed' | 'refunded'): Failed {
  return state === 'failed'
    ? { status: 'failed', retryable: false, code: 'supplier_failed', message: `Reloadly reports the ${product} transaction FAILED` }
    : { status: 'failed', retryable: false, code: 'supplier_refunded', message: `Reloadly reports the ${product} transaction REFUNDED (not processed, funds returned)` }
}

/**
 * A transaction's status as our result (a Record above forces a decision for every status).
 * `succeeded` builds the success, which for gift cards needs a call for the codes.
 */
export function fromStatus<R> (status: ReloadlyStatusValue, transactionId: string, product: string, succeeded: () => R): R | SupplierResult {
  const state = STATUS[status]
  switch (state) {
    case 'pending': return { status: 'pending', supplierOrderId: transactionId }
    case 'failed':
    case 'refunded': return finalFailure(product, state)
    case 'unknown': return { status: 'unknown', reason: `unrecognised Reloadly ${product} status` }
    case 'succeeded': return succeeded()
  }
}

/** A purchase that could not get a token: nothing was sent, so another route may serve. */
export function authFailure (err: ReloadlyAuthFailed): Failed {
  return { status: 'failed', retryable: true, code: 'supplier_auth_failed', message: `no Reloadly access token (${err.message}); check the instance's credentials and auth_url` }
}

const clip = (text: string): string => text.slice(0, 200)

/**
 * Refusals that mean the same in both products: our credentials, our wallet, Reloadly's rate
 * limit. Returns null when the product's own table must decide.
 */
export function sharedRefusal (status: number, errorCode: string | null, message: string): Failed | null {
  if (status === 401 || errorCode === 'INVALID_CREDENTIALS') {
    return { status: 'failed', retryable: true, code: 'supplier_auth_failed', message: `Reloadly refused our token (${errorCode ?? `HTTP ${status}`}); check the instance's credentials` }
  }
  if (status === 429 || errorCode === 'RATE_LIMIT_REACHED') {
    return { status: 'failed', retryable: true, code: 'supplier_rate_limited', message: `Reloadly rate limit reached: ${clip(message)}` }
  }
  // The most common Reloadly failure in production (§8): our wallet, not the customer's fault.
  if (errorCode === 'INSUFFICIENT_BALANCE' || (errorCode === null && /\b(balance|funds)\b/i.test(message) && /insufficient|not enough|too low/i.test(message))) {
    return { status: 'failed', retryable: true, code: 'supplier_insufficient_balance', message: `ALERT: the Reloadly account balance is too low, top it up: ${clip(message)}` }
  }
  return null
}

/** A refusal nobody classified: definite (a 4xx), so nothing was bought and another route may serve. */
export function otherRefusal (status: number, errorCode: string | null, message: string): Failed {
  return { status: 'failed', retryable: true, code: errorCode ? `reloadly_${errorCode.toLowerCase()}` : `reloadly_http_${status}`, message: clip(message) }
}

/**
 * Our customIdentifier was already used (§1.8): an earlier attempt whose answer was lost, so
 * the order is looked up, not failed. Airtime names the code; gift cards may only say it.
 */
export function isDuplicateReference (errorCode: string | null, message: string): boolean {
  return errorCode === 'CUSTOM_IDENTIFIER_ALREADY_USED' || (/custom.?identifier/i.test(message) && /already|used|exist|duplicate|unique/i.test(message))
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/** Digits after the point in `currency`'s minor unit (USD 2, JPY 0, KWD 3), from ICU. */
export function minorDigits (currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
}

/**
 * A Reloadly amount (a JSON number such as 5109.53732, or a decimal string) to integer minor
 * units of `currency`, parsed as text so no binary rounding creeps in. Fractions of a minor
 * unit are rounded down (towards minus infinity): a balance is never overstated.
 */
export function toMinorUnits (value: string | number, currency: string): number {
  const text = typeof value === 'number' ? String(value) : value.trim()
  const match = DECIMAL.exec(text)
  if (!match) throw new Error('Reloadly amount is not a plain decimal number')
  const [, minus, whole, fraction = ''] = match as unknown as [string, string, string, string | undefined]
  const digits = minorDigits(currency)
  const magnitude = BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.slice(0, digits).padEnd(digits, '0') || '0')
  const remainder = /[1-9]/.test(fraction.slice(digits))
  const minor = minus ? -magnitude - (remainder ? 1n : 0n) : magnitude
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('Reloadly amount is out of range')
  return Number(minor)
}
