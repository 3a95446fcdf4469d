import type postgres from 'postgres'
import type { TxSql } from '../db/pipelined.js'
import { allocateCardKeys, availableUpTo, type AllocatedCardKey } from '../db/repositories/card-keys.js'

export interface LowStock {
  sku: string
  remaining: number
  threshold: number
}

export interface Sale {
  keys: AllocatedCardKey[]
  /** Set when this sale took the SKU's sellable stock to or below its threshold. */
  lowStock: LowStock | null
}

/**
 * Sells `quantity` keys to an order inside the caller's transaction and tells whether the
 * sale crossed the SKU's low-stock threshold (which the caller read with the SKU). The caller reports it after commit, so a
 * rolled-back sale never raises an alert.
 */
export async function sellCardKeys (tx: postgres.TransactionSql, input: { sku: string, quantity: number, orderId: string, lowStockThreshold: number | null }): Promise<Sale> {
  const keys = await allocateCardKeys(tx, input)
  const threshold = input.lowStockThreshold
  return { keys, lowStock: threshold === null ? null : await lowStockAfterSale(tx, input.sku, input.quantity, threshold) }
}

/** After a sale of `quantity` keys in this transaction: did it take the stock to or below `threshold`? */
export async function lowStockAfterSale (tx: TxSql, sku: string, quantity: number, threshold: number): Promise<LowStock | null> {
  // Counting stops at threshold + 1: the check costs the same with ten keys or ten million.
  const remaining = await availableUpTo(tx, sku, threshold + 1)
  const crossed = remaining <= threshold && remaining + quantity > threshold
  return crossed ? { sku, remaining, threshold } : null
}

export function reportLowStock (log: { warn: (obj: object, msg: string) => void }, lowStock: LowStock | null): void {
  if (lowStock) log.warn(lowStock, 'card pool stock fell to its low-stock threshold')
}
