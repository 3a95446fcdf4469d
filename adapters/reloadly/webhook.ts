import type { CallbackAck, CallbackRequest, CallbackResult } from '../../src/domain/supplier.js'
import { reloadlySignatureMatches, WebhookBody, type WebhookBodyValue } from './wire.js'

/** How far the signed timestamp may be from our clock, either way (one SDK's 300 s, §1.7). */
export const WEBHOOK_WINDOW_SECONDS = 300

const ACCEPTED: CallbackAck = { status: 200, contentType: 'text/plain', body: 'ok' }
// Reloadly retries non-2xx (§1.7). A forgery deserves no 2xx; a genuine webhook refused
// because our secret is wrong is retried a while, harmlessly: the poller settles the order.
const UNAUTHORIZED: CallbackAck = { status: 401, contentType: 'text/plain', body: 'invalid signature' }
const BAD_REQUEST: CallbackAck = { status: 400, contentType: 'text/plain', body: 'bad request' }

/** The signed timestamp in seconds: Reloadly sends seconds; 13 digits are read as milliseconds. */
function timestampSeconds (header: string): number | null {
  if (!/^\d{1,16}$/.test(header)) return null
  const value = Number(header)
  return header.length >= 13 ? value / 1000 : value
}

/** Our reference (the customIdentifier) wherever this body's variant keeps it (§8: shapes drift). */
export function webhookReference (body: WebhookBodyValue): string | null {
  return body.data?.customIdentifier ?? body.data?.transaction?.customIdentifier ?? body.transaction?.customIdentifier ?? body.customIdentifier ?? null
}

/**
 * Verifies a Reloadly webhook (X-Reloadly-Signature over the raw body and
 * X-Reloadly-Request-Timestamp, within ±300 s) and reads our reference from it. Reasons
 * name what is wrong, never the body or the secret.
 */
export function parseReloadlyWebhook (secret: string, request: CallbackRequest, now: () => number = Date.now): CallbackResult {
  const reject = (reason: string, ack: CallbackAck = UNAUTHORIZED): CallbackResult => ({ verified: false, reason, ack: { ...ack } })
  const signature = request.headers['x-reloadly-signature']
  const timestamp = request.headers['x-reloadly-request-timestamp']
  if (!signature || !timestamp) return reject('webhook lacks X-Reloadly-Signature or X-Reloadly-Request-Timestamp')
  const seconds = timestampSeconds(timestamp.trim())
  if (seconds === null) return reject('webhook timestamp is not a number')
  if (Math.abs(now() / 1000 - seconds) > WEBHOOK_WINDOW_SECONDS) return reject(`webhook timestamp is more than ${WEBHOOK_WINDOW_SECONDS} s away from our clock`)
  if (!reloadlySignatureMatches(secret, request.rawBody, timestamp.trim(), signature)) return reject('webhook signature does not match')
  let json: unknown
  try {
    json = JSON.parse(request.rawBody)
  } catch {
    return reject('webhook body is not JSON', BAD_REQUEST)
  }
  const body = WebhookBody.safeParse(json)
  const reference = body.success ? webhookReference(body.data) : null
  // Genuine but about nothing of ours (another event type, no customIdentifier): answered 200
  // so that Reloadly does not retry it.
  if (reference === null) return reject('webhook names no customIdentifier', ACCEPTED)
  return { verified: true, reference, ack: { ...ACCEPTED } }
}
