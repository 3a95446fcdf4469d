import type { PlainCardKey } from '../domain/pool/card-key.js'

/** One source line of an import: a key, or the reason the line is refused (never the code). */
export type ImportLine = { line: number, key: PlainCardKey, error?: undefined } | { line: number, key?: undefined, error: string }

const HEADER = /^\s*code\s*(,\s*pin\s*)?(,\s*serial\s*)?$/i

/** RFC 4180 fields of one line; quoted fields may hold commas and doubled quotes. */
export function parseCsvLine (text: string): string[] | { error: string } {
  const fields: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        if (i >= text.length) return { error: 'unterminated quoted field' }
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue }
          i++
          break
        }
        field += text[i++]
      }
      if (i < text.length && text[i] !== ',') return { error: 'text after a closing quote' }
    } else {
      const end = text.indexOf(',', i)
      field = end === -1 ? text.slice(i) : text.slice(i, end)
      if (field.includes('"')) return { error: 'quote inside an unquoted field' }
      i = end === -1 ? text.length : end
    }
    fields.push(field)
    if (i >= text.length) return fields
    i++ // the comma
  }
}

/**
 * Turns `code,pin,serial` lines into import lines, numbered from 1 as an editor shows them.
 * A first line that names the columns is a header and is skipped.
 */
export async function * csvCardKeys (lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<ImportLine> {
  let n = 0
  for await (const raw of lines) {
    n++
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (n === 1 && HEADER.test(text)) continue
    const fields = parseCsvLine(text)
    if (!Array.isArray(fields)) {
      yield { line: n, error: fields.error }
    } else if (fields.length > 3) {
      yield { line: n, error: `expected at most 3 columns (code,pin,serial), found ${fields.length}` }
    } else {
      yield { line: n, key: { code: fields[0] ?? '', pin: fields[1], serial: fields[2] } }
    }
  }
}
