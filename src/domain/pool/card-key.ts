export const CARD_KEY_STATUSES = ['available', 'sold', 'redeemed', 'voided'] as const
export type CardKeyStatus = typeof CARD_KEY_STATUSES[number]

/**
 * Allowed moves. Nothing ever returns to `available`: a code that left the shelf may have
 * been seen by someone, so selling it again could sell it twice.
 */
export const CARD_KEY_TRANSITIONS: Record<CardKeyStatus, readonly CardKeyStatus[]> = {
  available: ['sold', 'voided'],
  sold: ['redeemed', 'voided'],
  redeemed: ['voided'],
  voided: []
}

export const MAX_CODE_LENGTH = 512

export interface PlainCardKey {
  code: string
  pin?: string | null | undefined
  serial?: string | null | undefined
}

/** Why a line of an import is refused; never includes the code itself. */
export function checkCardKey (key: PlainCardKey): string | undefined {
  const fields: [string, string | null | undefined][] = [['code', key.code], ['pin', key.pin], ['serial', key.serial]]
  if (!key.code || key.code.trim() === '') return 'code is empty'
  for (const [name, value] of fields) {
    if (value === null || value === undefined) continue
    if (value.length > MAX_CODE_LENGTH) return `${name} is longer than ${MAX_CODE_LENGTH} characters`
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) return `${name} contains control characters`
  }
  return undefined
}

/** Codes are compared after trimming surrounding whitespace: ` ABC ` and `ABC` are one code. */
export function normaliseCardKey (key: PlainCardKey): { code: string, pin: string | null, serial: string | null } {
  const opt = (v: string | null | undefined) => (v === undefined || v === null || v.trim() === '' ? null : v.trim())
  return { code: key.code.trim(), pin: opt(key.pin), serial: opt(key.serial) }
}
