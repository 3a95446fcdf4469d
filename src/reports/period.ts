/**
 * A reporting period: `[from, to)`, both instants (RFC 3339 with an offset). Settlement
 * reports, statements and exports all take one, from the API and from the CLI alike.
 */
export interface Period {
  from: Date
  to: Date
}

/** Long enough for a year's report (leap years included), short enough to stay one query. */
export const MAX_PERIOD_DAYS = 366

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i

/** What is wrong with a pair of bounds, by bound; empty when they make a period. */
export function periodProblems (from: string, to: string): { field: 'from' | 'to', message: string }[] {
  const problems: { field: 'from' | 'to', message: string }[] = []
  const parse = (field: 'from' | 'to', value: string): number | undefined => {
    const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN
    if (Number.isNaN(ms)) problems.push({ field, message: 'expected an RFC 3339 timestamp such as 2026-11-01T00:00:00Z' })
    return Number.isNaN(ms) ? undefined : ms
  }
  const start = parse('from', from)
  const end = parse('to', to)
  if (start === undefined || end === undefined) return problems
  if (end <= start) problems.push({ field: 'to', message: 'must be after from' })
  else if (end - start > MAX_PERIOD_DAYS * 86_400_000) problems.push({ field: 'to', message: `at most ${MAX_PERIOD_DAYS} days after from` })
  return problems
}

/** The period of two bounds that periodProblems accepted. */
export function toPeriod (from: string, to: string): Period {
  return { from: new Date(from), to: new Date(to) }
}
