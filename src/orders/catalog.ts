import type postgres from 'postgres'
import type { Fulfilment, RecipientType } from '../domain/catalog.js'
import { chooseRoutes, type SupplierHealth } from '../domain/routing/choose-routes.js'

/** A SKU as one reseller sees it: only with a price for that reseller, in its currency. */
export interface PricedSku {
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
  /** The card pool holds sellable keys and the SKU lets it serve. */
  poolStocked: boolean
}

/*
 * A reseller override beats its tier's price; a SKU with neither, in another currency or
 * inactive is invisible. Whether the pool can serve it now comes with the row (one indexed
 * probe); whether a supplier can is the routing's answer (availableNow).
 */
const PRICED = `
  select s.sku, s.name, s.category, s.delivery, s.recipient_type, s.face_value, s.currency, s.max_quantity, s.fulfilment,
         s.low_stock_threshold, coalesce(rp.price, tp.price) as price,
         (s.fulfilment->>'card_pool' <> 'never' and exists (
            select 1 from card_keys k where k.sku = s.sku and k.status = 'available' and k.expires_at > now())) as pool_stocked
  from skus s
  left join reseller_prices rp on rp.sku = s.sku and rp.reseller_id = $1
  left join tier_prices tp on tp.sku = s.sku and tp.tier = $2
  where s.status = 'active' and s.currency = $3 and coalesce(rp.price, tp.price) is not null`

function toPriced (r: Record<string, unknown>): PricedSku {
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
    price: Number(r.price),
    poolStocked: r.pool_stocked as boolean
  }
}

export interface Buyer {
  id: string
  tier: string
  currency: string
  /** The reseller's default callback URL, when the caller knows it (undefined: look it up). */
  callbackUrl?: string | null
}

export async function pricedSku (sql: postgres.Sql, buyer: Buyer, sku: string): Promise<PricedSku | undefined> {
  const [row] = await sql.unsafe(`${PRICED} and s.sku = $4`, [buyer.id, buyer.tier, buyer.currency, sku])
  return row ? toPriced(row) : undefined
}

export async function pricedSkus (sql: postgres.Sql, buyer: Buyer, limit: number, after?: string): Promise<PricedSku[]> {
  const rows = await sql.unsafe(`${PRICED} and s.sku > $4 order by s.sku limit $5`, [buyer.id, buyer.tier, buyer.currency, after ?? '', limit])
  return rows.map(toPriced)
}

/** Whether an order for this SKU could be served now: a usable supplier route, or pool stock where the pool may serve. */
export function availableNow (p: PricedSku, health: Readonly<Record<string, SupplierHealth | undefined>>): boolean {
  return chooseRoutes(p.fulfilment, health).some((step) => step.kind === 'supplier' || p.poolStocked)
}
