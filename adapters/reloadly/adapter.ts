import type { CallbackRequest, CallContext, HttpCall, PurchaseRequest, SupplierAdapter, SupplierResult } from '../../src/domain/supplier.js'
import { createReloadlyClient, ReloadlyAuthFailed, type ReloadlyClient } from './client.js'
import type { ReloadlyConfig } from './config.js'
import { authFailure, isDuplicateReference } from './map.js'
import { parseReloadlyWebhook } from './webhook.js'
import { readError } from './wire.js'

type Failed = Extract<SupplierResult, { status: 'failed' }>

/** What one Reloadly product does its own way; the rest of the adapter is common. */
export interface ReloadlyProduct<B extends object> {
  name: string
  /** Where a purchase is POSTed. */
  purchasePath: string
  /** The purchase body, or the refusal of a purchase that must not be sent at all. */
  toRequest: (request: PurchaseRequest) => { body: B } | { failure: Failed }
  /** Reads a 2xx answer to a purchase; throws when it is not one Reloadly sends. */
  fromAccepted: (answer: { status: number, body: unknown }, sent: B, signal: AbortSignal) => Promise<SupplierResult>
  /** Classifies a definite refusal (a 4xx that is not a duplicate reference). */
  fromRefusal: (status: number, errorCode: string | null, message: string) => Failed
  /** Looks a transaction up by our reference (the customIdentifier). */
  getOrder: (reference: string, signal: AbortSignal) => Promise<SupplierResult>
}

/** How far Reloadly's transaction reports may trail an accepted order (not published; chosen wide). */
export const REPORT_LAG_MS = 10 * 60_000

/**
 * A Reloadly adapter: one token client per instance, purchases whose missing token means
 * "nothing sent", a duplicate customIdentifier looked up instead of failed (§1.8), the shared
 * balance and the signed webhook.
 */
export function createReloadlyAdapter<B extends object> (
  options: { config: ReloadlyConfig, baseUrl: string, http: HttpCall, accept: string, now: () => number },
  product: (client: ReloadlyClient) => ReloadlyProduct<B>
): SupplierAdapter {
  const client = createReloadlyClient(options)
  const p = product(client)
  return {
    name: p.name,
    capabilities: new Set(['purchase', 'query', 'balance', 'callback']),
    // Look-ups by our reference read transaction reports, which may lag behind the order
    // intake (§1.3, §2): an empty answer is believed only once the attempt is this old.
    notFoundTrustedAfterMs: REPORT_LAG_MS,
    async purchase (request: PurchaseRequest, ctx: CallContext): Promise<SupplierResult> {
      const built = p.toRequest(request)
      if ('failure' in built) return built.failure
      let answer
      try {
        answer = await client.post(p.purchasePath, built.body, ctx.signal)
      } catch (err) {
        if (err instanceof ReloadlyAuthFailed) return authFailure(err)
        throw err
      }
      if (answer.status >= 200 && answer.status < 300) return await p.fromAccepted(answer, built.body, ctx.signal)
      const { errorCode, message } = readError(answer.body)
      if (!isDuplicateReference(errorCode, message)) return p.fromRefusal(answer.status, errorCode, message)
      const existing = await p.getOrder(request.reference, ctx.signal)
      // Refused as already used yet not found: money may be spent, so it stays to be resolved by querying.
      return existing.status === 'not_found' ? { status: 'unknown', reason: 'customIdentifier refused as already used but not found' } : existing
    },
    getOrder: async (reference: string, ctx: CallContext) => await p.getOrder(reference, ctx.signal),
    balance: async (ctx: CallContext) => await client.balance(ctx.signal),
    parseCallback: (request: CallbackRequest) => parseReloadlyWebhook(options.config.webhook_secret, request, options.now)
  }
}
