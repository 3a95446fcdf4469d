import { GatewayError } from '../errors/gateway-error.js'
import { checkCallbackUrl, UnsafeTargetError } from '../webhooks/ssrf.js'

/**
 * A callback URL as stored: parsed, normalised (scheme and host lower-cased, numeric host
 * spellings turned into addresses) and refused when it is not https or points at a private,
 * loopback, link-local, metadata or reserved address, unless the operator allows private
 * targets (CALLBACK_ALLOW_PRIVATE). The dispatcher checks the resolved address again when
 * it connects.
 */
export function normaliseCallbackUrl (raw: string | null | undefined, allowPrivate: boolean, path: string): string | null | undefined {
  if (raw === null || raw === undefined) return raw
  try {
    return checkCallbackUrl(raw, allowPrivate).href
  } catch (err) {
    if (!(err instanceof UnsafeTargetError)) throw err
    throw new GatewayError('invalid_request', { detail: err.message, errors: [{ path, message: err.message }] })
  }
}
