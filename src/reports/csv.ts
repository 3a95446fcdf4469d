export type CsvValue = string | number | null | undefined

/**
 * One RFC 4180 record with its CRLF. A field is quoted when it holds a comma, a quote, a
 * line break or surrounding spaces (which spreadsheets would otherwise trim); null and
 * undefined are empty fields.
 */
export function csvRecord (values: readonly CsvValue[]): string {
  return values.map(csvField).join(',') + '\r\n'
}

function csvField (value: CsvValue): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Picks the columns of a record from an object, in the header's order. */
export function csvRow<K extends string> (columns: readonly K[], row: Readonly<Record<K, CsvValue>>): string {
  return csvRecord(columns.map((c) => row[c]))
}
