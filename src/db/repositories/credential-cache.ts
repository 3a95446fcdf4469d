import type postgres from 'postgres'
import { NotifiedCache } from '../notified-cache.js'
import { credentialByKeyId, credentialBySecret, type Credential } from './resellers.js'

export const CREDENTIAL_CHANGES_CHANNEL = 'credential_changes'

/** How long a credential is trusted without a change notice: the backstop if one is lost. */
const TTL_MS = 30_000
const MAX_ENTRIES = 50_000

/**
 * What authentication reads about a credential, kept in memory so that a busy reseller's
 * requests do not each pay a database round trip before their real work. Every change to
 * resellers or their keys empties it in every process (a trigger notifies
 * `credential_changes`, migration 0012), and so does every reconnect of the listening
 * connection, which may have missed a notice. Only found credentials are kept: unknown keys
 * always go to the database (and count against the caller's IP).
 */
export class CredentialCache {
  private readonly cache: NotifiedCache<Credential>

  constructor (private readonly sql: postgres.Sql) {
    this.cache = new NotifiedCache(sql, CREDENTIAL_CHANGES_CHANNEL, TTL_MS, MAX_ENTRIES)
  }

  async start (): Promise<void> {
    await this.cache.start()
  }

  async bySecret (secret: string): Promise<Credential | undefined> {
    return await this.cached(`s:${secret}`, async () => await credentialBySecret(this.sql, secret))
  }

  async byKeyId (keyId: string): Promise<Credential | undefined> {
    return await this.cached(`k:${keyId}`, async () => await credentialByKeyId(this.sql, keyId))
  }

  private async cached (key: string, load: () => Promise<Credential | undefined>): Promise<Credential | undefined> {
    const hit = this.cache.get(key)
    if (hit) return hit
    const generation = this.cache.current()
    const credential = await load()
    if (credential) this.cache.set(key, credential, generation)
    return credential
  }

  /**
   * Forgets every credential in this process now. Admin routes call it after a change, so
   * the process that made it applies it to its next request; the others follow on the
   * notice, which arrives a moment after the commit.
   */
  clear (): void {
    this.cache.clear()
  }

  async close (): Promise<void> {
    await this.cache.close()
  }
}
