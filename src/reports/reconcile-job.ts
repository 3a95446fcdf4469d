import { Gauge, type Registry } from 'prom-client'
import type postgres from 'postgres'
import { startPeriodic, type Worker } from '../workers/periodic.js'
import { FINDING_KINDS, reconcile } from './reconcile.js'

export interface ReconcileJobOptions {
  sql: postgres.Sql
  registry: Registry
  /** RECONCILE_REPORT_INTERVAL_MS */
  intervalMs: number
  /** ORDER_SLA_MS */
  slaMs: number
  log: { warn: (obj: object, msg: string) => void }
}

/**
 * Runs the reconciliation checks at start and every interval, and exports their counts as
 * gauges on the app's registry. Every WORKERS process may run it (it only reads); each
 * exports the same figures, so alert on max() over instances rather than sum().
 * Supplier spend is exported for the current UTC day only: a label per day would grow the
 * series without bound; the API and CLI give the history.
 */
export function startReconcileJob (o: ReconcileJobOptions): Worker {
  const findings = new Gauge({
    name: 'reconciliation_findings',
    help: 'Findings of the last reconciliation run, by kind (0 when clean)',
    labelNames: ['kind'] as const,
    registers: [o.registry]
  })
  const lastSuccess = new Gauge({
    name: 'reconciliation_last_success_timestamp_seconds',
    help: 'When the reconciliation checks last completed (Unix time)',
    registers: [o.registry]
  })
  const spendToday = new Gauge({
    name: 'reconciliation_supplier_spend_today_minor',
    help: 'Cost of the succeeded supplier attempts placed today (UTC), minor units, by supplier and currency',
    labelNames: ['supplier', 'currency'] as const,
    registers: [o.registry]
  })
  const run = async (): Promise<void> => {
    const result = await reconcile(o.sql, { slaMs: o.slaMs, spendDays: 1, listPerKind: 10 })
    for (const kind of FINDING_KINDS) findings.set({ kind }, result.counts[kind])
    spendToday.reset()
    for (const s of result.supplierSpend) spendToday.set({ supplier: s.supplier, currency: s.currency }, s.amount)
    lastSuccess.set(result.checkedAt.getTime() / 1000)
    if (!result.ok) {
      const counts = Object.fromEntries(Object.entries(result.counts).filter(([, n]) => n > 0))
      o.log.warn({ counts, examples: result.findings.slice(0, 10) }, 'reconciliation found problems')
    }
  }
  // A first run at start, so the gauges exist before the first interval has passed.
  let first: Promise<void> | undefined = run().catch((err: unknown) => o.log.warn({ err, worker: 'reconciliation' }, 'background job failed'))
  const worker = startPeriodic('reconciliation', o.intervalMs, async () => {
    await first
    first = undefined
    await run()
  }, o.log)
  return {
    async stop () {
      await worker.stop()
      await first
    }
  }
}
