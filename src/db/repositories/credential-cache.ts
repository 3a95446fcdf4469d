import type postgres from 'postgres'
import { credentialByKeyId, credentialBySecret, type Credential } from './resellers.js'

export const CREDENTIAL_CHANGES_CHANNEL = 'credential_changes'

/** How long a credential is trusted without a change notice: the backstop if one is lost. */
const TTL_MS = 30_000
/** More distinct credentials than this in one TTL: start over rather than grow. */
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
  private readonly entries = new Map<string, { credential: Credential, until: number }>()
  /** Bumped by every clear: a look-up that started before a change must not store its answer. */
  private generation = 0
  private unlisten: (() => Promise<void>) | undefined

  constructor (private readonly sql: postgres.Sql) {}

  async start (): Promise<void> {
    const { unlisten } = await this.sql.listen(CREDENTIAL_CHANGES_CHANNEL, () => this.clear(), () => this.clear())
    this.unlisten = unlisten
  }

  async bySecret (secret: string): Promise<Credential | undefined> {
    return await this.cached(`s:${secret}`, async () => await credentialBySecret(this.sql, secret))
  }

  async byKeyId (keyId: string): Promise<Credential | undefined> {
    return await this.cached(`k:${keyId}`, async () => await credentialByKeyId(this.sql, keyId))
  }

  private async cached (key: string, load: () => Promise<Credential | undefined>): Promise<Credential | undefined> {
    const hit = this.entries.get(key)
    if (hit && hit.until > Date.now()) return hit.credential
    const generation = this.generation
    const credential = await load()
    // Not listening (yet, or any more): nothing would tell us of a revocation, so keep nothing.
    if (credential && this.unlisten && generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear()
      this.entries.set(key, { credential, until: Date.now() + TTL_MS })
    }
    return credential
  }

  clear (): void {
    this.generation++
    this.entries.clear()
  }

  async close (): Promise<void> {
    const unlisten = this.unlisten
    this.unlisten = undefined
    this.clear()
    await unlisten?.()
  }
}
