import { and, asc, eq, gt, inArray, notInArray, sql } from 'drizzle-orm'
import { defaultFulfilment, type Delivery, type Fulfilment } from '../../domain/catalog.js'
import type { Db, Tx } from '../client.js'
import { skus, tierPrices, type Sku } from '../schema/index.js'

export type SkuInput = Omit<typeof skus.$inferInsert, 'createdAt' | 'updatedAt' | 'fulfilment' | 'maxQuantity'> & {
  maxQuantity?: number | undefined
  fulfilment?: Fulfilment | undefined
}

const defaultMaxQuantity = (delivery: Delivery): number => delivery === 'card_key' ? 100 : 1

/** Inserts a SKU; returns undefined when the id is taken. */
export async function insertSku (tx: Db | Tx, input: SkuInput): Promise<Sku | undefined> {
  const [row] = await tx.insert(skus).values({
    ...input,
    maxQuantity: input.maxQuantity ?? defaultMaxQuantity(input.delivery),
    fulfilment: input.fulfilment ?? defaultFulfilment(input.delivery)
  }).onConflictDoNothing().returning()
  return row
}

export async function replaceSku (tx: Tx, sku: string, input: Omit<SkuInput, 'sku'>): Promise<Sku | undefined> {
  const [row] = await tx.update(skus).set({
    ...input,
    maxQuantity: input.maxQuantity ?? defaultMaxQuantity(input.delivery),
    ...(input.fulfilment ? { fulfilment: input.fulfilment } : {}),
    updatedAt: sql`now()`
  }).where(eq(skus.sku, sku)).returning()
  return row
}

export async function lockSku (tx: Tx, sku: string): Promise<Sku | undefined> {
  const [row] = await tx.select().from(skus).where(eq(skus.sku, sku)).for('update')
  return row
}

/** Amounts recorded in the SKU's currency (tier prices, batch costs) would change meaning with it. */
export async function isPriced (tx: Tx, sku: string): Promise<boolean> {
  const [row] = await tx.execute<{ priced: boolean }>(sql`
    select exists (select 1 from tier_prices where sku = ${sku}) or exists (select 1 from card_key_batches where sku = ${sku}) as priced`)
  return row?.priced === true
}

export async function setFulfilment (tx: Tx, sku: string, fulfilment: Fulfilment): Promise<Sku | undefined> {
  const [row] = await tx.update(skus).set({ fulfilment, updatedAt: sql`now()` }).where(eq(skus.sku, sku)).returning()
  return row
}

export async function getSku (db: Db, sku: string): Promise<Sku | undefined> {
  const [row] = await db.select().from(skus).where(eq(skus.sku, sku))
  return row
}

export async function listSkus (db: Db, limit: number, after?: string): Promise<Sku[]> {
  return await db.select().from(skus).where(after ? gt(skus.sku, after) : undefined).orderBy(asc(skus.sku)).limit(limit)
}

export async function existingSkus (tx: Db | Tx, list: string[]): Promise<Set<string>> {
  if (list.length === 0) return new Set()
  const rows = await tx.select({ sku: skus.sku }).from(skus).where(inArray(skus.sku, list))
  return new Set(rows.map((r) => r.sku))
}

/** Replaces a tier's whole price list in one transaction. */
export async function replaceTierPrices (tx: Tx, tier: string, prices: { sku: string, price: number }[]): Promise<void> {
  const listed = prices.map((p) => p.sku)
  await tx.delete(tierPrices).where(and(eq(tierPrices.tier, tier), listed.length ? notInArray(tierPrices.sku, listed) : undefined))
  if (prices.length === 0) return
  await tx.insert(tierPrices).values(prices.map((p) => ({ tier, sku: p.sku, price: p.price })))
    .onConflictDoUpdate({
      target: [tierPrices.tier, tierPrices.sku],
      set: { price: sql`excluded.price`, updatedAt: sql`now()` },
      // Unchanged prices keep their updated_at.
      setWhere: sql`${tierPrices.price} is distinct from excluded.price`
    })
}

export async function getTierPrices (db: Db | Tx, tier: string) {
  return await db.select({ sku: tierPrices.sku, price: tierPrices.price, currency: skus.currency, updatedAt: tierPrices.updatedAt })
    .from(tierPrices).innerJoin(skus, eq(skus.sku, tierPrices.sku))
    .where(eq(tierPrices.tier, tier)).orderBy(asc(tierPrices.sku))
}
