import type postgres from 'postgres'

/**
 * The reconciliation checks (README, "Reconciliation"). Each is one SQL statement, so it
 * reads one snapshot: money and state that move together in a transaction are never seen
 * half-moved. They only read, so any number of processes may run them at once.
 */
export const FINDING_KINDS = [
  /** A reseller's balance (the sum of its buckets) differs from the sum of its ledger. */
  'balance_mismatch',
  /** An order's ledger entries do not net to what its state requires (debited; 0 once failed). */
  'order_ledger_mismatch',
  /** A failed order whose debit was never refunded. */
  'failed_order_not_refunded',
  /** An order still `processing` or `pending_review` longer than ORDER_SLA_MS after it was placed. */
  'order_past_sla',
  /** A failed order that still holds sold pool keys. */
  'failed_order_holds_keys',
  /** A succeeded order with neither a supplier delivery nor a pool key. */
  'succeeded_order_without_delivery',
  /** A supplier attempt still open (submitting, pending, unknown) on a final order. */
  'open_attempt_on_final_order'
] as const
export type FindingKind = typeof FINDING_KINDS[number]

export interface Finding {
  kind: FindingKind
  /** The reseller or order concerned. */
  subject: string
  detail: string
}

/** What one supplier charged us on one UTC day: its succeeded attempts, by the day each was placed. */
export interface SupplierSpend {
  day: string
  supplier: string
  currency: string
  attempts: number
  amount: number
}

export interface Reconciliation {
  checkedAt: Date
  ok: boolean
  /** Every kind, with how many findings it has (the list below may be cut). */
  counts: Record<FindingKind, number>
  findings: Finding[]
  /** Whether some kind has more findings than were listed. */
  truncated: boolean
  supplierSpend: SupplierSpend[]
}

export interface ReconcileOptions {
  /** ORDER_SLA_MS */
  slaMs: number
  /** UTC days of supplier spend, today included. */
  spendDays: number
  /** Findings listed per kind; the counts are always complete. */
  listPerKind: number
}

type Check = (sql: postgres.Sql, o: ReconcileOptions) => postgres.PendingQuery<postgres.Row[]>

