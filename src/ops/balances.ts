import type postgres from 'postgres'
import type { SupplierExecutor } from '../suppliers/executor.js'
import type { Alerts } from './alerts.js'

export interface BalanceCheck {
  sql: postgres.Sql
  /** The instances this process runs (SupplierRegistry). */
  suppliers: { loaded (): SupplierExecutor[] }
  alerts: Alerts
  /** Each instance is asked at most once per interval, by whichever process claims it first. */
  intervalMs: number
}

interface Claim {
  id: string
  /** balance_checked_at before the claim, as text (exact to the microsecond), to put back on failure. */
  previous: string | null
  claimed: string
}

/**
 * Reads our balance at every enabled supplier instance this process runs whose adapter has
 * a balance call, stores it, and raises or clears `supplier_low_balance`. Rows are claimed
 * first (`balance_checked_at` older than the interval, stamped now, SKIP LOCKED), so however
 * many processes run this, a supplier is asked once per interval. A failed call puts the old
 * stamp back, so `balance_checked_at` always says when the stored amount was read; the
 * executor has logged and counted the failure. Returns how many instances were asked.
 */
export async function checkSupplierBalances (check: BalanceCheck): Promise<number> {
  const { sql, alerts } = check
  const executors = new Map(check.suppliers.loaded()
    .filter((e) => e.settings.enabled && e.adapter.capabilities.has('balance') && typeof e.adapter.balance === 'function')
    .map((e) => [e.settings.id, e]))
  if (executors.size === 0) return 0
  const claims = await sql<Claim[]>`
    update suppliers s set balance_checked_at = now()
    from (
      select id, balance_checked_at from suppliers
      where id in ${sql([...executors.keys()])} and enabled
        and (balance_checked_at is null or balance_checked_at <= now() - ${check.intervalMs} * interval '1 millisecond')
      for update skip locked
    ) c
    where s.id = c.id
    returning s.id, c.balance_checked_at::text as previous, s.balance_checked_at::text as claimed`
  await Promise.all(claims.map(async (claim) => {
    const executor = executors.get(claim.id)
    if (!executor) return
    const read = await executor.balance()
    if (!read.ok) {
      await sql`update suppliers set balance_checked_at = ${claim.previous}::timestamptz where id = ${claim.id} and balance_checked_at = ${claim.claimed}::timestamptz`
      return
    }
    const [row] = await sql<{ threshold: string | null }[]>`
      update suppliers set balance = ${read.amount}, balance_currency = ${read.currency}, balance_checked_at = now()
      where id = ${claim.id} returning low_balance_threshold as threshold`
    if (!row) return
    await judgeBalance(alerts, claim.id, { amount: read.amount, currency: read.currency, threshold: row.threshold === null ? null : Number(row.threshold) })
  }))
  return claims.length
}

/** Raises `supplier_low_balance` when the balance is below the threshold, clears it otherwise. */
export async function judgeBalance (alerts: Alerts, supplier: string, balance: { amount: number, currency: string, threshold: number | null }): Promise<void> {
  const { amount, currency, threshold } = balance
  const details = { balance: amount, currency, threshold }
  if (threshold !== null && amount < threshold) {
    await alerts.raise('supplier_low_balance', supplier, {
      severity: amount <= 0 ? 'critical' : 'warning',
      message: `supplier ${supplier}: balance ${amount} ${currency} is below its threshold ${threshold}`,
      details
    })
  } else {
    await alerts.clear('supplier_low_balance', supplier, `supplier ${supplier}: balance is no longer below its threshold`, details)
  }
}
