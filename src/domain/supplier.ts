import type { ZodType } from 'zod'

/**
 * The small interface every supplier adapter implements (adapters/<name>/index.ts).
 * Adapters translate between the gateway and one supplier protocol; they do no retries, no
 * breaking, no database work and no logging of bodies: the supplier executor owns those.
 */

export type Capability = 'purchase' | 'query' | 'balance' | 'callback'

/** A supplier's callback as it arrived: raw body (signatures cover bytes), lower-case headers. */
export interface CallbackRequest {
  headers: Record<string, string | undefined>
  contentType: string
  rawBody: string
}

/** What to answer the supplier, in the form its protocol expects (e.g. plain `success`). */
export interface CallbackAck {
  status: number
  contentType: string
  body: string
}

/**
 * A verified callback names our attempt reference; the gateway treats it as a hint and
 * confirms the state by querying before it releases codes or money.
 */
export type CallbackResult =
  | { verified: true, reference: string, ack: CallbackAck }
  | { verified: false, reason: string, ack: CallbackAck }

export interface PurchaseRequest {
  /** Our attempt reference: the supplier's idempotency key and our lookup key. */
  reference: string
  supplierProductId: string
  supplierParams: Record<string, unknown>
  quantity: number
  recipient: Record<string, string>
}

export interface SupplierCode {
  code: string
  pin: string | null
  serial: string | null
  expiresAt: string | null
}

/**
 * What happened, closed set: `failed.retryable` says whether another route may be tried;
 * `unknown` (timeout, reset after sending, unclear 5xx) must be resolved by querying, never
 * by trying another supplier while this one may still deliver.
 */
export type SupplierResult =
  | { status: 'succeeded', supplierOrderId: string | null, codes: SupplierCode[] }
  | { status: 'pending', supplierOrderId: string | null }
  | { status: 'failed', retryable: boolean, code: string, message: string }
  | { status: 'not_found' }
  | { status: 'unknown', reason: string }

export interface CallContext {
  /** Aborted at the executor's total deadline. */
  signal: AbortSignal
}

/** One HTTP exchange, injected so adapters stay free of transport and policy. */
export type HttpCall = (request: { url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string, signal: AbortSignal }) =>
  Promise<{ status: number, body: string }>

export interface SupplierAdapter {
  readonly name: string
  readonly capabilities: ReadonlySet<Capability>
  /**
   * The supplier's published limit on purchases per account (kashangwl: 20 per 6 s). The
   * engine keeps every process of ours under it together, counting attempts in the database.
   */
  readonly purchaseLimit?: { max: number, windowMs: number }
  /**
   * How old an attempt must be before this supplier's "no such order" is believed (its
   * look-up may lag behind its intake). Default: twice the instance's call deadline.
   */
  readonly notFoundTrustedAfterMs?: number
  purchase (request: PurchaseRequest, ctx: CallContext): Promise<SupplierResult>
  /** By our reference; `not_found` only when the supplier says so definitely. */
  getOrder (reference: string, ctx: CallContext): Promise<SupplierResult>
  /** Verifies and parses the supplier's own callback (capability `callback`). */
  parseCallback? (request: CallbackRequest): CallbackResult
  /** Our prepaid balance at the supplier, minor units (capability `balance`). */
  balance? (ctx: CallContext): Promise<{ amount: number, currency: string }>
}

/**
 * How the gateway builds an adapter for one supplier instance: the credentials schema
 * validates what operators send (and is the adapter's config type), `create` binds it.
 */
export interface AdapterFactory<C = unknown> {
  readonly name: string
  readonly credentials: ZodType<C>
  create (options: { credentials: C, baseUrl: string, http: HttpCall, supplierId: string, publicBaseUrl: string }): SupplierAdapter
}
