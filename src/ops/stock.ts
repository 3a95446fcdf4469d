import type postgres from 'postgres'
import type { Alerts } from './alerts.js'

interface Watched {
  sku: string
  threshold: number
  available: number
}

/**
 * Raises `low_stock` for every active SKU with a `low_stock_threshold` (and card-key batches)
 * whose sellable keys are at or below it, and clears it for the others. One query: each SKU's
 * count walks the allocation index and stops at threshold + 1, so the cost follows the
 * number of watched SKUs, not the size of the pool. Alerts whose SKU is no longer watched
 * (threshold removed, SKU inactive) are cleared.
 */
export async function checkLowStock (sql: postgres.Sql, alerts: Alerts): Promise<void> {
  const watched = await sql<Watched[]>`
    select s.sku, s.low_stock_threshold as threshold,
      (select count(*)::int from (
         select 1 from card_keys k
         where k.sku = s.sku and k.status = 'available' and k.expires_at > now()
         limit s.low_stock_threshold + 1) x) as available
    from skus s
    where s.low_stock_threshold is not null and s.status = 'active'
      and exists (select 1 from card_key_batches b where b.sku = s.sku)`
  const firing = await alerts.firing('low_stock')
  for (const { sku, threshold, available } of watched) {
    const low = available <= threshold
    if (low && !firing.has(sku)) {
      await alerts.raise('low_stock', sku, {
        severity: available === 0 ? 'critical' : 'warning',
        message: `SKU ${sku}: ${available} sellable card key(s) left, at or below its low-stock threshold ${threshold}`,
        details: { available, threshold }
      })
    } else if (!low && firing.has(sku)) {
      await alerts.clear('low_stock', sku, `SKU ${sku}: stock is above its low-stock threshold again`, { available_at_least: available, threshold })
    }
    firing.delete(sku)
  }
  for (const sku of firing) await alerts.clear('low_stock', sku, `SKU ${sku}: no longer watched for low stock`)
}
