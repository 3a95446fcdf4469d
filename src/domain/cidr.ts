import { BlockList, isIP } from 'node:net'

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Undefined when malformed. */
export function parseCidr (text: string): { address: string, prefix: number, family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = text.trim().split('/')
  const version = isIP(address)
  if (version === 0 || extra !== undefined) return undefined
  const max = version === 4 ? 32 : 128
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined
  const prefix = prefixText === undefined ? max : Number(prefixText)
  if (prefix > max) return undefined
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

/** An allowlist: an empty one admits every address. */
export function allowlistMatcher (cidrs: readonly string[]): (ip: string) => boolean {
  return cidrs.length === 0 ? () => true : cidrMatcher(cidrs)
}

/**
 * Whether an address is in any of these CIDRs (none: never). Node's own BlockList does the
 * matching, including IPv4-mapped IPv6 callers (`::ffff:10.1.2.3` matches `10.0.0.0/8`).
 */
export function cidrMatcher (cidrs: readonly string[]): (ip: string) => boolean {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr)
    if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family)
  }
  return (ip) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
    const address = mapped?.[1] ?? ip
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6')
  }
}
