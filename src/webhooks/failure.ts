import type { webhookFailureKind } from '../db/schema/webhooks.js'

/**
 * Why a callback attempt failed, in the few words resellers are shown. The full reason
 * stays with operators and logs: it can name the hosts and addresses our resolver saw,
 * which tell a reseller about our network.
 */
export type CallbackFailure = typeof webhookFailureKind.enumValues[number]

/** A failed attempt: `detail` for operators and logs, `kind` for everyone. */
export interface FailureReason { detail: string, kind: CallbackFailure }

/** Resolver failures that end in "no address" without saying whether an internal name exists. */
const UNRESOLVED = new Set(['EUNSAFETARGET', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA'])
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/** The class of an error thrown while sending (the status of an answer is `http_status`). */
export function classifySendError (err: unknown): Exclude<CallbackFailure, 'http_status' | 'url_refused'> {
  const code = String((err as NodeJS.ErrnoException | undefined)?.code)
  if ((err as Error | undefined)?.name === 'TimeoutError' || TIMEOUTS.has(code)) return 'timeout'
  // A private answer and no answer read the same, or the reply would reveal which internal
  // names exist.
  if (UNRESOLVED.has(code)) return 'no_public_address'
  return 'connection_failed'
}

export const PUBLIC_FAILURE_TEXT: Record<Exclude<CallbackFailure, 'http_status'>, string> = {
  timeout: 'timed out',
  connection_failed: 'connection failed',
  no_public_address: 'host name did not resolve to a public address',
  url_refused: 'callback URL refused by the gateway\'s callback policy'
}

/** What a reseller reads as `last_error`. */
export function publicFailureText (kind: CallbackFailure, lastStatus: number | null): string {
  return kind === 'http_status' ? `HTTP ${String(lastStatus)}` : PUBLIC_FAILURE_TEXT[kind]
}
