import { Counter, type Registry } from 'prom-client'

/**
 * What became of each pass at a callback: `delivered` (2xx), `failed_attempt` (not
 * acknowledged, retried later), `gave_up` (not acknowledged and no retry left, or 410: the
 * event is `failed`), `url_refused` (the URL breaks the SSRF rules: failed without an
 * attempt), `deferred` (not sent now for a reason of ours; retried without counting).
 */
export const DELIVERY_OUTCOMES = ['delivered', 'failed_attempt', 'gave_up', 'url_refused', 'deferred'] as const
export type DeliveryOutcome = typeof DELIVERY_OUTCOMES[number]

export interface WebhookMetrics {
  deliveries: Counter<'outcome'>
}

export function createWebhookMetrics (registry: Registry): WebhookMetrics {
  const deliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Merchant callback passes by this process, by outcome (delivered, failed_attempt, gave_up, url_refused, deferred)',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  for (const outcome of DELIVERY_OUTCOMES) deliveries.inc({ outcome }, 0)
  return { deliveries }
}

/** One recorded outcome, as the dispatcher reports it to an observer (the alerts module). */
export interface DeliveryReport {
  eventId: string
  resellerId: string
  outcome: DeliveryOutcome
  /** Attempts made at this event so far (this one included). */
  attempts: number
  statusCode: number | null
}

export type DeliveryObserver = (report: DeliveryReport) => Promise<void>
