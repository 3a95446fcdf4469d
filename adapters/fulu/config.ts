import { z } from 'zod'

/** Credentials of one Fulu merchant account (stored encrypted, never returned). */
export const FuluConfigSchema = z.object({
  app_key: z.string().min(1).max(256),
  // The secret is also the AES-256 key of card codes, so it must be exactly 32 bytes.
  app_secret: z.string().length(32, 'Fulu app_secret is 32 characters')
})

export type FuluConfig = z.infer<typeof FuluConfigSchema>