const UTC = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`

/** Resellers whose bucket sum differs from their ledger sum. */
const balancesOffLedger = (sql: postgres.Sql): postgres.PendingQuery<postgres.Row[]> => sql`
  select b.reseller_id, b.balance, coalesce(l.total, 0) as ledger_sum
  from (select reseller_id, sum(balance) as balance from reseller_balance_buckets group by reseller_id) b
  left join (select reseller_id, sum(amount) as total from ledger_entries group by reseller_id) l on l.reseller_id = b.reseller_id
  where b.balance <> coalesce(l.total, 0)`

/** Each check selects (kind, subject, detail) for every finding it has. */
const CHECKS: Check[] = [
  (sql) => sql`
    select 'balance_mismatch' as kind, reseller_id as subject, 'buckets sum to ' || balance || ', ledger to ' || ledger_sum as detail
    from (${balancesOffLedger(sql)}) m`,
  // Expected net per order: the debit while it is open or succeeded, nothing once failed.
  (sql) => sql`
    select case when o.status = 'failed' and l.debit is not null and l.refund is null
                then 'failed_order_not_refunded' else 'order_ledger_mismatch' end as kind,
           o.id as subject,
           o.status || ' order of ' || o.amount || ': ledger nets ' || coalesce(l.net, 0) ||
             ', expected ' || case when o.status = 'failed' then 0 else -o.amount end as detail
    from orders o
    left join (select order_id, sum(amount) as net,
                      sum(amount) filter (where kind = 'order_debit') as debit,
                      sum(amount) filter (where kind = 'order_refund') as refund
               from ledger_entries where order_id is not null group by order_id) l on l.order_id = o.id
    where coalesce(l.net, 0) <> case when o.status = 'failed' then 0 else -o.amount end`,
  (sql, o) => sql`
    select 'order_past_sla' as kind, id as subject,
           status || ' since ' || to_char(created_at at time zone 'UTC', ${sql.unsafe(UTC)}) as detail
    from orders
    where status in ('processing', 'pending_review') and created_at < now() - ${o.slaMs} * interval '1 millisecond'`,
  (sql) => sql`
    select 'failed_order_holds_keys' as kind, o.id as subject, count(*) || ' sold pool key(s)' as detail
    from orders o join card_keys k on k.order_id = o.id
    where o.status = 'failed' and k.status in ('sold', 'redeemed')
    group by o.id`,
  (sql) => sql`
    select 'succeeded_order_without_delivery' as kind, o.id as subject, 'no supplier delivery and no pool key' as detail
    from orders o
    where o.status = 'succeeded'
      and not exists (select 1 from order_deliveries d where d.order_id = o.id)
      and not exists (select 1 from card_keys k where k.order_id = o.id)`,
  (sql) => sql`
    select 'open_attempt_on_final_order' as kind, o.id as subject,
           o.status || ' order has attempt ' || a.id || ' at ' || a.supplier_id || ' still ' || a.status as detail
    from supplier_attempts a join orders o on o.id = a.order_id
    where a.status in ('submitting', 'pending', 'unknown') and o.status in ('succeeded', 'failed')`
]

async function runCheck (sql: postgres.Sql, check: Check, o: ReconcileOptions): Promise<{ kind: FindingKind, subject: string, detail: string, total: string }[]> {
  return await sql<{ kind: FindingKind, subject: string, detail: string, total: string }[]>`
    select kind, subject, detail, total from (
      select kind, subject, detail, count(*) over (partition by kind) as total,
             row_number() over (partition by kind order by subject) as n
      from (${check(sql, o)}) f
    ) x
    where n <= ${o.listPerKind}
    order by kind, subject`
}

export async function supplierSpend (sql: postgres.Sql, days: number): Promise<SupplierSpend[]> {
  const rows = await sql<{ day: string, supplier: string, currency: string, attempts: string, amount: string }[]>`
    select to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, a.supplier_id as supplier, o.currency,
           count(*) as attempts, sum(a.cost) as amount
    from supplier_attempts a join orders o on o.id = a.order_id
    where a.status = 'succeeded'
      and a.created_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' - ${days - 1} * interval '1 day'
    group by 1, 2, 3
    order by 1 desc, 2, 3`
  return rows.map((r) => ({ day: r.day, supplier: r.supplier, currency: r.currency, attempts: Number(r.attempts), amount: Number(r.amount) }))
}

export async function reconcile (sql: postgres.Sql, options: ReconcileOptions): Promise<Reconciliation> {
  const checkedAt = new Date()
  const [spend, ...results] = await Promise.all([supplierSpend(sql, options.spendDays), ...CHECKS.map(async (c) => await runCheck(sql, c, options))])
  const counts = Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>
  const findings: Finding[] = []
  for (const row of results.flat()) {
    counts[row.kind] = Number(row.total)
    findings.push({ kind: row.kind, subject: row.subject, detail: row.detail })
  }
  findings.sort((a, b) => FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) || a.subject.localeCompare(b.subject))
  const total = Object.values(counts).reduce((s, n) => s + n, 0)
  return { checkedAt, ok: total === 0, counts, findings, truncated: findings.length < total, supplierSpend: spend }
}

/** Resellers whose balance differs from their ledger: the first check on its own, listed in full. */
export async function balanceMismatches (sql: postgres.Sql): Promise<{ resellerId: string, balance: number, ledgerSum: number }[]> {
  const rows = await sql<{ reseller_id: string, balance: string, ledger_sum: string }[]>`
    select reseller_id, balance, ledger_sum from (${balancesOffLedger(sql)}) m order by reseller_id`
  return rows.map((r) => ({ resellerId: r.reseller_id, balance: Number(r.balance), ledgerSum: Number(r.ledger_sum) }))
}
