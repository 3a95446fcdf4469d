import postgres from 'postgres'
import t, { type Test } from 'tap'
import { createKeyring } from '../../src/crypto/keyring.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { findByCode, openCardKey } from '../../src/db/repositories/card-keys.js'
import { CopyBinaryWriter } from '../../src/pool/copy-binary.js'
import { importBatch, type ImportIssue } from '../../src/pool/import-batch.js'
import type { ImportLine } from '../../src/pool/csv.js'
import { createTestDatabase, TEST_KEYS } from '../helper.js'

const keyring = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
const actor = { actorId: 'test', actorRole: 'admin' as const, requestId: 'test', ip: 'local' }

async function setup (t: Test): Promise<postgres.Sql> {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const sql = postgres(url, { max: 4, onnotice: () => {} })
  t.teardown(() => sql.end())
  for (const sku of ['gc-imp', 'gc-imp-other']) {
    await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
      values (${sku}, ${sku}, 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
  }
  return sql
}

t.test('binary COPY rows: header, fields, NULLs and the trailer as PostgreSQL reads them', async (t) => {
  const sql = await setup(t)
  const rows = new CopyBinaryWriter(3, 64)
  const blob = Buffer.from([0, 1, 2, 255, 92, 120])
  for (let i = 0; i < 500; i++) {
    rows.row()
    rows.text(`ид-${i}-${'x'.repeat(i)}`)
    rows.bytes(i % 2 === 0 ? blob : null)
    rows.text(i % 3 === 0 ? null : '')
  }
  t.equal(rows.rows, 500)
  const data = rows.take()
  t.equal(rows.rows, 0, 'the writer starts over')
  await sql.begin(async (tx) => {
    await tx`create temp table copied (t text, b bytea, e text) on commit drop`
    const stream = await tx`copy copied from stdin (format binary)`.writable()
    await new Promise<void>((resolve, reject) => stream.on('error', reject).end(data, resolve))
    const back = await tx<{ t: string, b: Buffer | null, e: string | null }[]>`select t, b, e from copied`
    t.equal(back.length, 500)
    t.ok(back.every((r, i) => r.t === `ид-${i}-${'x'.repeat(i)}`), 'text as UTF-8')
    t.ok(back.every((r, i) => i % 2 === 0 ? r.b?.equals(blob) : r.b === null), 'bytes as they were, and NULL')
    t.ok(back.every((r, i) => i % 3 === 0 ? r.e === null : r.e === ''), 'NULL is not the empty string')
  })
})

t.test('an import larger than one chunk: duplicates across chunks by line, every field intact', async (t) => {
  const sql = await setup(t)
  const before = await importBatch(sql, keyring, { sku: 'gc-imp-other', unitCost: 1, expiresAt: null, source: null, actor },
    [{ line: 1, key: { code: 'ELSEWHERE-1' } }])
  t.equal(before.imported, 1)

  const n = 25_000
  const lines: ImportLine[] = []
  for (let i = 0; i < n; i++) {
    const key = { code: `IMP-${String(i).padStart(6, '0')}`, pin: i % 3 === 0 ? `pïn-${i}` : i % 3 === 1 ? '' : null, serial: i % 5 === 0 ? `SER-${i}` : undefined }
    lines.push({ line: i + 1, key })
  }
  // Repeats of lines in earlier chunks (the index refuses them), in the same chunk (caught
  // before the database), a code of another batch, and a bad line between them.
  lines.push({ line: n + 1, key: { code: 'IMP-000003' } })
  lines.push({ line: n + 2, key: { code: 'IMP-024999' } })
  lines.push({ line: n + 3, key: { code: 'ELSEWHERE-1' } })
  lines.push({ line: n + 4, error: 'unterminated quoted field' })
  lines.push({ line: n + 5, key: { code: ' IMP-012345 ' } })
  const issues: ImportIssue[] = []
  const summary = await importBatch(sql, keyring, { sku: 'gc-imp', unitCost: 5, expiresAt: null, source: 'test', actor }, lines, { onIssue: (i) => issues.push(i) })
  t.match(summary, { imported: n, duplicates: 4, rejected: 1 })
  t.same(issues.map((i) => [i.line, i.kind]), [
    [n + 1, 'duplicate_in_batch'], [n + 2, 'duplicate_in_batch'], [n + 3, 'duplicate_in_pool'], [n + 4, 'rejected'], [n + 5, 'duplicate_in_batch']
  ], 'in line order')
  t.equal(issues[1]?.reason, 'code appears earlier in this batch (line 25000)', 'same chunk: the earlier line is known')

  const [counts] = await sql<{ n: number, batches: number }[]>`select count(*)::int as n, count(distinct batch_id)::int as batches from card_keys where sku = 'gc-imp'`
  t.same(counts, { n, batches: 1 })
  const rows = await sql<{ id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null, never: boolean }[]>`
    select id, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext, expires_at = 'infinity' as never from card_keys where sku = 'gc-imp' order by id`
  const opened = rows.map((r) => openCardKey(keyring, { id: r.id, keyId: r.key_id, codeCiphertext: r.code_ciphertext, pinCiphertext: r.pin_ciphertext, serialCiphertext: r.serial_ciphertext }))
  t.ok(opened.every((o, i) => o.code === `IMP-${String(i).padStart(6, '0')}`), 'ids follow line order; every code decrypts under its row')
  t.ok(opened.every((o, i) => o.pin === (i % 3 === 0 ? `pïn-${i}` : null)), 'PINs intact; an empty PIN is none')
  t.ok(opened.every((o, i) => o.serial === (i % 5 === 0 ? `SER-${i}` : null)), 'serials intact')
  t.ok(rows.every((r) => r.key_id === keyring.primaryKeyId && r.never), 'primary key id; no expiry is infinity')
  t.match(await findByCode(sql, keyring, 'IMP-017000'), { sku: 'gc-imp', batchId: summary.batchId, status: 'available' }, 'found by fingerprint')

  const [stage] = await sql`select count(*)::int as n from pg_class where relname = 'card_key_import'`
  t.equal(stage?.n, 0, 'the staging table went with the transaction')
})

t.test('a failing import keeps nothing, and its connection is usable again', async (t) => {
  const sql = await setup(t)
  async function * lines (): AsyncGenerator<ImportLine> {
    for (let i = 0; i < 45_000; i++) yield { line: i + 1, key: { code: `FAIL-${i}` } }
    throw new Error('source broke')
  }
  await t.rejects(importBatch(sql, keyring, { sku: 'gc-imp', unitCost: 1, expiresAt: null, source: null, actor }, lines()), /source broke/)
  const [left] = await sql`select (select count(*) from card_keys)::int as keys, (select count(*) from card_key_batches)::int as batches`
  t.same(left, { keys: 0, batches: 0 })
  const again = await importBatch(sql, keyring, { sku: 'gc-imp', unitCost: 1, expiresAt: null, source: null, actor }, [{ line: 1, key: { code: 'FAIL-1' } }])
  t.equal(again.imported, 1)
})

t.test('a code another import holds uncommitted: the chunk waits, then reports it as a duplicate in the pool', async (t) => {
  const sql = await setup(t)
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let stored!: () => void
  const firstChunkStored = new Promise<void>((resolve) => { stored = resolve })
  async function * slow (): AsyncGenerator<ImportLine> {
    // One full chunk (stored at once), then the transaction stays open until released.
    for (let i = 0; i < 20_000; i++) yield { line: i + 1, key: { code: i === 7 ? 'RACE-1' : `SLOW-${i}` } }
    await released
    yield { line: 20_001, key: { code: 'SLOW-LAST' } }
  }
  const first = importBatch(sql, keyring, { sku: 'gc-imp', unitCost: 1, expiresAt: null, source: null, actor }, slow(), { onProgress: () => stored() })
  await firstChunkStored
  const issues: ImportIssue[] = []
  const second = importBatch(sql, keyring, { sku: 'gc-imp-other', unitCost: 1, expiresAt: null, source: null, actor },
    [{ line: 1, key: { code: 'RACE-2' } }, { line: 2, key: { code: 'RACE-1' } }], { onIssue: (i) => issues.push(i) })
  await new Promise((resolve) => setTimeout(resolve, 300))
  release()
  t.match(await first, { imported: 20_001, duplicates: 0 })
  t.match(await second, { imported: 1, duplicates: 1 })
  t.same(issues, [{ line: 2, kind: 'duplicate_in_pool', reason: 'code is already in the pool' }])
  const [holder] = await sql`select sku from card_keys where fingerprint = ${keyring.fingerprint('card_key.code', 'RACE-1')}`
  t.equal(holder?.sku, 'gc-imp', 'the first import kept it')
})
