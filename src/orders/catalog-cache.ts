import type postgres from 'postgres'
import type { RiskRule } from '../domain/risk/rules.js'
import type { Buyer, SkuPrice } from './catalog.js'

export const CATALOG_CHANGES_CHANNEL = 'catalog_changes'

/** How long terms are used without a change notice: the backstop if one is lost. */
const TTL_MS = 30_000
/** More distinct (reseller, SKU) pairs than this in one TTL: start over rather than grow. */
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
  private readonly entries = new Map<string, { terms: OrderTerms, until: number }>()
  /** Bumped by every clear: a look-up that started before a change must not store its answer. */
  private generation = 0
  private unlisten: (() => Promise<void>) | undefined

  constructor (private readonly sql: postgres.Sql) {}

  async start (): Promise<void> {
    const { unlisten } = await this.sql.listen(CATALOG_CHANGES_CHANNEL, () => this.clear(), () => this.clear())
    this.unlisten = unlisten
  }

  get (buyer: Buyer, sku: string): OrderTerms | undefined {
    const hit = this.entries.get(key(buyer, sku))
    return hit && hit.until > Date.now() ? hit.terms : undefined
  }

  /** The generation to hand back to `set`: taken before the look-ups. */
  current (): number {
    return this.generation
  }

  set (buyer: Buyer, terms: OrderTerms, generation: number): void {
    // Not listening (yet, or any more), or cleared since the look-ups began: keep nothing.
    if (!this.unlisten || generation !== this.generation) return
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
    this.entries.set(key(buyer, terms.sku.sku), { terms, until: Date.now() + TTL_MS })
  }

  clear (): void {
    this.generation++
    this.entries.clear()
  }

  async close (): Promise<void> {
    const unlisten = this.unlisten
    this.unlisten = undefined
    this.clear()
    await unlisten?.()
  }
}

function key (buyer: Buyer, sku: string): string {
  return `${buyer.id}\u0000${buyer.tier}\u0000${buyer.currency}\u0000${sku}`
}
