import { pgTable, text } from 'drizzle-orm/pg-core'
import { bytea, createdAt, updatedAt } from './_columns.js'

/**
 * Key material the gateway keeps in its own database, sealed under ENCRYPTION_KEYS: the
 * fingerprint key, FINGERPRINT_KEY's or a generated one (src/db/repositories/keyring-secrets.ts).
 * `keys rotate` re-seals it under the new primary key like every other secret.
 */
export const keyringSecrets = pgTable('keyring_secrets', {
  name: text('name').primaryKey(),
  keyId: text('key_id').notNull(),
  ciphertext: bytea('ciphertext').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt()
})
