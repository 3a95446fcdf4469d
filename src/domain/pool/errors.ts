/** Fewer sellable keys than asked for; the caller's transaction must not commit a partial sale. */
export class InsufficientStockError extends Error {
  override name = 'InsufficientStockError'
  constructor (readonly sku: string, readonly requested: number, readonly found: number) {
    super(`SKU ${sku}: ${found} of ${requested} keys available`)
  }
}
