import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import ipaddr from 'ipaddr.js'

/**
 * Callback targets must be public unicast addresses. ipaddr.js classifies every special
 * range (loopback, private, link-local incl. cloud metadata, CGNAT, multicast, reserved,
 * unique-local, and the IPv4-in-IPv6 forms: mapped, NAT64, 6to4, Teredo); only `unicast`
 * passes. IPv4-mapped IPv6 is unwrapped first, so ::ffff:127.0.0.1 counts as 127.0.0.1.
 */
/** Cloud metadata and platform endpoints that sit on public unicast addresses. */
const METADATA = new Set(['168.63.129.16', '100.100.100.200', '169.254.169.254'])

export function addressAllowed (address: string): boolean {
  if (!ipaddr.isValid(address)) return false
  const parsed = ipaddr.process(address)
  if (parsed.range() !== 'unicast' || METADATA.has(parsed.toString())) return false
  // Deprecated IPv4-compatible IPv6 (::/96, e.g. ::7f00:1) still names an IPv4 host.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return false
  return true
}

export class UnsafeTargetError extends Error {
  override name = 'UnsafeTargetError'
}

/**
 * Scheme, credentials and literal-address checks of a callback URL, at registration. The
 * WHATWG parser has already turned numeric spellings (2130706433, 0x7f.1, 0177.0.0.1) into
 * dotted quads, so they are judged as the address they are.
 */
export function checkCallbackUrl (raw: string, allowPrivate: boolean): URL {
  const url = new URL(raw)
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) throw new UnsafeTargetError('callback URLs must be https')
  if (url.username || url.password) throw new UnsafeTargetError('callback URLs must not carry credentials')
  if (allowPrivate) return url
  // `localhost.` is `localhost`: judge names without their root dot.
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '')
  if (ipaddr.isValid(host)) {
    if (!addressAllowed(host)) throw new UnsafeTargetError('callback URLs must not point at private, loopback, link-local or reserved addresses')
  } else if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) {
    throw new UnsafeTargetError('callback URLs need a public host name')
  }
  return url
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A dns.lookup for the HTTP client that refuses private answers, so the address checked is
 * the address connected to: a name that resolves to 10.0.0.1 today (DNS rebinding) fails at
 * connection time even though it passed at registration.
 */
export function safeLookup (allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, [])
      const list = addresses as LookupAddress[]
      const bad = list.find((a) => !allowPrivate && !addressAllowed(a.address))
      if (bad || list.length === 0) {
        const refused = new UnsafeTargetError(`${hostname} resolves to a non-public address`) as NodeJS.ErrnoException
        refused.code = 'EUNSAFETARGET'
        return callback(refused, [])
      }
      if ((options as { all?: boolean }).all) return callback(null, list)
      const first = list[0] as LookupAddress
      callback(null, first.address, first.family)
    })
  }
}
