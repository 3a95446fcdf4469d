import type { BreakerObserver, BreakerState } from '../suppliers/executor.js'
import type { Alerts } from './alerts.js'

/**
 * `breaker_open` from breaker transitions in this process: raised when a supplier's breaker
 * opens, cleared when one closes (or is shut down while not closed). Breakers are per
 * process; the alert is shared, so it fires once however many processes open theirs, and a
 * process still open after another closed raises it again at its next failed trial.
 * Transitions of one supplier are written in order; drain() waits for them (shutdown).
 */
export function createBreakerAlerts (alerts: Alerts, log: { warn: (obj: object, msg: string) => void }): { observe: BreakerObserver, drain: () => Promise<void> } {
  const chains = new Map<string, Promise<void>>()
  const write = async (supplier: string, state: BreakerState): Promise<void> => {
    if (state === 'open') {
      await alerts.raise('breaker_open', supplier, {
        severity: 'critical',
        message: `supplier ${supplier}: circuit breaker opened; orders go to other routes`,
        details: { state }
      })
    } else if (state === 'closed') {
      await alerts.clear('breaker_open', supplier, `supplier ${supplier}: circuit breaker closed`)
    }
  }
  return {
    observe (supplier, state) {
      const next = (chains.get(supplier) ?? Promise.resolve())
        .then(async () => await write(supplier, state))
        .catch((err: unknown) => log.warn({ err, supplier, breaker: state }, 'could not record a breaker alert'))
      chains.set(supplier, next)
      void next.finally(() => { if (chains.get(supplier) === next) chains.delete(supplier) })
    },
    async drain () {
      await Promise.all([...chains.values()])
    }
  }
}
