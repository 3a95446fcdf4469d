import { randomBytes } from 'node:crypto'
import { randomBytesFromPool } from '../crypto/random.js'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

export const ID_PREFIXES = ['ord', 'rsl', 'evt', 'ak', 'bat', 'ck', 'adt', 'req', 'sup', 'att', 'dlv', 'rsk'] as const
export type IdPrefix = typeof ID_PREFIXES[number]
export type Id<P extends IdPrefix> = `${P}_${string}`

function encode (bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

/** 16 bytes: the 48-bit millisecond time big-endian, then zeros. */
function timeBytes (ms: number): Uint8Array {
  const bytes = new Uint8Array(16)
  let t = ms
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256
    t = Math.floor(t / 256)
  }
  return bytes
}

let lastTime = -1
const lastRandom = new Uint8Array(10)

/**
 * `prefix_` + 48-bit millisecond time + 80 random bits, base32: ids sort by creation
 * time, which keeps b-tree inserts at the right edge and makes cursors stable. Within one
 * millisecond the random part counts up (as in monotonic ULIDs), so ids made by one
 * process always sort in the order they were made: "oldest first" means what it says.
 */
export function newId<P extends IdPrefix> (prefix: P, now = Date.now()): Id<P> {
  if (now > lastTime) {
    lastTime = now
    lastRandom.set(randomBytesFromPool(10))
  } else {
    for (let i = 9; i >= 0 && ++lastRandom[i]! === 256; i--) lastRandom[i] = 0
  }
  const bytes = timeBytes(lastTime)
  bytes.set(lastRandom, 6)
  return `${prefix}_${encode(bytes)}` as Id<P>
}

/** Random secret material: `prefix_` + 32 bytes in base64url (256 bits). */
export function newSecret (prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`
}

/**
 * The smallest id of this prefix made at or after `ms`: since ids sort by creation time,
 * `id >= idFloor(prefix, t)` selects rows made since `t` through the primary key alone.
 */
export function idFloor<P extends IdPrefix> (prefix: P, ms: number): Id<P> {
  return `${prefix}_${encode(timeBytes(Math.max(0, Math.floor(ms))))}` as Id<P>
}

/**
 * Rows the database numbers (ledger entries, audit entries, alert events) keep their serial
 * as the key, and show it with a type prefix on the wire, like every other id.
 */
export function serialId (prefix: 'led' | 'aud' | 'alr', serial: number | string): string {
  return `${prefix}_${serial}`
}
