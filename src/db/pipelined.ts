import type postgres from 'postgres'

/**
 * A connection inside a transaction: sql.begin()'s, or a reserved connection inside
 * pipelinedTransaction. Statements that must run in the caller's transaction take this.
 */
export type TxSql = postgres.TransactionSql | postgres.ReservedSql

/**
 * A transaction on a reserved connection in two writes instead of three: BEGIN goes out in
 * the same write as the statements `body` sends before its first await (postgres.js
 * coalesces what one connection sends in one tick), and COMMIT once their answers are in.
 * sql.begin() waits for BEGIN's answer before it runs its callback. Each write wakes a
 * backend, and the gateway's CPU profiles put those writes at a quarter to a third of its
 * time (`npm run bench`, BENCH_CPU_PROF), so the write saved per order is measurable.
 *
 * `body` must await every statement it sends and throw on any shortfall: a failed
 * statement aborts the transaction, and the rollback here ends it.
 */
export async function pipelinedTransaction<T> (conn: postgres.ReservedSql, body: (tx: postgres.ReservedSql) => Promise<T>): Promise<T> {
  const begun = conn`begin`.execute()
  let result: T
  try {
    result = await body(conn)
    await begun
  } catch (err) {
    // The connection goes back to the pool after this: it must not stay in the transaction.
    // If the rollback cannot be sent, the connection is gone and the server rolls back.
    await begun.then(async () => await conn`rollback`, () => undefined).catch(() => undefined)
    throw err
  }
  await conn`commit`
  return result
}

/**
 * A transaction in one write: BEGIN, the statements `send` sends before its first await, and
 * COMMIT go out together, and nothing is decided between the statements and COMMIT. So every
 * shortfall must be an error raised by a statement itself (egw_require, migration 0016): the
 * server then rolls the transaction back and COMMIT answers ROLLBACK. Resolves with `send`'s
 * result once COMMIT has succeeded; rejects with the first failed statement's error.
 */
export async function oneWriteTransaction<T> (conn: postgres.ReservedSql, send: (tx: postgres.ReservedSql) => Promise<T>): Promise<T> {
  const begun = conn`begin`.execute()
  const body = send(conn)
  const committed = conn`commit`.execute()
  try {
    const result = await body
    await begun
    const end = await committed
    if (end.command !== 'COMMIT') throw new Error(`transaction ended with ${end.command}`)
    return result
  } catch (err) {
    // Over either way (a failed statement turned COMMIT into a rollback); only settle the rest.
    await Promise.allSettled([begun, committed])
    throw err
  }
}

/**
 * The answers of statements sent together, in the order sent; rejects with the error of the
 * first that failed. Promise.all would reject with whichever rejection it saw first, which
 * can be a later statement's "current transaction is aborted" when answers arrive together.
 */
export async function inOrder<T extends readonly unknown[]> (statements: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements)
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> }
}

/** The reason egw_require gave, when `err` is its failure. */
export function requireFailure (err: unknown): string | undefined {
  const e = err as { code?: unknown, message?: unknown }
  return e.code === 'P0001' && typeof e.message === 'string' && e.message.startsWith('egw_require: ') ? e.message.slice('egw_require: '.length) : undefined
}
