import { Gauge, type Registry } from 'prom-client'
import { availableBySku, type Queryable } from '../db/repositories/card-keys.js'

/** Scrapes from several Prometheus servers within this window share one count. */
const CACHE_MS = 5000

export function registerPoolMetrics (registry: Registry, sql: Queryable, log: { warn: (obj: object, msg: string) => void }): void {
  let cached: { at: number, rows: { sku: string, available: number }[] } | undefined
  new Gauge({
    name: 'card_pool_available_keys',
    help: 'Sellable (unsold, unexpired) card keys per SKU',
    labelNames: ['sku'] as const,
    registers: [registry],
    async collect () {
      try {
        if (!cached || Date.now() - cached.at > CACHE_MS) cached = { at: Date.now(), rows: await availableBySku(sql) }
        this.reset()
        for (const row of cached.rows) this.set({ sku: row.sku }, row.available)
      } catch (err) {
        // A scrape must not fail because the database is briefly away; the gauge goes stale.
        log.warn({ err }, 'could not read card pool stock for metrics')
      }
    }
  })
}
