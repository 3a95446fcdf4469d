import { z } from 'zod'

/**
 * Credentials of one Reloadly account (stored encrypted, never returned). Airtime and gift
 * cards use the same ones: the token's `audience` (the product host) picks the product.
 */
export const ReloadlyConfigSchema = z.object({
  client_id: z.string().min(1).max(256),
  client_secret: z.string().min(1).max(512),
  // https://auth.reloadly.com/oauth/token for production and sandbox alike (suppliers.md §1.1).
  auth_url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of the token endpoint' }).max(2048),
  // The dashboard's webhook signing secret, not the API client secret (suppliers.md §1.7).
  webhook_secret: z.string().min(1).max(512)
})

export type ReloadlyConfig = z.infer<typeof ReloadlyConfigSchema>
