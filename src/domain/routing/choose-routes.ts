import type { Fulfilment } from '../catalog.js'

export type Route = Fulfilment['routes'][number]

/** What routing needs to know about a supplier instance right now. */
export interface SupplierHealth {
  enabled: boolean
  /** Operator override: `open` takes it out of rotation, `closed` ignores its breaker. */
  forceState: 'open' | 'closed' | null
  breaker: 'closed' | 'open' | 'half_open'
}

export type Step = { kind: 'supplier', route: Route } | { kind: 'card_pool' }

function usable (route: Route, health: SupplierHealth | undefined): boolean {
  if (!route.enabled || !health?.enabled) return false
  if (health.forceState === 'open') return false
  return health.forceState === 'closed' || health.breaker !== 'open'
}

const byPriority = (a: Route, b: Route): number => a.priority - b.priority || a.cost - b.cost || (a.supplier < b.supplier ? -1 : 1)
const byCost = (a: Route, b: Route): number => a.cost - b.cost || a.priority - b.priority || (a.supplier < b.supplier ? -1 : 1)

/** Weighted order without replacement: each pick proportional to the weights still in play. */
function weightedOrder (routes: Route[], random: () => number): Route[] {
  const pool = routes.filter((r) => r.weight > 0)
  const out: Route[] = []
  while (pool.length > 0) {
    const total = pool.reduce((sum, r) => sum + r.weight, 0)
    let x = random() * total
    const index = pool.findIndex((r) => (x -= r.weight) < 0)
    out.push(...pool.splice(index === -1 ? pool.length - 1 : index, 1))
  }
  // Zero-weight routes take no share of traffic but still serve as a last resort.
  return [...out, ...routes.filter((r) => r.weight === 0).sort(byPriority)]
}

/**
 * The ordered fulfilment plan of one order: usable supplier routes by the SKU's strategy,
 * with the card pool before, after or instead of them. Pure: the caller walks the plan.
 * An empty plan means nothing can serve the SKU now (409 sku_unavailable).
 */
export function chooseRoutes (fulfilment: Fulfilment, health: Readonly<Record<string, SupplierHealth | undefined>>, random: () => number = Math.random): Step[] {
  const routes = fulfilment.card_pool === 'only' ? [] : fulfilment.routes.filter((r) => usable(r, health[r.supplier]))
  const ordered = fulfilment.strategy === 'weighted'
    ? weightedOrder(routes, random)
    : [...routes].sort(fulfilment.strategy === 'lowest_cost' ? byCost : byPriority)
  const suppliers: Step[] = ordered.map((route) => ({ kind: 'supplier', route }))
  const pool: Step[] = [{ kind: 'card_pool' }]
  switch (fulfilment.card_pool) {
    case 'never': return suppliers
    case 'fallback': return [...suppliers, ...pool]
    case 'primary': return [...pool, ...suppliers]
    case 'only': return pool
  }
}
