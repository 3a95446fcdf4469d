/**
 * Timestamps from raw queries: drizzle turns off postgres.js's date parsing on the client
 * it wraps, so they arrive as text there (and as Date on a plain client). `infinity`, our
 * "never expires", and anything unreadable become null.
 */
export function toDate (value: unknown): Date | null {
  if (value === null || value === undefined || value === 'infinity') return null
  const date = value instanceof Date ? value : new Date(String(value))
  return Number.isFinite(date.getTime()) ? date : null
}
