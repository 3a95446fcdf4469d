import type postgres from 'postgres'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Log as FullLog } from '../observability/log.js'

/** What operators are told about; `subject` names the supplier instance, SKU or reseller. */
export const ALERT_KINDS = ['supplier_low_balance', 'low_stock', 'breaker_open', 'callback_failures'] as const
export type AlertKind = typeof ALERT_KINDS[number]

export type AlertSeverity = 'warning' | 'critical'

export interface Raise {
  severity: AlertSeverity
  /** One line for humans; never a secret, a code or a body. */
  message: string
  /** Figures and ids only (amounts, thresholds, counts, event ids). */
  details?: Record<string, unknown>
}

export interface Alerts {
  /**
   * Marks the alert firing. Only the call that flips it from not firing (or unknown) to
   * firing writes the `ops_events` row, logs the warning and counts it; true then.
   */
  raise (kind: AlertKind, subject: string, alert: Raise): Promise<boolean>
  /** Marks it not firing; true when it was firing (an `info` event records the recovery). */
  clear (kind: AlertKind, subject: string, message: string, details?: Record<string, unknown>): Promise<boolean>
  /** Subjects of this kind firing now. */
  firing (kind: AlertKind): Promise<Set<string>>
}

type Log = Pick<FullLog, 'info' | 'warn'>

/**
 * Alerts shared by every process through `alert_states`: each flip is one statement, an
 * upsert (or update) that only matches when the state changes, chained to the insert of
 * its event, so of several processes seeing the same crossing exactly one records it.
 */
export function createAlerts (options: { sql: postgres.Sql, log: Log, registry: Registry }): Alerts {
  const { sql, log } = options
  const raised = new Counter({
    name: 'ops_alerts_total',
    help: 'Alerts raised by this process, by kind (each crossing is counted once, by the process that recorded it)',
    labelNames: ['kind'] as const,
    registers: [options.registry]
  })
  for (const kind of ALERT_KINDS) raised.inc({ kind }, 0)
  new Gauge({
    name: 'ops_alerts_firing',
    help: 'Alerts firing now, by kind (from the database: the same in every process)',
    labelNames: ['kind'] as const,
    registers: [options.registry],
    async collect () {
      try {
        const rows = await sql<{ kind: string, n: number }[]>`select kind, count(*)::int as n from alert_states where firing group by kind`
        const counts = new Map(rows.map((r) => [r.kind, r.n]))
        for (const kind of ALERT_KINDS) this.set({ kind }, counts.get(kind) ?? 0)
      } catch (err) {
        log.warn({ err }, 'could not read firing alerts for metrics')
      }
    }
  })

  return {
    async raise (kind, subject, alert) {
      const details = alert.details ?? {}
      const [row] = await sql<{ id: string }[]>`
        with flipped as (
          insert into alert_states as s (kind, subject, firing, changed_at) values (${kind}, ${subject}, true, now())
          on conflict (kind, subject) do update set firing = true, changed_at = now() where not s.firing
          returning kind, subject
        )
        insert into ops_events (kind, subject, severity, message, details)
        select kind, subject, ${alert.severity}, ${alert.message}, ${JSON.stringify(details)}::jsonb from flipped
        returning id`
      if (!row) return false
      raised.inc({ kind })
      log.warn({ alert: kind, subject, severity: alert.severity, ops_event: String(row.id), details }, alert.message)
      return true
    },

    async clear (kind, subject, message, details = {}) {
      const [row] = await sql<{ id: string }[]>`
        with flipped as (
          update alert_states set firing = false, changed_at = now()
          where kind = ${kind} and subject = ${subject} and firing
          returning kind, subject
        )
        insert into ops_events (kind, subject, severity, message, details)
        select kind, subject, 'info', ${message}, ${JSON.stringify(details)}::jsonb from flipped
        returning id`
      if (!row) return false
      log.info({ alert: kind, subject, ops_event: String(row.id), details }, message)
      return true
    },

    async firing (kind) {
      const rows = await sql<{ subject: string }[]>`select subject from alert_states where kind = ${kind} and firing`
      return new Set(rows.map((r) => r.subject))
    }
  }
}
