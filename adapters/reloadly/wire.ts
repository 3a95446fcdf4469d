import { createHmac, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'

/*
 * What the two Reloadly products (airtime top-ups, gift cards) share on the wire
 * (suppliers.md §1–2): the OAuth token exchange, the error envelope, transaction statuses,
 * Spring pages, the balance and the signed webhooks.
 */

/** The client-credentials exchange at `auth_url`; `audience` is the product host. */
export interface TokenRequest {
  client_id: string
  client_secret: string
  grant_type: 'client_credentials'
  audience: string
}

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  // Seconds: 5184000 (60 days) in current docs, 86400 in older ones (§1.2).
  expires_in: z.coerce.number().positive(),
  token_type: z.string().optional()
})

/**
 * The error envelope of both products. Gift-card errors often carry `errorCode: null`, and a
 * wrong path answers Spring's `{status, error, message}`: every field is optional.
 */
export const ReloadlyError = z.object({
  errorCode: z.string().nullish().catch(null),
  message: z.string().nullish().catch(null)
})

export type ReloadlyErrorBody = z.infer<typeof ReloadlyError>

/** Reads an error body that may be anything (or nothing) into the envelope's two fields. */
export function readError (body: unknown): { errorCode: string | null, message: string } {
  const parsed = ReloadlyError.safeParse(body)
  const errorCode = parsed.success ? parsed.data.errorCode ?? null : null
  const message = parsed.success ? parsed.data.message ?? '' : ''
  return { errorCode: errorCode === '' ? null : errorCode, message }
}

/**
 * Airtime (PROCESSING, SUCCESSFUL, FAILED, REFUNDED) and gift-card (the same plus PENDING)
 * transaction statuses, §1.5. Anything else parses to UNKNOWN instead of failing.
 */
const STATUSES = ['PENDING', 'PROCESSING', 'SUCCESSFUL', 'FAILED', 'REFUNDED'] as const
export type ReloadlyStatusValue = typeof STATUSES[number] | 'UNKNOWN'
// A missing status fails the parse (that body is not a transaction); an unheard-of one does not.
export const ReloadlyStatus = z.string().transform((s): ReloadlyStatusValue => (STATUSES as readonly string[]).includes(s) ? s as ReloadlyStatusValue : 'UNKNOWN')

/** Reloadly's ids are JSON integers; kept as strings like every supplier order id. */
export const TransactionId = z.union([z.number().int().transform(String), z.string().regex(/^\d+$/)])

/** A Spring Data page: the items are in `content`; `last`/`totalPages` say whether more follow. */
export const SpringPage = z.object({
  content: z.array(z.unknown()),
  last: z.boolean().optional(),
  totalPages: z.number().int().optional(),
  number: z.number().int().optional()
})

/** `GET /accounts/balance` of either product. */
export const Balance = z.object({
  balance: z.union([z.number(), z.string()]),
  currencyCode: z.string().regex(/^[A-Z]{3}$/)
})

/** The webhook signature: hex(HMAC-SHA256(secret, rawBody + ":" + timestamp header)), §1.7. */
export function reloadlySignature (secret: string, rawBody: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${rawBody}:${timestamp}`, 'utf8').digest('hex')
}

/** Whether `given` is the signature of the body and timestamp, compared in constant time. */
export function reloadlySignatureMatches (secret: string, rawBody: string, timestamp: string, given: string): boolean {
  const expected = Buffer.from(reloadlySignature(secret, rawBody, timestamp), 'utf8')
  const actual = Buffer.from(given.trim().toLowerCase(), 'utf8')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** Just enough of a transaction to route a webhook: where our reference may sit. */
const WebhookTransaction = z.object({
  customIdentifier: z.string().min(1).nullish().catch(null),
  transactionId: TransactionId.nullish().catch(null),
  status: z.string().nullish().catch(null)
})

/**
 * The webhook body `{id, type, data}`. Integrations read the transaction at `data`,
 * `data.transaction` or the top level (§1.7, §8: the shape drifts), so all three are read.
 */
export const WebhookBody = z.object({
  id: z.union([z.string(), z.number()]).nullish().catch(null),
  type: z.string().nullish().catch(null),
  data: WebhookTransaction.extend({ transaction: WebhookTransaction.nullish().catch(null) }).nullish().catch(null),
  transaction: WebhookTransaction.nullish().catch(null)
}).extend(WebhookTransaction.shape)

export type WebhookBodyValue = z.infer<typeof WebhookBody>

/** Reloadly's `yyyy-MM-dd HH:mm:ss`; the zone is not stated, UTC is assumed (§1.4, M). */
export function reloadlyDateTime (ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
}
