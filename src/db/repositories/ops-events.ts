import type postgres from 'postgres'
import { toDate } from '../timestamps.js'

export interface OpsEventRow {
  id: number
  kind: string
  subject: string
  severity: 'info' | 'warning' | 'critical'
  message: string
  details: Record<string, unknown>
  createdAt: Date
  /** Whether the alert this event belongs to (kind and subject) is firing now. */
  firing: boolean
}

export interface OpsEventFilter {
  kind?: string | undefined
  subject?: string | undefined
  since?: string | undefined
  /** Only alerts firing now, each by the event that raised it. */
  firingOnly: boolean
  beforeId?: number | undefined
}

/**
 * Ops events newest first. With `firingOnly`, one row per alert firing now: the latest
 * raising (non-info) event of each, found through ops_events_kind_idx.
 */
export async function listOpsEvents (sql: postgres.Sql, filter: OpsEventFilter, limit: number): Promise<OpsEventRow[]> {
  // Conditions on the events, aliased `e` in both queries.
  const conditions = [
    ...(filter.kind !== undefined ? [sql`e.kind = ${filter.kind}`] : []),
    ...(filter.subject !== undefined ? [sql`e.subject = ${filter.subject}`] : []),
    ...(filter.since !== undefined ? [sql`e.created_at >= ${filter.since}::timestamptz`] : []),
    ...(filter.beforeId !== undefined ? [sql`e.id < ${filter.beforeId}`] : [])
  ].reduce((acc, part) => sql`${acc} and ${part}`, sql`true`)
  const rows = filter.firingOnly
    ? await sql<Record<string, unknown>[]>`
        select e.*, true as firing from alert_states s
        cross join lateral (
          select * from ops_events e where e.kind = s.kind and e.subject = s.subject and e.severity <> 'info'
          order by e.id desc limit 1
        ) e
        where s.firing and ${conditions}
        order by e.id desc limit ${limit}`
    : await sql<Record<string, unknown>[]>`
        select e.*, coalesce(s.firing, false) as firing from ops_events e
        left join alert_states s on s.kind = e.kind and s.subject = e.subject
        where ${conditions}
        order by e.id desc limit ${limit}`
  return rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind as string,
    subject: r.subject as string,
    severity: r.severity as OpsEventRow['severity'],
    message: r.message as string,
    details: r.details as Record<string, unknown>,
    createdAt: toDate(r.created_at) as Date,
    firing: r.firing as boolean
  }))
}
