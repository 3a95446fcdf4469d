import { setTimeout as sleep } from 'node:timers/promises'
import type postgres from 'postgres'
import type { TxSql } from '../db/pipelined.js'

/**
 * Balance buckets (see the schema): orders debit one bucket with enough funds, picked at
 * random among those no other transaction holds, so a busy reseller's orders commit in
 * parallel. When funds are spread too thin for any single bucket, one transaction locks
 * all buckets in order, takes the amount from their total and spreads the rest again.
 *
 * Deadlock-free by construction: the fast path takes one bucket and never waits for
 * another; only the slow path takes several, always in bucket order.
 */
export const BUCKETS = 16

export type Tx = postgres.TransactionSql

/** Retries of the fast path while enough funds exist but every such bucket is busy. */
const BUSY_RETRIES = 20

export async function createBuckets (tx: Tx, resellerId: string, creditLimit: number): Promise<void> {
  await tx`
    insert into reseller_balance_buckets (reseller_id, bucket, floor)
    select ${resellerId}, b, case when b = 0 then ${creditLimit}::bigint else 0 end from generate_series(0, ${BUCKETS - 1}) b`
}

/**
 * The fast path as one statement, not yet sent: it returns one row when a bucket that can
 * pay and that nobody holds was debited, none otherwise. Callers may pipeline it.
 */
export function debitOneBucket (tx: TxSql, resellerId: string, amount: number): postgres.PendingQuery<postgres.Row[]> {
  return tx`
    with pick as (
      select bucket from reseller_balance_buckets
      where reseller_id = ${resellerId} and balance + floor >= ${amount}
      order by random() limit 1
      for update skip locked)
    update reseller_balance_buckets b set balance = b.balance - ${amount}, updated_at = now()
    from pick where b.reseller_id = ${resellerId} and b.bucket = pick.bucket
    returning b.bucket`
}

async function pickAndDebit (tx: Tx, resellerId: string, amount: number): Promise<boolean> {
  return (await debitOneBucket(tx, resellerId, amount)).length === 1
}

/**
 * Takes `amount` from the reseller's balance inside the caller's transaction; false when
 * balance plus credit limit cannot cover it (nothing is changed then).
 */
export async function debit (tx: Tx, resellerId: string, amount: number): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    if (await pickAndDebit(tx, resellerId, amount)) return true
    // Is some bucket rich enough but held by a concurrent order? Then it frees up within
    // a commit; wait briefly rather than lock everything.
    const [busy] = await tx<{ any: boolean }[]>`
      select exists (select 1 from reseller_balance_buckets where reseller_id = ${resellerId} and balance + floor >= ${amount}) as any`
    if (!busy?.any || attempt >= BUSY_RETRIES) break
    await sleep(1 + attempt)
  }
  return await consolidateAndDebit(tx, resellerId, amount)
}

/** Slow path: all buckets, in order; debit from the total and spread what is left. */
async function consolidateAndDebit (tx: Tx, resellerId: string, amount: number): Promise<boolean> {
  const buckets = await tx<{ bucket: number, balance: string, floor: string }[]>`
    select bucket, balance, floor from reseller_balance_buckets where reseller_id = ${resellerId} order by bucket for update`
  const total = buckets.reduce((sum, b) => sum + Number(b.balance), 0)
  const floor = buckets.reduce((sum, b) => sum + Number(b.floor), 0)
  if (total - amount + floor < 0) return false
  await spread(tx, resellerId, total - amount, amount)
  return true
}

/**
 * Sets the buckets (already locked by the caller) to hold `total` between them: over as
 * many buckets as can each still pay `typical` (so the next orders find a bucket), the
 * remainder and any negative total on bucket 0.
 */
async function spread (tx: Tx, resellerId: string, total: number, typical: number): Promise<void> {
  const k = total <= 0 ? 1 : Math.max(1, Math.min(BUCKETS, Math.floor(total / Math.max(typical, 1))))
  const share = total <= 0 ? 0 : Math.floor(total / k)
  const first = total - share * (k - 1)
  await tx`
    update reseller_balance_buckets set updated_at = now(),
      balance = case when bucket = 0 then ${first}::bigint when bucket < ${k} then ${share}::bigint else 0 end
    where reseller_id = ${resellerId}`
}

/** Adds `amount` (> 0), spread over the buckets so later debits can run side by side. */
export async function credit (tx: Tx, resellerId: string, amount: number): Promise<void> {
  const share = Math.floor(amount / BUCKETS)
  // Locks in bucket order first, like every other multi-bucket path: an UPDATE alone would
  // lock them in heap order and could deadlock against a consolidating debit.
  await tx`select bucket from reseller_balance_buckets where reseller_id = ${resellerId} order by bucket for update`
  await tx`
    update reseller_balance_buckets set updated_at = now(),
      balance = balance + ${share}::bigint + case when bucket = 0 then ${amount - share * BUCKETS}::bigint else 0 end
    where reseller_id = ${resellerId}`
}

/**
 * Moves the credit limit (bucket 0's floor). Funds are first gathered into bucket 0, so a
 * lower limit is refused (by the bucket constraint) only if the total really is below it.
 */
export async function setCreditLimit (tx: Tx, resellerId: string, creditLimit: number): Promise<void> {
  const buckets = await tx<{ balance: string }[]>`
    select balance from reseller_balance_buckets where reseller_id = ${resellerId} order by bucket for update`
  const total = buckets.reduce((sum, b) => sum + Number(b.balance), 0)
  await tx`
    update reseller_balance_buckets set updated_at = now(),
      balance = case when bucket = 0 then ${total}::bigint else 0 end,
      floor = case when bucket = 0 then ${creditLimit}::bigint else 0 end
    where reseller_id = ${resellerId}`
  // Spread again over the buckets (keeps parallel debits possible after the change).
  if (total > 0) await spread(tx, resellerId, total, Math.max(1, Math.floor(total / BUCKETS)))
}

export async function balanceOf (sql: postgres.Sql | Tx, resellerId: string): Promise<{ balance: number, creditLimit: number } | undefined> {
  const [row] = await sql<{ balance: string | null, credit_limit: string | null, n: number }[]>`
    select sum(balance) as balance, sum(floor) as credit_limit, count(*)::int as n from reseller_balance_buckets where reseller_id = ${resellerId}`
  if (!row || row.n === 0) return undefined
  return { balance: Number(row.balance), creditLimit: Number(row.credit_limit) }
}
