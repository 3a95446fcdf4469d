import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { createKeyring } from '../../src/crypto/keyring.js'
import { createDatabase } from '../../src/db/client.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { bootstrapAdminToken, hashToken } from '../../src/db/repositories/admin-tokens.js'
import { seedSandbox } from '../../src/sandbox/seed.js'
import { createTestDatabase, TEST_KEYS } from '../helper.js'

const TOKEN = 'adm_' + 'c'.repeat(40)

t.test('BOOTSTRAP_ADMIN_TOKEN registers once, never while an admin exists, never again once revoked', async (t) => {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const database = createDatabase(url, { max: 4 })
  t.teardown(() => database.close())
  const results = await Promise.all([1, 2, 3].map(async () => await bootstrapAdminToken(database.db, TOKEN)))
  t.same(results.sort(), ['registered', 'skipped', 'skipped'], 'concurrent starts register it once')
  const [audit] = await database.sql`select actor_id, action from audit_log`
  t.same(audit, { actor_id: 'bootstrap', action: 'operator_token.create' })

  await database.sql`update admin_tokens set revoked_at = now() where token_hash = ${hashToken(TOKEN)}`
  t.equal(await bootstrapAdminToken(database.db, TOKEN), 'revoked', 'a revoked bootstrap token is not brought back, and start-up goes on')
  const [active] = await database.sql`select count(*)::int as n from admin_tokens where revoked_at is null`
  t.equal(active?.n, 0)
})

t.test('sandbox seeding with DATABASE_URL creates DATA_DIR and writes the token after commit', async (t) => {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const database = createDatabase(url, { max: 2 })
  t.teardown(() => database.close())
  const parent = await mkdtemp(join(tmpdir(), 'egw-seed-'))
  t.teardown(() => rm(parent, { recursive: true, force: true }))
  const dataDir = join(parent, 'not', 'yet')
  const keyring = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
  const suppliers = [{ id: 'fulu-sandbox', adapter: 'fulu', baseUrl: 'http://127.0.0.1:9/api/getway', credentials: { app_key: 'k', app_secret: 'seed-test-secret-0123456789abcde' } }]
  const seed = async (): Promise<void> => await seedSandbox({ database, keyring, dataDir, log: pino({ level: 'silent' }), suppliers })
  await seed()
  const token = (await readFile(join(dataDir, 'sandbox-admin-token'), 'utf8')).trim()
  const [row] = await database.sql`select role from admin_tokens where token_hash = ${hashToken(token)}`
  t.same(row, { role: 'admin' })
  const [skus] = await database.sql`select count(*)::int as n from skus`
  t.equal(skus?.n, 4)
  const demo = JSON.parse(await readFile(join(dataDir, 'sandbox-reseller.json'), 'utf8')) as { reseller_id: string, secret: string }
  t.equal((await stat(join(dataDir, 'sandbox-reseller.json'))).mode & 0o777, 0o600, 'reseller credentials file is private')
  const [funded] = await database.sql`select sum(balance)::int as n from reseller_balance_buckets where reseller_id = ${demo.reseller_id}`
  t.equal(funded?.n, 1_000_000, 'demo reseller funded')
  const [supplier] = await database.sql`select adapter, base_url from suppliers where id = 'fulu-sandbox'`
  t.same(supplier, { adapter: 'fulu', base_url: 'http://127.0.0.1:9/api/getway' })
  await seed()
  const [again] = await database.sql`select (select count(*)::int from admin_tokens) as tokens, (select count(*)::int from resellers) as resellers`
  t.same(again, { tokens: 1, resellers: 1 }, 'a second start seeds nothing')
})
