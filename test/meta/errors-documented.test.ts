import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { catalogue, errorCodes, type ErrorSpec } from '../../src/errors/catalogue.js'
import { packageRoot } from '../../src/paths.js'

const ERRORS_MD = join(packageRoot, 'openapi', 'errors.md')

/** The error table of api.md (the binding public contract), copied here because CI has no docs folder. */
const API_MD_CODES: ReadonlyArray<readonly [code: string, status: number]> = [
  ['invalid_request', 400],
  ['unauthorized', 401],
  ['signature_invalid', 401],
  ['timestamp_out_of_window', 401],
  ['replayed_request', 401],
  ['insufficient_balance', 402],
  ['forbidden', 403],
  ['ip_not_allowed', 403],
  ['not_found', 404],
  ['idempotency_conflict', 409],
  ['sku_unavailable', 409],
  ['price_changed', 409],
  ['payload_too_large', 413],
  ['recipient_invalid', 422],
  ['rate_limited', 429],
  ['internal_error', 500],
  ['unavailable', 503]
]

interface Section {
  code: string
  body: string
}

function sections (markdown: string): Section[] {
  const out: Section[] = []
  // Fenced blocks may contain lines starting with '#'; they are not headings.
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '')
  const parts = text.split(/^## +/m).slice(1)
  for (const part of parts) {
    const newline = part.indexOf('\n')
    out.push({ code: (newline === -1 ? part : part.slice(0, newline)).trim().replace(/^`|`$/g, ''), body: newline === -1 ? '' : part.slice(newline + 1) })
  }
  return out
}

t.test('openapi/errors.md documents the catalogue', async (t) => {
  const found = sections(await readFile(ERRORS_MD, 'utf8'))
  const documented = new Map(found.map((s) => [s.code, s]))
  t.equal(documented.size, found.length, 'no code has two sections')

  for (const code of errorCodes) {
    const section = documented.get(code)
    if (!section) {
      t.fail(`${code} has no "## ${code}" section in openapi/errors.md`)
      continue
    }
    const status = /^- \*\*Status:\*\* (\d{3})\s*$/m.exec(section.body)?.[1]
    t.equal(Number(status), catalogue[code].status, `${code}: status in errors.md matches the catalogue`)
    for (const field of ['Meaning', 'Typical cause', 'Retry']) {
      t.match(section.body, new RegExp(`^- \\*\\*${field}:\\*\\* \\S`, 'm'), `${code}: has ${field}`)
    }
  }

  for (const { code } of found) {
    t.ok(code in catalogue, `errors.md section "## ${code}" names a code that is not in src/errors/catalogue.ts`)
  }

  t.same(found.map((s) => s.code), errorCodes, 'sections follow the catalogue order')
})

t.test('retryable codes say so in their Retry line', async (t) => {
  const documented = new Map(sections(await readFile(ERRORS_MD, 'utf8')).map((s) => [s.code, s.body]))
  for (const code of errorCodes) {
    const spec: ErrorSpec = catalogue[code]
    const retry = /^- \*\*Retry:\*\* (.*)$/m.exec(documented.get(code) ?? '')?.[1] ?? ''
    if (spec.retryable === true) t.match(retry, /^Yes\b/, `${code} is retryable`)
  }
})

t.test('every code of the api.md error table is in the catalogue with the same status', async (t) => {
  for (const [code, status] of API_MD_CODES) {
    t.ok(code in catalogue, `${code} is in the catalogue`)
    t.equal((catalogue as Record<string, ErrorSpec | undefined>)[code]?.status, status, `${code} is ${status}`)
  }
})
