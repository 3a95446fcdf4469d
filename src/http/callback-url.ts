import { GatewayError } from '../errors/gateway-error.js'

/**
 * A callback URL as stored: parsed and normalised (scheme and host lower-cased), https
 * unless the operator allows plain http. Address checks against private and metadata
 * targets come with the webhook dispatcher (at registration and again at connection time).
 */
export function normaliseCallbackUrl (raw: string | null | undefined, allowPlainHttp: boolean, path: string): string | null | undefined {
  if (raw === null || raw === undefined) return raw
  const url = new URL(raw)
  if (url.protocol !== 'https:' && !(allowPlainHttp && url.protocol === 'http:')) {
    throw new GatewayError('invalid_request', { detail: 'callback URLs must be https', errors: [{ path, message: 'expected an https URL' }] })
  }
  if (url.username || url.password) {
    throw new GatewayError('invalid_request', { detail: 'callback URLs must not carry credentials', errors: [{ path, message: 'no user:password@ in the URL' }] })
  }
  return url.href
}
