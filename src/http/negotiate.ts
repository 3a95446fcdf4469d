/**
 * Whether a report should answer CSV: `text/csv` is listed in `accept` with a weight at
 * least that of JSON (`application/json`, `application/*` or a wildcard). JSON otherwise.
 */
export function wantsCsv (accept: string | undefined): boolean {
  if (!accept) return false
  let csv = 0
  let json = 0
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim())
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? '1')
    const weight = Number.isFinite(q) ? q : 0
    if (type === 'text/csv') csv = Math.max(csv, weight)
    else if (type === 'application/json' || type === 'application/*' || type === '*/*') json = Math.max(json, weight)
  }
  return csv > 0 && csv >= json
}
