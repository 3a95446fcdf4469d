import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import postgres from 'postgres'
import { migrationsFolder } from '../paths.js'
import type { Sql } from './client.js'

/** Arbitrary, fixed: every gateway process must agree on it. */
const MIGRATION_LOCK_KEY = 7_316_042_518

/**
 * Applies pending migrations under a session-level advisory lock, so several processes
 * starting together on one database take turns: the first migrates, the others find
 * nothing left to do. The lock lives on a dedicated single connection and is released
 * when that connection closes, even if this process dies half-way.
 */
export async function migrateDatabase (url: string): Promise<{ applied: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    const before = await appliedCount(sql)
    await migrate(drizzle(sql), { migrationsFolder })
    return { applied: (await appliedCount(sql)) - before }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function migrationsTableExists (sql: Sql): Promise<boolean> {
  const [row] = await sql<{ present: boolean }[]>`select to_regclass('drizzle.__drizzle_migrations') is not null as present`
  return row?.present ?? false
}

async function appliedCount (sql: Sql): Promise<number> {
  if (!await migrationsTableExists(sql)) return 0
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`
  return row?.n ?? 0
}

const latestMigrationMillis = readMigrationFiles({ migrationsFolder }).at(-1)?.folderMillis ?? 0

/** True when the newest migration this build ships has been applied to the database. */
export async function migrationsApplied (sql: Sql): Promise<boolean> {
  if (!await migrationsTableExists(sql)) return false
  const [row] = await sql<{ ok: boolean }[]>`
    select exists (select 1 from drizzle.__drizzle_migrations where created_at >= ${latestMigrationMillis}) as ok`
  return row?.ok ?? false
}
