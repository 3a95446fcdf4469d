import type postgres from 'postgres'
import { Gauge, type Registry } from 'prom-client'
import { idFloor } from '../domain/ids.js'

/** Scrapes from several Prometheus servers within this window share one read. */
const CACHE_MS = 10_000

/** A gauge read from the database on scrape, cached, and left stale if the database is away. */
function databaseGauge<L extends string> (registry: Registry, log: { warn: (obj: object, msg: string) => void }, spec: {
  name: string
  help: string
  labelNames: readonly L[]
  read: () => Promise<{ labels: Record<L, string>, value: number }[]>
}): void {
  let cached: { at: number, rows: { labels: Record<L, string>, value: number }[] } | undefined
  new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    async collect () {
      try {
        if (!cached || Date.now() - cached.at > CACHE_MS) cached = { at: Date.now(), rows: await spec.read() }
        this.reset()
        for (const row of cached.rows) this.set(row.labels as Partial<Record<L, string>>, row.value)
      } catch (err) {
        log.warn({ err, metric: spec.name }, 'could not read a metric from the database')
      }
    }
  })
}

/**
 * Gauges read from the database, so every process exports the same figures whichever
 * process did the work (aggregate them with max, not sum):
 * - `supplier_balance_minor{supplier,currency}`: our balance at each supplier as last polled.
 * - `orders_recent{status,sku,supplier}`: orders created in the last `ordersWindowMs`.
 *   `supplier` is the instance that delivered (its succeeded attempt), else `pool` when
 *   pool keys were sold to it, else the instance tried last, else `none`. Cost, once per
 *   cache period per process: one range scan of the orders primary key over the window
 *   (ids sort by creation time) and up to three index probes per order in it.
 */
export function registerOpsMetrics (registry: Registry, sql: postgres.Sql, log: { warn: (obj: object, msg: string) => void }, options: { ordersWindowMs: number }): void {
  databaseGauge(registry, log, {
    name: 'supplier_balance_minor',
    help: 'Our prepaid balance at each supplier instance in minor units, as its balance call last said',
    labelNames: ['supplier', 'currency'] as const,
    read: async () => (await sql<{ id: string, balance: string, currency: string }[]>`
      select id, balance, balance_currency as currency from suppliers where balance is not null and balance_currency is not null`)
      .map((r) => ({ labels: { supplier: r.id, currency: r.currency }, value: Number(r.balance) }))
  })
  databaseGauge(registry, log, {
    name: 'orders_recent',
    help: `Orders created in the last ${options.ordersWindowMs / 1000} s (ORDERS_METRICS_WINDOW_MS) by status, SKU and supplier (delivering instance, pool, last instance tried, or none)`,
    labelNames: ['status', 'sku', 'supplier'] as const,
    read: async () => (await sql<{ status: string, sku: string, supplier: string, n: number }[]>`
      select o.status::text as status, o.sku,
        coalesce(
          (select a.supplier_id from supplier_attempts a where a.order_id = o.id and a.status = 'succeeded' limit 1),
          (select 'pool' from card_keys k where k.order_id = o.id limit 1),
          (select a.supplier_id from supplier_attempts a where a.order_id = o.id order by a.id desc limit 1),
          'none') as supplier,
        count(*)::int as n
      from orders o
      where o.id >= ${idFloor('ord', Date.now() - options.ordersWindowMs)}
      group by 1, 2, 3`)
      .map((r) => ({ labels: { status: r.status, sku: r.sku, supplier: r.supplier }, value: r.n }))
  })
}
