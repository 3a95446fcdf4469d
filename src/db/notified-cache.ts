import type postgres from 'postgres'

/**
 * Values read from the database, kept in memory for `ttlMs` and forgotten by every process
 * when `channel` is notified (a trigger on the tables they come from) and on every reconnect
 * of the listening connection, which may have missed a notice. Nothing is kept while not
 * listening, nor an answer to a look-up that began before a clear (`current` / `set`).
 */
export class NotifiedCache<V> {
  private readonly entries = new Map<string, { value: V, until: number }>()
  /** Bumped by every clear. */
  private generation = 0
  private unlisten: (() => Promise<void>) | undefined

  constructor (private readonly sql: postgres.Sql, private readonly channel: string, private readonly ttlMs: number, private readonly maxEntries: number) {}

  async start (): Promise<void> {
    const { unlisten } = await this.sql.listen(this.channel, () => this.clear(), () => this.clear())
    this.unlisten = unlisten
  }

  get (key: string): V | undefined {
    const hit = this.entries.get(key)
    return hit && hit.until > Date.now() ? hit.value : undefined
  }

  /** The generation to hand back to `set`: taken before the look-up. */
  current (): number {
    return this.generation
  }

  set (key: string, value: V, generation: number): void {
    if (!this.unlisten || generation !== this.generation) return
    // More distinct keys than this in one TTL: start over rather than grow.
    if (this.entries.size >= this.maxEntries) this.entries.clear()
    this.entries.set(key, { value, until: Date.now() + this.ttlMs })
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
