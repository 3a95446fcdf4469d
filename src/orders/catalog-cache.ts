import type postgres from 'postgres'
import { NotifiedCache } from '../db/notified-cache.js'
import type { RiskRule } from '../domain/risk/rules.js'
import type { Buyer, SkuPrice } from './catalog.js'

export const CATALOG_CHANGES_CHANNEL = 'catalog_changes'

/** How long terms are used without a change notice: the backstop if one is lost. */
const TTL_MS = 30_000
const MAX_ENTRIES = 50_000

/** What an order of one SKU by one reseller is priced and screened by, as read at `version`. */
export interface OrderTerms {
  sku: SkuPrice
  rules: RiskRule[]
  /** catalog_version when the look-ups ran (read before them). */
  version: number
}

/**
 * The price and risk-rule look-ups of an order, kept in memory so that a busy reseller's
 * orders skip a round trip to PostgreSQL. A cached order is exact, not merely recent: its
 * transaction reads catalog_version beside its inserts and rolls back when the version is
 * not the one its terms were read at (every change to skus, prices or rules bumps it,
 * migration 0015), and the order is then placed from fresh look-ups. The change notice
 * (`catalog_changes`) only keeps such retries rare. Only SKUs found are kept: an unknown
 * SKU always goes to the database.
 */
export class CatalogCache {
  private readonly cache: NotifiedCache<OrderTerms>

  constructor (sql: postgres.Sql) {
    this.cache = new NotifiedCache(sql, CATALOG_CHANGES_CHANNEL, TTL_MS, MAX_ENTRIES)
  }

  async start (): Promise<void> {
    await this.cache.start()
  }

  get (buyer: Buyer, sku: string): OrderTerms | undefined {
    return this.cache.get(key(buyer, sku))
  }

  /** The generation to hand back to `set`: taken before the look-ups. */
  current (): number {
    return this.cache.current()
  }

  set (buyer: Buyer, terms: OrderTerms, generation: number): void {
    this.cache.set(key(buyer, terms.sku.sku), terms, generation)
  }

  async close (): Promise<void> {
    await this.cache.close()
  }
}

function key (buyer: Buyer, sku: string): string {
  return `${buyer.id}\u0000${buyer.tier}\u0000${buyer.currency}\u0000${sku}`
}
