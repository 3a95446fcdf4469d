import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { openCardKey } from '../../src/db/repositories/card-keys.js'
import { build, type TestApp } from '../helper.js'

const run = promisify(execFile)
const SKU = 'steam-wallet-cny-50'
const OTHER = 'itunes-usd-10'

async function withSkus (t: Test): Promise<TestApp> {
  const ta = await build(t)
  for (const sku of [SKU, OTHER]) {
    const res = await ta.app.inject({
      method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'),
      payload: { sku, name: sku, category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 5000, currency: 'CNY', low_stock_threshold: 2 }
    })
    t.equal(res.statusCode, 201)
  }
  return ta
}

/** Codes that must never show up outside the pool's ciphertexts. */
const CODES = ['STEAM-AAAA-1111-ZZ01', 'STEAM-AAAA-2222-ZZ02', 'STEAM-AAAA-3333-ZZ03', 'STEAM-CSV-4444-ZZ04', 'STEAM-CSV-5555-ZZ05', 'ITUNES-6666-ZZ06']
const PINS = ['PIN-SECRET-81726354', 'PIN-SECRET-99887766']

t.test('JSON import counts in-batch and cross-pool duplicates and rejects bad lines', async (t) => {
  const ta = await withSkus(t)
  const first = await ta.app.inject({
    method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'),
    payload: {
      unit_cost: 4700, source: 'wholesaler-1',
      codes: [{ code: CODES[0], pin: PINS[0], serial: 'SN-1' }, { code: CODES[1] }, { code: ` ${CODES[0]} ` }, { code: '' }, { code: CODES[2], pin: PINS[1] }]
    }
  })
  t.equal(first.statusCode, 201)
  t.match(first.json(), { sku: SKU, imported: 3, duplicates: 1, rejected: 1, issues_truncated: false })
  t.match(first.json().batch_id, /^bat_/)
  t.same(first.json().issues, [
    { line: 3, kind: 'duplicate_in_batch', reason: 'code appears earlier in this batch (line 1)' },
    { line: 4, kind: 'rejected', reason: 'code is empty' }
  ])

  // The same code under another SKU is still a duplicate: the pool is one.
  const second = await ta.app.inject({
    method: 'POST', url: `/admin/v1/skus/${OTHER}/card-keys`, headers: ta.auth('ops'),
    payload: { unit_cost: 600, codes: [{ code: CODES[5] }, { code: CODES[1] }] }
  })
  t.match(second.json(), { imported: 1, duplicates: 1, rejected: 0, issues: [{ line: 2, kind: 'duplicate_in_pool' }] })
  t.notMatch(first.body + second.body, /STEAM-|ITUNES-|PIN-SECRET/, 'reports never contain codes')

  const stock = await ta.app.inject({ method: 'GET', url: `/admin/v1/skus/${SKU}/stock`, headers: ta.auth('support') })
  t.same(stock.json(), { sku: SKU, available: 3, expired: 0, sold: 0, redeemed: 0, voided: 0, low_stock_threshold: 2 })

  const unknown = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus/no-such-sku/card-keys', headers: ta.auth('ops'), payload: { unit_cost: 1, codes: [{ code: 'X-1' }] } })
  t.equal(unknown.statusCode, 404)
  const past = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, expires_at: '2020-01-01T00:00:00Z', codes: [{ code: 'X-2' }] } })
  t.equal(past.statusCode, 400)
  t.same(past.json().errors.map((e: { path: string }) => e.path), ['body.expires_at'])
})

t.test('batches with an expiry: JSON and CSV, shown on every key', async (t) => {
  const ta = await withSkus(t)
  const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString()
  const json = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, expires_at: expiresAt, codes: [{ code: 'EXP-JSON-1' }] } })
  t.equal(json.statusCode, 201, json.body)
  const csv = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys?unit_cost=1&expires_at=${encodeURIComponent(expiresAt)}`, headers: { ...ta.auth('ops'), 'content-type': 'text/csv' }, payload: 'EXP-CSV-1\n' })
  t.equal(csv.statusCode, 201, csv.body)
  for (const code of ['EXP-JSON-1', 'EXP-CSV-1']) {
    const found = await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code } })
    t.equal(found.json().expires_at, expiresAt)
  }
  const [batch] = await ta.database.sql`select expires_at from card_key_batches where id = ${json.json().batch_id}`
  t.equal(new Date(batch!.expires_at).toISOString(), expiresAt)
})

t.test('a SKU with prices or batches keeps its currency', async (t) => {
  const ta = await withSkus(t)
  const fields = { name: SKU, category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 5000 }
  const free = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${SKU}`, headers: ta.auth('ops'), payload: { ...fields, currency: 'USD' } })
  t.equal(free.statusCode, 200, 'nothing is priced yet')
  await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, codes: [{ code: 'CUR-1' }] } })
  const refused = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${SKU}`, headers: ta.auth('ops'), payload: { ...fields, currency: 'CNY' } })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().code, 'invalid_state')
  const same = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${SKU}`, headers: ta.auth('ops'), payload: { ...fields, currency: 'USD', name: 'renamed' } })
  t.equal(same.statusCode, 200, 'other fields still change')
})

