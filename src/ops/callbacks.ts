import type { DeliveryObserver } from '../webhooks/metrics.js'
import type { Alerts } from './alerts.js'

/**
 * `callback_failures` per reseller: raised when one of its callbacks has failed
 * `afterAttempts` attempts in a row (an event stops at its first 2xx, so an event's attempt
 * count is its run of failures) or has been given up (`failed`: schedule exhausted, 410, or
 * a URL the SSRF rules refuse); cleared when any of its callbacks is acknowledged.
 */
export function callbackAlerts (alerts: Alerts, afterAttempts: number): DeliveryObserver {
  return async ({ eventId, resellerId, outcome, attempts, statusCode }) => {
    if (outcome === 'delivered') {
      await alerts.clear('callback_failures', resellerId, `reseller ${resellerId}: callbacks are acknowledged again`, { event: eventId })
      return
    }
    const gaveUp = outcome === 'gave_up' || outcome === 'url_refused'
    if (!gaveUp && !(outcome === 'failed_attempt' && attempts >= afterAttempts)) return
    await alerts.raise('callback_failures', resellerId, {
      severity: 'warning',
      message: gaveUp
        ? `reseller ${resellerId}: callback ${eventId} was given up after ${attempts} attempt(s)`
        : `reseller ${resellerId}: callback ${eventId} failed ${attempts} attempts in a row`,
      details: { event: eventId, attempts, last_status: statusCode, gave_up: gaveUp }
    })
  }
}
