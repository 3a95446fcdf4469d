import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { createKeyring, generateKeyMaterial } from '../../src/crypto/keyring.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { keyringFromDatabase } from '../../src/db/repositories/keyring-secrets.js'
import { createTestDatabase, runCli, spawnGateway, TEST_KEYS, testEnv } from '../helper.js'

async function setup (t: Test): Promise<{ url: string, sql: postgres.Sql }> {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const sql = postgres(url, { max: 4, onnotice: () => {} })
  t.teardown(() => sql.end())
  return { url, sql }
}

/** A card SKU to import into, and a folder for the CSV files. */
async function withSku (t: Test, sql: postgres.Sql, sku: string): Promise<string> {
  await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
    values (${sku}, 'card', 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
  const dir = await mkdtemp(join(tmpdir(), 'egw-fp-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const probe = (k: { fingerprint: (purpose: string, value: string) => Buffer }): string => k.fingerprint('card_key.code', 'PROBE-1').toString('hex')

t.test('without FINGERPRINT_KEY: one key, generated on the first start and kept sealed, even when processes start together', async (t) => {
  const { url, sql } = await setup(t)
  const pools = Array.from({ length: 6 }, () => postgres(url, { max: 1, onnotice: () => {} }))
  t.teardown(async () => { await Promise.all(pools.map(async (p) => { await p.end() })) })
  const started = await Promise.all(pools.map(async (p) => await keyringFromDatabase(p, TEST_KEYS.encryptionKeys, undefined)))
  t.equal(started.filter((s) => s.created).length, 1, 'one process generated it')
  t.equal(new Set(started.map((s) => probe(s.keyring))).size, 1, 'every process fingerprints alike')
  const later = await keyringFromDatabase(sql, TEST_KEYS.encryptionKeys, undefined)
  t.notOk(later.created)
  t.equal(probe(later.keyring), probe(started[0]!.keyring), 'and so does a later start')

  const [row] = await sql<{ key_id: string, ciphertext: Buffer }[]>`select key_id, ciphertext from keyring_secrets where name = 'fingerprint_key'`
  t.equal(row?.key_id, 'test1', 'sealed under the primary key')
  t.equal(row?.ciphertext.length, 12 + 32 + 16, 'iv, the sealed 32 bytes and the tag: not the key in clear')

  await t.rejects(keyringFromDatabase(sql, generateKeyMaterial('other').encryptionKeys, undefined), /no key with id test1/, 'without the sealing key it cannot be read')
  await t.rejects(keyringFromDatabase(sql, TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey), /FINGERPRINT_KEY differs from the fingerprint key this database keeps/,
    'a FINGERPRINT_KEY set later must be the stored one')
})

t.test('a FINGERPRINT_KEY in use is pinned in the database; without one kept, a database with codes needs FINGERPRINT_KEY', async (t) => {
  const { url, sql } = await setup(t)
  const dir = await withSku(t, sql, 'gc-fp')
  await writeFile(join(dir, 'keys.csv'), 'FP-CODE-1\nFP-CODE-2\n')
  const imported = await runCli(['keys', 'import', '--sku', 'gc-fp', '--file', join(dir, 'keys.csv'), '--unit-cost', '1'], testEnv(url))
  t.equal(imported.code, 0, imported.stderr)
  t.equal((await sql`select 1 from keyring_secrets where name = 'fingerprint_key'`).length, 1, 'the key given is stored, sealed')
  const given = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
  const without = await keyringFromDatabase(sql, TEST_KEYS.encryptionKeys, undefined)
  t.notOk(without.created)
  t.equal(probe(without.keyring), probe(given), 'a start without FINGERPRINT_KEY uses the same key, so it cannot pick another')

  // As a version that did not store the key it was given leaves the database.
  await sql`delete from keyring_secrets`
  const { FINGERPRINT_KEY: _dropped, ...withoutFingerprint } = testEnv(url)
  const refused = await runCli(['keys', 'import', '--sku', 'gc-fp', '--file', join(dir, 'keys.csv'), '--unit-cost', '1'], withoutFingerprint)
  t.equal(refused.code, 78, 'a configuration error (EX_CONFIG)')
  t.match(refused.stderr, /FINGERPRINT_KEY is required: this database holds card keys fingerprinted with a key it does not keep/)
  t.notMatch(refused.stderr, TEST_KEYS.fingerprintKey, 'no key material in the message')
  t.equal((await sql`select 1 from keyring_secrets`).length, 0, 'and nothing was generated')
})

t.test('keys rotate re-seals the stored key: after dropping the old key, codes are still found by fingerprint', async (t) => {
  const { url, sql } = await setup(t)
  const dir = await withSku(t, sql, 'gc-rot')
  await writeFile(join(dir, 'keys.csv'), 'ROT-FP-1\n')
  const { FINGERPRINT_KEY: _dropped, ...env } = testEnv(url)
  const first = await runCli(['keys', 'import', '--sku', 'gc-rot', '--file', join(dir, 'keys.csv'), '--unit-cost', '1'], env)
  t.equal(first.code, 0, first.stderr)

  const fresh = generateKeyMaterial('k2').encryptionKeys
  const rotated = await runCli(['keys', 'rotate'], { ...env, ENCRYPTION_KEYS: `${fresh},${TEST_KEYS.encryptionKeys}` })
  t.equal(rotated.code, 0, rotated.stderr)
  t.match(rotated.stdout, /rotated 1 card keys, .* and 1 stored key\(s\) to key k2/)
  const [row] = await sql<{ key_id: string }[]>`select key_id from keyring_secrets`
  t.equal(row?.key_id, 'k2')

  const { keyring } = await keyringFromDatabase(sql, fresh, undefined)
  const [key] = await sql<{ fingerprint: Buffer }[]>`select fingerprint from card_keys`
  t.ok(key?.fingerprint.equals(keyring.fingerprint('card_key.code', 'ROT-FP-1')), 'the same fingerprint key, read with the new key alone')
  await writeFile(join(dir, 'again.csv'), 'ROT-FP-1\n')
  const again = await runCli(['keys', 'import', '--sku', 'gc-rot', '--file', join(dir, 'again.csv'), '--unit-cost', '1'], { ...env, ENCRYPTION_KEYS: fresh })
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /imported 0, duplicates 1/, 'the old code is still recognised as a duplicate')
})

t.test('serve starts on DATABASE_URL and ENCRYPTION_KEYS alone (api.md names no other key)', async (t) => {
  const { url, sql } = await setup(t)
  const { FINGERPRINT_KEY: _dropped, ...env } = testEnv(url, { LOG_LEVEL: 'info', BOOTSTRAP_ADMIN_TOKEN: `adm_${'b'.repeat(43)}` })
  const gateway = await spawnGateway(t, env)
  t.equal((await fetch(`${gateway.url}/readyz`)).status, 200)
  t.match(gateway.output(), /FINGERPRINT_KEY is not set: generated a fingerprint key and stored it in the database/)
  t.equal((await sql`select 1 from keyring_secrets where name = 'fingerprint_key'`).length, 1)
  t.equal(await gateway.stop(), 0)
})