t.test('CSV import: header, quoting, CRLF and bad lines reported by line', async (t) => {
  const ta = await withSkus(t)
  const csv = [
    'code,pin,serial',
    `${CODES[3]},,SN-9`,
    `"${CODES[4]}","p,1",`,
    '"UNTERMINATED-1',
    'A,B,C,D',
    `${CODES[3]}`,
    'BAD"QUOTE',
    ',pin-without-code',
    'CRLF-CODE-0001\r'
  ].join('\n') + '\n'
  const res = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys?unit_cost=4700&source=csv-drop`, headers: { ...ta.auth('ops'), 'content-type': 'text/csv' }, payload: csv })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json(), { imported: 3, duplicates: 1, rejected: 4 })
  t.same(res.json().issues.map((i: { line: number, kind: string }) => [i.line, i.kind]),
    [[4, 'rejected'], [5, 'rejected'], [6, 'duplicate_in_batch'], [7, 'rejected'], [8, 'rejected']])

  const noCost = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: { ...ta.auth('ops'), 'content-type': 'text/csv' }, payload: 'X-3\n' })
  t.equal(noCost.statusCode, 400)
  t.same(noCost.json().errors, [{ path: 'querystring.unit_cost', message: 'required for text/csv' }])

  const elsewhere = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: { ...ta.auth('ops'), 'content-type': 'text/csv' }, payload: 'a,b' })
  t.equal(elsewhere.statusCode, 415, 'CSV is accepted by the import route only')
})

t.test('look-up, void, reveal: audited, no decryption of other rows, nothing back on sale', async (t) => {
  const ta = await withSkus(t)
  await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, codes: [{ code: CODES[0], pin: PINS[0] }, { code: CODES[1] }] } })

  const found = await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code: `  ${CODES[1]}` } })
  t.equal(found.statusCode, 200)
  t.match(found.json(), { sku: SKU, status: 'available', order_id: null, reseller_id: null, sold_at: null })
  const id = found.json().id as string
  const [row] = await ta.database.sql`select fingerprint from card_keys where id = ${id}`
  t.ok(row?.fingerprint.equals(ta.keyring.fingerprint('card_key.code', CODES[1]!)), 'the right key')
  const missing = await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code: 'NOT-A-CODE' } })
  t.equal(missing.statusCode, 404)

  const onSale = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${id}/reveal`, headers: ta.auth('support') })
  t.equal(onSale.statusCode, 409)
  t.equal(onSale.json().code, 'invalid_state')

  const voided = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${id}/void`, headers: ta.auth('ops'), payload: { reason: 'supplier recalled the code' } })
  t.match(voided.json(), { status: 'voided', void_reason: 'supplier recalled the code' })
  const again = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${id}/void`, headers: ta.auth('ops'), payload: { reason: 'twice' } })
  t.same(again.json(), voided.json(), 'voiding is idempotent')

  const revealed = await ta.app.inject({ method: 'POST', url: `/admin/v1/card-keys/${id}/reveal`, headers: ta.auth('support') })
  t.equal(revealed.statusCode, 200)
  t.same(revealed.json(), { id, code: CODES[1], pin: null, serial: null })
  t.equal(revealed.headers['cache-control'], 'no-store')
  const after = await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code: CODES[1] } })
  t.ok(after.json().revealed_at, 'the reveal is stamped on the key')
  await t.rejects(ta.database.sql`update card_keys set status = 'available', voided_at = null, void_reason = null, revealed_at = null where id = ${id}`, /is not allowed/)

  const stock = await ta.app.inject({ method: 'GET', url: `/admin/v1/skus/${SKU}/stock`, headers: ta.auth('ops') })
  t.match(stock.json(), { available: 1, voided: 1 })

  const audit = await ta.app.inject({ method: 'GET', url: '/admin/v1/audit-log?target_type=card_key', headers: ta.auth('admin') })
  t.same(audit.json().data.map((e: { action: string }) => e.action).reverse(), ['card_key.lookup', 'card_key.lookup', 'card_key.void', 'card_key.reveal', 'card_key.lookup'])
  const importAudit = await ta.app.inject({ method: 'GET', url: '/admin/v1/audit-log?action=card_keys.import', headers: ta.auth('admin') })
  t.match(importAudit.json().data[0], { target_type: 'card_key_batch', actor_role: 'ops', details: { imported: 2 } })
  t.notMatch(JSON.stringify(audit.json()) + JSON.stringify(importAudit.json()), /STEAM-|PIN-SECRET/, 'audit holds no codes')
})

