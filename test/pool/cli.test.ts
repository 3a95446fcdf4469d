import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { createKeyring, generateKeyMaterial } from '../../src/crypto/keyring.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { openCardKey } from '../../src/db/repositories/card-keys.js'
import { apiSecretAad, createReseller, webhookSecretAad } from '../../src/db/repositories/resellers.js'
import { createDatabase } from '../../src/db/client.js'
import { orderDeliveries, supplierDeliveryRows } from '../../src/orders/deliveries.js'
import { credentialsAad } from '../../src/suppliers/registry.js'
import { createTestDatabase, runCli, TEST_KEYS, testEnv } from '../helper.js'

async function setup (t: Test): Promise<{ url: string, sql: postgres.Sql, dir: string }> {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const sql = postgres(url, { max: 2, onnotice: () => {} })
  t.teardown(() => sql.end())
  await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
    values ('gc-cli', 'CLI card', 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
  const dir = await mkdtemp(join(tmpdir(), 'egw-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return { url, sql, dir }
}

t.test('keys import streams a CSV as one batch and reports refused lines by number', async (t) => {
  const { url, sql, dir } = await setup(t)
  const lines = ['code,pin,serial']
  for (let i = 0; i < 5000; i++) lines.push(`CLI-CODE-${i},PIN${i},SER${i}`)
  lines.push('CLI-CODE-17', '"broken', 'a,b,c,d', '', 'CLI-CODE-4999')
  await writeFile(join(dir, 'keys.csv'), lines.join('\n') + '\n')
  // A code already in the pool from another batch.
  const first = await runCli(['keys', 'import', '--sku', 'gc-cli', '--file', join(dir, 'keys.csv'), '--unit-cost', '450', '--report', join(dir, 'report.csv')], testEnv(url))
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /^batch bat_\S+ sku gc-cli: imported 5000, duplicates 2, rejected 3 \(5005 lines in [\d.]+ s, \d+ codes\/s\)\n$/)
  t.match(first.stderr, /line 5002: duplicate_in_batch/)
  t.match(first.stderr, /line 5003: rejected: unterminated quoted field/)
  t.match(first.stderr, /line 5005: rejected: code is empty/)
  t.notMatch(first.stdout + first.stderr, /CLI-CODE|PIN\d/, 'no code or PIN printed')
  t.notMatch(first.stderr, /[\r\x1b]/, 'no terminal control sequences when stderr is not a TTY')
  const report = await readFile(join(dir, 'report.csv'), 'utf8')
  t.same(report.trim().split('\n').map((l) => l.split(',').slice(0, 2).join(',')),
    ['line,kind', '5002,duplicate_in_batch', '5003,rejected', '5004,rejected', '5005,rejected', '5006,duplicate_in_batch'])

  await writeFile(join(dir, 'again.csv'), 'NEW-CODE-1\nCLI-CODE-3\n')
  const second = await runCli(['keys', 'import', '--sku', 'gc-cli', '--file', join(dir, 'again.csv'), '--unit-cost', '450'], testEnv(url))
  t.match(second.stdout, /imported 1, duplicates 1, rejected 0/)
  t.match(second.stderr, /line 2: duplicate_in_pool/)

  const [batches] = await sql`select count(*)::int as n, sum(imported)::int as imported from card_key_batches`
  t.same(batches, { n: 2, imported: 5001 })
  const [audit] = await sql`select actor_id, action from audit_log where action = 'card_keys.import' limit 1`
  t.match(audit, { actor_id: /^cli:/ })

  const bad = await runCli(['keys', 'import', '--sku', 'gc-cli'], testEnv(url))
  t.equal(bad.code, 64)
  t.match(bad.stderr, /--file is required/)
  const noCost = await runCli(['keys', 'import', '--sku', 'gc-cli', '--file', join(dir, 'again.csv')], testEnv(url))
  t.equal(noCost.code, 64, 'no silent unit cost of 0')
  t.match(noCost.stderr, /--unit-cost is required \(minor units per code\)/)
  const unknownSku = await runCli(['keys', 'import', '--sku', 'nope-nope', '--file', join(dir, 'again.csv'), '--unit-cost', '450'], testEnv(url))
  t.equal(unknownSku.code, 1)
  t.match(unknownSku.stderr, /no SKU nope-nope/)
})

t.test('keys rotate re-encrypts every row under the new first key; every code still decrypts', async (t) => {
  const { url, sql, dir } = await setup(t)
  const rows = Array.from({ length: 1234 }, (_, i) => `ROT-${i},${i % 2 === 0 ? `PIN-${i}` : ''},`)
  await writeFile(join(dir, 'rot.csv'), rows.join('\n') + '\n')
  t.equal((await runCli(['keys', 'import', '--sku', 'gc-cli', '--file', join(dir, 'rot.csv'), '--unit-cost', '100'], testEnv(url))).code, 0)

  // A reseller's secrets live under the same keyring and must move too.
  const database = createDatabase(url, { max: 1 })
  t.teardown(() => database.close())
  const oldKeyring = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
  const reseller = await createReseller(database, oldKeyring, {
    name: 'r', tier: 'standard', currency: 'CNY', callbackUrl: null, callbackIncludesCodes: false, authMode: 'bearer_or_signature', ipAllowlist: [], rateLimitPerMinute: 60, creditLimit: 0
  }, { actorId: 'test', actorRole: 'admin', requestId: 'test', ip: 'local' })

  // So do supplier credentials and codes a supplier delivered.
  const sealed = oldKeyring.encrypt(JSON.stringify({ app_key: 'k', app_secret: 'rotation-test-secret-0123456789a' }), credentialsAad('sup-rot'))
  await sql`insert into suppliers (id, adapter, base_url, credentials_key_id, credentials_ciphertext, timeout_ms, error_threshold_percentage, reset_timeout_ms, volume_threshold)
            values ('sup-rot', 'fulu', 'http://127.0.0.1:9', ${sealed.keyId}, ${sealed.ciphertext}, 1000, 50, 1000, 10)`
  await sql`insert into orders (id, reseller_id, client_order_id, request_hash, sku, quantity, recipient, unit_price, amount, currency, status, completed_at)
            values ('ord_rot', ${reseller.view.id}, 'rot-1', '\\x00', 'gc-cli', 1, '{}', 100, 100, 'CNY', 'succeeded', now())`
  await sql`insert into supplier_attempts (id, order_id, supplier_id, supplier_product_id, cost, status, completed_at) values ('att_rot', 'ord_rot', 'sup-rot', 'p', 90, 'succeeded', now())`
  const [supplied] = supplierDeliveryRows(oldKeyring, { attemptId: 'att_rot', codes: [{ code: 'SUPPLIED-CODE-1', pin: 'SUPPLIED-PIN', serial: null, expiresAt: null }] })
  await sql`insert into order_deliveries (id, order_id, attempt_id, type, key_id, code_ciphertext, pin_ciphertext)
            values (${supplied!.id}, 'ord_rot', 'att_rot', 'card_key', ${supplied!.key_id}, decode(${supplied!.code}, 'base64'), decode(${supplied!.pin}, 'base64'))`

  const fresh = generateKeyMaterial('k2')
  const rotated = `${fresh.encryptionKeys},${TEST_KEYS.encryptionKeys}`
  const env = testEnv(url, { ENCRYPTION_KEYS: rotated })
  const res = await runCli(['keys', 'rotate', '--batch-size', '100'], env)
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /rotated 1234 card keys, 2 reseller secret rows, 1 supplier credentials, 1 supplier-delivered codes and 1 stored key\(s\) to key k2; none left under other keys/)
  const [left] = await sql`select count(*)::int as n from card_keys where key_id <> 'k2'`
  t.equal(left?.n, 0, 'no row under the old key id')

  // The old key can now be dropped: the new keyring alone opens everything.
  const onlyNew = createKeyring(fresh.encryptionKeys, TEST_KEYS.fingerprintKey)
  const all = await sql<{ id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null }[]>`select id, key_id, code_ciphertext, pin_ciphertext from card_keys`
  const opened = all.map((r) => openCardKey(onlyNew, { id: r.id, keyId: r.key_id, codeCiphertext: r.code_ciphertext, pinCiphertext: r.pin_ciphertext, serialCiphertext: null }))
  t.equal(new Set(opened.map((o) => o.code)).size, 1234)
  t.ok(opened.every((o) => /^ROT-\d+$/.test(o.code) && (o.pin === null || o.pin === `PIN-${o.code.slice(4)}`)), 'codes and PINs intact')
  const [key] = await sql<{ secret_key_id: string, secret_ciphertext: Buffer }[]>`select secret_key_id, secret_ciphertext from reseller_api_keys`
  t.equal(onlyNew.decryptString({ keyId: key!.secret_key_id, ciphertext: key!.secret_ciphertext }, apiSecretAad(reseller.apiKey.keyId)), reseller.apiKey.secret, 'API secret moved to the new key')
  const [hook] = await sql<{ webhook_secret_key_id: string, webhook_secret_ciphertext: Buffer }[]>`select webhook_secret_key_id, webhook_secret_ciphertext from resellers`
  t.equal(onlyNew.decryptString({ keyId: hook!.webhook_secret_key_id, ciphertext: hook!.webhook_secret_ciphertext }, webhookSecretAad(reseller.view.id)), reseller.webhookSecret, 'webhook secret moved too')

  const [supplier] = await sql<{ credentials_key_id: string, credentials_ciphertext: Buffer }[]>`select credentials_key_id, credentials_ciphertext from suppliers`
  t.match(JSON.parse(onlyNew.decryptString({ keyId: supplier!.credentials_key_id, ciphertext: supplier!.credentials_ciphertext }, credentialsAad('sup-rot'))), { app_key: 'k' }, 'supplier credentials moved')
  t.match(await orderDeliveries(sql, onlyNew, 'ord_rot'), [{ type: 'card_key', code: 'SUPPLIED-CODE-1', pin: 'SUPPLIED-PIN' }], 'supplier-delivered codes moved')

  const again = await runCli(['keys', 'rotate'], env)
  t.match(again.stdout, /rotated 0 card keys/, 'running it again finds nothing to do')

  const audit = await sql`select actor_id, actor_role, target_type, target_id, details from audit_log where action = 'card_keys.rotate' order by id`
  t.equal(audit.length, 2, 'one entry per run, not per batch')
  t.match(audit[0], { actor_id: /^cli:/, actor_role: 'admin', target_type: 'keyring', target_id: 'k2', details: { rotated: 1234 } })
  t.match(audit[1], { target_id: 'k2', details: { rotated: 0 } })
})

t.test('keys rotate comes back for rows a live transaction held locked during its pass', async (t) => {
  const { url, sql, dir } = await setup(t)
  await writeFile(join(dir, 'locked.csv'), Array.from({ length: 300 }, (_, i) => `LOCK-${i}`).join('\n') + '\n')
  t.equal((await runCli(['keys', 'import', '--sku', 'gc-cli', '--file', join(dir, 'locked.csv'), '--unit-cost', '100'], testEnv(url))).code, 0)
  const fresh = generateKeyMaterial('k2')
  const env = testEnv(url, { ENCRYPTION_KEYS: `${fresh.encryptionKeys},${TEST_KEYS.encryptionKeys}` })

  // Ten rows in the middle of the id order stay locked (as by a sale) until the rotation has
  // done everything else and gone round at least once more; then the lock is released.
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let locked!: () => void
  const lockTaken = new Promise<void>((resolve) => { locked = resolve })
  const holder = sql.begin(async (tx) => {
    await tx`select id from card_keys where id in (select id from card_keys order by id offset 140 limit 10) for update`
    locked()
    await released
  })
  await lockTaken
  const rotation = runCli(['keys', 'rotate', '--batch-size', '50'], env)
  const observer = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => observer.end())
  for (let i = 0; i < 600; i++) {
    const [row] = await observer<{ n: number }[]>`select count(*)::int as n from card_keys where key_id <> 'k2'`
    if (row?.n === 10) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await new Promise((resolve) => setTimeout(resolve, 600))
  release()
  await holder

  const res = await rotation
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /rotated 300 card keys, 0 reseller secret rows, 0 supplier credentials, 0 supplier-delivered codes and 1 stored key\(s\) to key k2; none left under other keys/)
  const [left] = await sql`select count(*)::int as n from card_keys where key_id <> 'k2'`
  t.equal(left?.n, 0)
})
