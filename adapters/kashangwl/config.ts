import { z } from 'zod'

/** Credentials of one kashangwl merchant account (stored encrypted, never returned). */
export const KashangwlConfigSchema = z.object({
  // 商家编号: a number in the merchant console; kept as text because it is signed as text.
  customer_id: z.union([z.string().trim(), z.number().int().nonnegative().transform(String)])
    .pipe(z.string().regex(/^\d{1,20}$/, 'kashangwl customer_id is the numeric merchant number')),
  customer_key: z.string().min(1).max(256)
})

export type KashangwlConfig = z.infer<typeof KashangwlConfigSchema>

/** kashangwl keeps prices to four decimals of a yuan. */
const SAFE_COST = /^\d{1,9}(?:\.\d{1,4})?$/

/**
 * What a fulfilment route may say in `supplier_params` (other keys are ignored). Routes are
 * not validated by the adapter when an operator saves them, so a purchase reads them here
 * and refuses to send anything it cannot read.
 */
export const KashangwlRouteParamsSchema = z.object({
  /** Highest unit price in yuan we accept; kashangwl refuses the order above it. */
  safe_cost: z.union([z.string().trim(), z.number().transform(String)])
    .pipe(z.string().regex(SAFE_COST, 'safe_cost is a decimal of yuan with at most four decimals'))
    .refine((v) => /[1-9]/.test(v), 'safe_cost must be above zero')
    .optional(),
  /** The product's recharge-template field that takes a game account's server (区服). */
  server_field: z.string().trim().min(1).max(64).default('区服')
})

export type KashangwlRouteParams = z.infer<typeof KashangwlRouteParamsSchema>