t.test('a ciphertext copied to another row fails to decrypt', async (t) => {
  const ta = await withSkus(t)
  await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, codes: [{ code: CODES[0] }, { code: CODES[1] }] } })
  const rows = await ta.database.sql<{ id: string, key_id: string, code_ciphertext: Buffer }[]>`select id, key_id, code_ciphertext from card_keys order by id`
  const [a, b] = rows
  const asStored = (r: typeof a) => ({ id: r!.id, keyId: r!.key_id, codeCiphertext: r!.code_ciphertext, pinCiphertext: null, serialCiphertext: null })
  t.ok([CODES[0], CODES[1]].includes(openCardKey(ta.keyring, asStored(a)).code), 'in place it decrypts')
  await ta.database.sql`update card_keys set code_ciphertext = ${a!.code_ciphertext} where id = ${b!.id}`
  const [moved] = await ta.database.sql<{ id: string, key_id: string, code_ciphertext: Buffer }[]>`select id, key_id, code_ciphertext from card_keys where id = ${b!.id}`
  t.throws(() => openCardKey(ta.keyring, asStored(moved)), /decryption failed/)
})

t.test('no code or PIN in logs, metrics, or a pg_dump of the database', async (t) => {
  const ta = await withSkus(t)
  await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, codes: CODES.slice(0, 3).map((code, i) => ({ code, pin: PINS[i] ?? null })) } })
  await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${SKU}/card-keys?unit_cost=1`, headers: { ...ta.auth('ops'), 'content-type': 'text/csv' }, payload: `${CODES[3]},${PINS[1]}\n"bad\n` })
  await ta.app.inject({ method: 'POST', url: '/admin/v1/card-keys/lookup', headers: ta.auth('support'), payload: { code: CODES[3] } })
  const metrics = await ta.app.inject({ method: 'GET', url: '/metrics' })
  t.ok(metrics.body.includes(`card_pool_available_keys{sku="${SKU}"} 4`), 'stock gauge per SKU')
  t.notOk(metrics.body.includes(`card_pool_available_keys{sku="${OTHER}"}`), 'SKUs that never had a batch are not reported')

  const secrets = [...CODES.slice(0, 4), ...PINS]
  const logs = ta.logs.text()
  t.match(logs, /request completed/)
  for (const s of secrets) t.notOk(logs.includes(s) || metrics.body.includes(s), `no ${s.slice(0, 9)}… in logs or metrics`)

  const dump = await dumpDatabase(t, ta.databaseUrl)
  t.match(dump, /card_keys/, 'the dump has the pool table')
  for (const s of secrets) t.notOk(dump.includes(s), `no ${s.slice(0, 9)}… in the dump`)
  // bytea is dumped as hex: search that spelling of each code too.
  for (const s of secrets) t.notOk(dump.includes(Buffer.from(s).toString('hex')), `no hex ${s.slice(0, 9)}… in the dump`)
})

/**
 * pg_dump of the test database. Falls back to COPY of every table (the same rows, as text)
 * when no pg_dump matching the server's major version is installed, and says so.
 */
async function dumpDatabase (t: Test, url: string): Promise<string> {
  try {
    const { stdout } = await run('pg_dump', ['--no-owner', url], { maxBuffer: 256 * 1024 * 1024 })
    return stdout
  } catch (err) {
    t.comment(`pg_dump unavailable for this server (${(err as Error).message.split('\n')[0]}); dumping every table with COPY instead`)
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      const tables = await sql<{ name: string }[]>`select tablename as name from pg_tables where schemaname = 'public'`
      let out = ''
      for (const { name } of tables) {
        out += `-- ${name}\n`
        const rows = await sql.unsafe(`select * from ${name}`)
        out += rows.map((r) => JSON.stringify(r, (_k, v) => (v?.type === 'Buffer' ? '\\x' + Buffer.from(v.data).toString('hex') : v))).join('\n') + '\n'
      }
      return out
    } finally {
      await sql.end()
    }
  }
}
