import { getTableName, is } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { PgTable } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import t from 'tap'
import { migrateDatabase, migrationsApplied } from '../../src/db/migrate.js'
import * as schema from '../../src/db/schema/index.js'
import { migrationsFolder } from '../../src/paths.js'
import { createTestDatabase, runCli, testEnv } from '../helper.js'

const shipped = readMigrationFiles({ migrationsFolder }).length
/** Every table the drizzle schema declares: the migrations must create exactly these. */
const declared = Object.values(schema).filter((v) => is(v, PgTable)).map((v) => getTableName(v as PgTable)).sort()

async function tables (url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql<{ name: string }[]>`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`
    return rows.map((r) => r.name)
  } finally {
    await sql.end()
  }
}

t.test('migrations apply from zero, then find nothing to do', async (t) => {
  const url = await createTestDatabase(t)
  t.same(await tables(url), [])
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  t.equal(await migrationsApplied(sql), false)
  t.same(await migrateDatabase(url), { applied: shipped })
  t.same(await tables(url), declared)
  t.equal(await migrationsApplied(sql), true)
  t.same(await migrateDatabase(url), { applied: 0 }, 'second run applies nothing')
})

t.test('several migrators on one empty database take turns', async (t) => {
  const url = await createTestDatabase(t)
  const results = await Promise.all(Array.from({ length: 6 }, async () => await migrateDatabase(url)))
  t.equal(results.reduce((n, r) => n + r.applied, 0), shipped, 'each migration applied exactly once')
})

t.test('two gateway processes migrating the same empty database at once', async (t) => {
  const url = await createTestDatabase(t)
  const run = async () => {
    const r = await runCli(['migrate'], testEnv(url, { LOG_LEVEL: 'info' }))
    return { code: r.code, out: r.stdout + r.stderr }
  }
  const [a, b] = await Promise.all([run(), run()])
  t.equal(a?.code, 0, a?.out)
  t.equal(b?.code, 0, b?.out)
  const applied = [a, b].map((r) => {
    const line = r?.out.split('\n').find((l) => l.includes('"migrations applied"'))
    return line ? (JSON.parse(line) as { applied: number }).applied : NaN
  })
  t.equal(applied[0]! + applied[1]!, shipped, `applied ${applied.join(' + ')}`)
  t.same(await tables(url), declared)
})
