const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Parses `250ms`, `5s`, `30m`, `2h`, `1d` into milliseconds. */
export function parseDuration (text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text)
  if (!match) throw new Error(`"${text}" is not a duration`)
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}
