import { z } from 'zod'

export const CATEGORIES = ['video', 'game', 'mobile', 'gift_card', 'other'] as const
export const DELIVERIES = ['direct_recharge', 'card_key'] as const
export const RECIPIENT_TYPES = ['account', 'phone', 'game_account', 'none'] as const
export const SKU_STATUSES = ['active', 'inactive'] as const
export const STRATEGIES = ['priority', 'lowest_cost', 'weighted'] as const
export const CARD_POOL_MODES = ['never', 'fallback', 'primary', 'only'] as const

export type Category = typeof CATEGORIES[number]
export type Delivery = typeof DELIVERIES[number]
export type RecipientType = typeof RECIPIENT_TYPES[number]

export const SKU_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/
export const TIER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/

const routeFields = {
  supplier: z.string().min(1).max(64).describe('Supplier instance id'),
  supplier_product_id: z.string().min(1).max(128),
  supplier_params: z.record(z.string(), z.unknown()).optional()
    .describe('Adapter-specific parameters, validated by the adapter'),
  cost: z.number().int().min(0).describe('What the supplier charges us, minor units of the SKU currency'),
  priority: z.number().int().min(0).max(1000).default(100).describe('Lower runs first under `priority`'),
  weight: z.number().int().min(0).max(10_000).default(1).describe('Share of traffic under `weighted`'),
  enabled: z.boolean().default(true)
}

const fulfilmentFields = <R extends z.ZodType>(route: R) => ({
  strategy: z.enum(STRATEGIES).default('priority'),
  card_pool: z.enum(CARD_POOL_MODES).default('never')
    .describe('Whether the local card-key pool serves this SKU: never, after suppliers, before them, or alone'),
  routes: z.array(route).max(32).default([])
})

/** Requests are strict: a misspelt field is refused, not silently left at its default. */
export const RouteSchema = z.strictObject(routeFields)

export const FulfilmentSchema = z.strictObject(fulfilmentFields(RouteSchema)).superRefine((f, ctx) => {
  const seen = new Set<string>()
  f.routes.forEach((r, i) => {
    if (seen.has(r.supplier)) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'supplier'], message: 'supplier appears in more than one route' })
    }
    seen.add(r.supplier)
  })
  if (f.card_pool === 'only' && f.routes.length > 0) {
    ctx.addIssue({ code: 'custom', path: ['routes'], message: 'must be empty when card_pool is only' })
  }
  if (f.strategy === 'weighted' && f.routes.some((r) => r.enabled) &&
      f.routes.filter((r) => r.enabled).every((r) => r.weight === 0)) {
    ctx.addIssue({ code: 'custom', path: ['routes'], message: 'weighted strategy needs an enabled route with weight > 0' })
  }
}).meta({ id: 'Fulfilment' })

export type Fulfilment = z.output<typeof FulfilmentSchema>

/** The same shape in answers, open: a field added later must not fail an older reader's parse. */
export const FulfilmentView = z.object(fulfilmentFields(z.object(routeFields))).meta({ id: 'FulfilmentView' })

export function defaultFulfilment (delivery: Delivery): Fulfilment {
  return { strategy: 'priority', card_pool: delivery === 'card_key' ? 'only' : 'never', routes: [] }
}

/** Card keys go to no one in particular; direct recharges need someone to credit. */
export function recipientFitsDelivery (delivery: Delivery, recipientType: RecipientType): boolean {
  return delivery === 'card_key' ? recipientType === 'none' : recipientType !== 'none'
}
