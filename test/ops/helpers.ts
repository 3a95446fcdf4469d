import type { Test } from 'tap'
import type { TestApp } from '../helper.js'

/** The warning lines an alert logged, from every app given (each has its own log). */
export function alertWarnings (apps: TestApp[], kind: string, subject: string): Record<string, unknown>[] {
  return apps.flatMap((a) => a.logs.text().split('\n').filter((l) => l.includes(`"alert":"${kind}"`)).map((l) => JSON.parse(l) as Record<string, unknown>))
    .filter((l) => l.level === 40 && l.subject === subject)
}

/** `ops_alerts_total{kind}` summed over the apps' registries (as Prometheus would sum processes). */
export async function raisedCount (apps: TestApp[], kind: string): Promise<number> {
  let total = 0
  for (const a of apps) {
    const metric = await a.app.deps.metrics.registry.getSingleMetric('ops_alerts_total')?.get()
    total += metric?.values.find((v) => v.labels.kind === kind)?.value ?? 0
  }
  return total
}

export async function raisingEvents (ta: TestApp, kind: string, subject: string): Promise<{ severity: string, message: string, details: Record<string, unknown> }[]> {
  return await ta.database.sql`select severity, message, details from ops_events where kind = ${kind} and subject = ${subject} and severity <> 'info' order by id`
}

export async function isFiring (ta: TestApp, kind: string, subject: string): Promise<boolean> {
  const [row] = await ta.database.sql<{ firing: boolean }[]>`select firing from alert_states where kind = ${kind} and subject = ${subject}`
  return row?.firing ?? false
}

/**
 * The alert has fired exactly `times` times so far: that many raising ops_events rows,
 * warning lines (over all apps) and counts of ops_alerts_total{kind} (summed over apps).
 */
export async function firedTimes (t: Test, apps: TestApp[], kind: string, subject: string, times: number, label: string): Promise<void> {
  const [first] = apps
  if (!first) throw new Error('no app')
  t.equal((await raisingEvents(first, kind, subject)).length, times, `${label}: ${times} ops event(s)`)
  t.equal(alertWarnings(apps, kind, subject).length, times, `${label}: ${times} warning line(s)`)
  t.equal(await raisedCount(apps, kind), times, `${label}: ops_alerts_total{kind="${kind}"} ${times}`)
}
