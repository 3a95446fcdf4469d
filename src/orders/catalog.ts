import type postgres from 'postgres'
import type { Fulfilment, RecipientType } from '../domain/catalog.js'
import { chooseRoutes, type SupplierHealth } from '../domain/routing/choose-routes.js'

/** A SKU as one reseller may buy it: only with a price for that reseller, in its currency. */
export interface SkuPrice {
  sku: string
  name: string
  category: string
  delivery: string
  recipientType: RecipientType
  faceValue: number
  currency: string
  maxQuantity: number
  fulfilment: Fulfilment
  lowStockThreshold: number | null
  price: number
}

/** A SKU as one reseller sees it in the catalog. */
export interface PricedSku extends SkuPrice {
  /** The card pool holds sellable keys and the SKU lets it serve. */
  poolStocked: boolean
}

/*
 * A reseller override beats its tier's price; a SKU with neither, in another currency or
 * inactive is invisible.
 */
const PRICE_COLUMNS = `s.sku, s.name, s.category, s.delivery, s.recipient_type, s.face_value, s.currency, s.max_quantity, s.fulfilment,
         s.low_stock_threshold, coalesce(rp.price, tp.price) as price`
const PRICE_JOINS = `
  left join reseller_prices rp on rp.sku = s.sku and rp.reseller_id = $1
  left join tier_prices tp on tp.sku = s.sku and tp.tier = $2`
const PRICE_FILTER = `s.status = 'active' and s.currency = $3 and coalesce(rp.price, tp.price) is not null`

/*
 * Whether the pool can serve a listed SKU now: one probe of the allocation index from the
 * SKU's floor (card_key_floors, as allocation reads it). Written as a plain EXISTS on
 * status and expiry, the planner priced it as a sequential scan that stops at the first
 * match, which for a SKU whose keys sit late in the table read every row before them
 * (51 ms per order with 64 SKUs in `npm run bench -- contention`); ORDER BY on the index's
 * columns with LIMIT 1 makes the index the only cheap plan. Whether a supplier can serve
 * it is the routing's answer (availableNow).
 */
const POOL_STOCKED = `(s.fulfilment->>'card_pool' <> 'never' and exists (
    select 1 from card_keys k
    where k.sku = s.sku and k.status = 'available' and k.expires_at <> now()
      and (k.expires_at, k.id) >= (greatest(coalesce(f.expires_at, '-infinity'), now()), case when f.expires_at > now() then f.card_key_id else '' end)
    order by k.expires_at, k.id limit 1)) as pool_stocked`

const PRICED = `select ${PRICE_COLUMNS}, ${POOL_STOCKED}
  from skus s ${PRICE_JOINS}
  left join card_key_floors f on f.sku = s.sku
  where ${PRICE_FILTER}`

function toPrice (r: Record<string, unknown>): SkuPrice {
  return {
    sku: r.sku as string,
    name: r.name as string,
    category: r.category as string,
    delivery: r.delivery as string,
    recipientType: r.recipient_type as RecipientType,
    faceValue: Number(r.face_value),
    currency: r.currency as string,
    maxQuantity: r.max_quantity as number,
    fulfilment: r.fulfilment as Fulfilment,
    lowStockThreshold: r.low_stock_threshold as number | null,
    price: Number(r.price)
  }
}

function toPriced (r: Record<string, unknown>): PricedSku {
  return { ...toPrice(r), poolStocked: r.pool_stocked as boolean }
}

export interface Buyer {
  id: string
  tier: string
  currency: string
  /** The reseller's default callback URL, when the caller knows it (undefined: look it up). */
  callbackUrl?: string | null
}

/** The SKU and its price for an order; no stock probe (the accepting transaction finds out). */
export async function skuPrice (sql: postgres.Sql, buyer: Buyer, sku: string): Promise<SkuPrice | undefined> {
  const [row] = await sql.unsafe(`select ${PRICE_COLUMNS} from skus s ${PRICE_JOINS} where ${PRICE_FILTER} and s.sku = $4`, [buyer.id, buyer.tier, buyer.currency, sku], { prepare: true })
  return row ? toPrice(row) : undefined
}

export async function pricedSku (sql: postgres.Sql, buyer: Buyer, sku: string): Promise<PricedSku | undefined> {
  const [row] = await sql.unsafe(`${PRICED} and s.sku = $4`, [buyer.id, buyer.tier, buyer.currency, sku], { prepare: true })
  return row ? toPriced(row) : undefined
}

export async function pricedSkus (sql: postgres.Sql, buyer: Buyer, limit: number, after?: string): Promise<PricedSku[]> {
  const rows = await sql.unsafe(`${PRICED} and s.sku > $4 order by s.sku limit $5`, [buyer.id, buyer.tier, buyer.currency, after ?? '', limit], { prepare: true })
  return rows.map(toPriced)
}

/** Whether an order for this SKU could be served now: a usable supplier route, or pool stock where the pool may serve. */
export function availableNow (p: PricedSku, health: Readonly<Record<string, SupplierHealth | undefined>>): boolean {
  return chooseRoutes(p.fulfilment, health).some((step) => step.kind === 'supplier' || p.poolStocked)
}
