const YUAN = /^(-?)(\d+)(?:\.(\d+))?$/

/**
 * Yuan (a JSON number or a decimal string such as "1234.50" or "27.9000") to fen, parsed as
 * text so that no binary fraction creeps in. Chinese suppliers keep up to four decimals; a
 * fraction of a fen is rounded down so that a balance is never overstated.
 */
export function yuanToFen (value: string | number): number {
  const match = YUAN.exec(typeof value === 'number' ? String(value) : value.trim())
  if (!match) throw new Error('amount is not a decimal number of yuan')
  const [, minus, whole, fraction = ''] = match as unknown as [string, string, string, string | undefined]
  const magnitude = BigInt(whole) * 100n + BigInt(fraction.slice(0, 2).padEnd(2, '0'))
  const subFen = /[1-9]/.test(fraction.slice(2))
  const fen = minus ? -magnitude - (subFen ? 1n : 0n) : magnitude
  if (fen > BigInt(Number.MAX_SAFE_INTEGER) || fen < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('amount of yuan is out of range')
  return Number(fen)
}
