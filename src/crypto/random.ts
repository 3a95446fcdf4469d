import { randomFillSync } from 'node:crypto'

/**
 * Random bytes for IVs and ids, drawn from a CSPRNG-filled buffer refilled 64 KiB at a
 * time: one randomFillSync call per 12-byte IV was a fifth of the CPU of a bulk import.
 * The bytes are exactly as random; only the system calls are batched.
 */
const POOL_BYTES = 64 * 1024
const pool = Buffer.allocUnsafe(POOL_BYTES)
let offset = POOL_BYTES

export function randomBytesFromPool (n: number): Buffer {
  if (n > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} bytes at a time`)
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  // A copy, so a later refill never changes bytes already handed out.
  const out = Buffer.from(pool.subarray(offset, offset + n))
  offset += n
  return out
}
