import type { RecipientType } from '../catalog.js'

const E164 = /^\+[1-9]\d{6,14}$/
const ACCOUNT = /^[^\u0000-\u001f\u007f]{1,128}$/

/** Field errors when the recipient does not fit the SKU's recipient type; empty when it fits. */
export function recipientProblems (type: RecipientType, recipient: Record<string, string>): { path: string, message: string }[] {
  const expected: Record<RecipientType, string[]> = { account: ['account'], phone: ['phone'], game_account: ['account', 'server'], none: [] }
  const problems: { path: string, message: string }[] = []
  for (const key of Object.keys(recipient)) {
    if (!expected[type].includes(key)) problems.push({ path: `body.recipient.${key}`, message: `not used by ${type} recipients` })
  }
  for (const key of expected[type]) {
    const value = recipient[key]
    if (value === undefined) problems.push({ path: `body.recipient.${key}`, message: 'required' })
    else if (key === 'phone' && !E164.test(value)) problems.push({ path: 'body.recipient.phone', message: 'expected E.164, e.g. +8613800138000' })
    else if (!ACCOUNT.test(value)) problems.push({ path: `body.recipient.${key}`, message: 'expected 1..128 printable characters' })
  }
  return problems
}
