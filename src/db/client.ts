import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema/index.js'

export type Db = PostgresJsDatabase<typeof schema>
export type Sql = postgres.Sql
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface Database {
  sql: Sql
  db: Db
  close (): Promise<void>
}

export function createDatabase (url: string, options: { max: number, applicationName?: string }): Database {
  const sql = postgres(url, {
    max: options.max,
    connect_timeout: 5,
    idle_timeout: 60,
    // Recycle connections so a fail-over or a pgbouncer restart is absorbed over time.
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'entitlement-gateway',
      // No request waits forever on a lock or a runaway query; the caller gets a clear error.
      lock_timeout: 10_000,
      statement_timeout: 60_000
    }
  })
  const db = drizzle(sql, { schema })
  return { sql, db, close: () => sql.end({ timeout: 5 }) }
}
