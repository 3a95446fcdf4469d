import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { createDatabase } from '../../src/db/client.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { bootstrapAdminToken, hashToken } from '../../src/db/repositories/admin-tokens.js'
import { seedSandbox } from '../../src/sandbox/seed.js'
import { createTestDatabase } from '../helper.js'

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
  await seedSandbox(database.db, dataDir, pino({ level: 'silent' }))
  const token = (await readFile(join(dataDir, 'sandbox-admin-token'), 'utf8')).trim()
  const [row] = await database.sql`select role from admin_tokens where token_hash = ${hashToken(token)}`
  t.same(row, { role: 'admin' })
  const [skus] = await database.sql`select count(*)::int as n from skus`
  t.equal(skus?.n, 4)
  await seedSandbox(database.db, dataDir, pino({ level: 'silent' }))
  const [again] = await database.sql`select count(*)::int as n from admin_tokens`
  t.equal(again?.n, 1, 'a second start seeds nothing')
})
