import type postgres from 'postgres'
import { ADAPTERS } from '../../adapters/index.js'
import type { Keyring } from '../crypto/keyring.js'
import type { SupplierHealth } from '../domain/routing/choose-routes.js'
import type { HttpCall } from '../domain/supplier.js'
import { SupplierExecutor, type BreakerObserver, type SupplierSettings } from './executor.js'
import type { SupplierMetrics } from './metrics.js'
import type { Log } from '../observability/log.js'

export const SUPPLIER_CHANGES_CHANNEL = 'supplier_changes'

export const credentialsAad = (supplierId: string): string => `suppliers:${supplierId}:credentials`


export interface RegistryOptions {
  sql: postgres.Sql
  keyring: Keyring
  http: HttpCall
  metrics: SupplierMetrics
  log: Log
  publicBaseUrl: string
  /** Told of breaker transitions (the alerts module raises `breaker_open`). */
  breakerObserver?: BreakerObserver
}

interface Row {
  id: string
  adapter: string
  base_url: string
  credentials_key_id: string
  credentials_ciphertext: Buffer
  timeout_ms: number
  error_threshold_percentage: number
  reset_timeout_ms: number
  volume_threshold: number
  enabled: boolean
  force_state: 'open' | 'closed' | null
  version: number
}

/**
 * The supplier instances this process can call, kept in step with the `suppliers` table:
 * loaded at start and reloaded on every NOTIFY (and on every reconnect of the listening
 * connection, which may have missed some), so an operator's change reaches every process
 * within moments. Breakers live here, per process, and survive changes that leave their
 * settings alone.
 */
export class SupplierRegistry {
  private readonly executors = new Map<string, { version: number, executor: SupplierExecutor }>()
  private reloading: Promise<void> = Promise.resolve()
  private unlisten: (() => Promise<void>) | undefined
  private closed = false

  constructor (private readonly options: RegistryOptions) {}

  /** Loads the instances and follows changes; until then the registry is empty. */
  async start (): Promise<void> {
    await this.reload()
    const { unlisten } = await this.options.sql.listen(SUPPLIER_CHANGES_CHANNEL, () => { void this.reload() }, () => { void this.reload() })
    this.unlisten = unlisten
  }

  get (id: string): SupplierExecutor | undefined {
    return this.executors.get(id)?.executor
  }

  /** Every instance this process runs. */
  loaded (): SupplierExecutor[] {
    return [...this.executors.values()].map((e) => e.executor)
  }

  /** The longest call deadline of any supplier: leases must outlast it. */
  maxTimeoutMs (): number {
    let max = 1000
    for (const { executor } of this.executors.values()) max = Math.max(max, executor.settings.timeoutMs)
    return max
  }

  /** What routing needs, for every known supplier. */
  health (): Record<string, SupplierHealth> {
    const out: Record<string, SupplierHealth> = {}
    for (const [id, { executor }] of this.executors) out[id] = executor.health()
    return out
  }

  /** Reloads from the database; concurrent calls queue so the last one sees the newest rows. */
  async reload (): Promise<void> {
    const next = this.reloading.then(async () => await this.load()).catch((err: unknown) => {
      this.options.log.error({ err }, 'could not reload supplier instances; keeping the previous set')
    })
    this.reloading = next
    await next
  }

  private async load (): Promise<void> {
    if (this.closed) return
    const rows = await this.options.sql<Row[]>`
      select id, adapter, base_url, credentials_key_id, credentials_ciphertext, timeout_ms, error_threshold_percentage,
             reset_timeout_ms, volume_threshold, enabled, force_state, version
      from suppliers`
    const seen = new Set<string>()
    for (const row of rows) {
      seen.add(row.id)
      const current = this.executors.get(row.id)
      if (current?.version === row.version) continue
      try {
        this.install(row, current?.executor)
      } catch (err) {
        // A row this process cannot run (an adapter it lacks, credentials its keyring cannot open).
        this.options.log.error({ supplier: row.id, adapter: row.adapter, error: (err as Error).name }, 'supplier instance not loaded')
      }
    }
    for (const [id, { executor }] of this.executors) {
      if (!seen.has(id)) {
        executor.shutdown()
        this.executors.delete(id)
      }
    }
  }

  private install (row: Row, previous: SupplierExecutor | undefined): void {
    const factory = ADAPTERS[row.adapter]
    if (!factory) throw new Error(`unknown adapter ${row.adapter}`)
    const plain = this.options.keyring.decryptString({ keyId: row.credentials_key_id, ciphertext: row.credentials_ciphertext }, credentialsAad(row.id))
    const credentials = factory.credentials.parse(JSON.parse(plain))
    const adapter = factory.create({ credentials, baseUrl: row.base_url, http: this.options.http, supplierId: row.id, publicBaseUrl: this.options.publicBaseUrl })
    const settings: SupplierSettings = {
      id: row.id,
      enabled: row.enabled,
      forceState: row.force_state,
      timeoutMs: row.timeout_ms,
      errorThresholdPercentage: row.error_threshold_percentage,
      resetTimeoutMs: row.reset_timeout_ms,
      volumeThreshold: row.volume_threshold
    }
    if (previous?.sameBreaker(settings)) {
      previous.settings = settings
      previous.adapter = adapter
      this.executors.set(row.id, { version: row.version, executor: previous })
      return
    }
    previous?.shutdown()
    this.executors.set(row.id, { version: row.version, executor: new SupplierExecutor(settings, adapter, this.options.metrics, this.options.log, this.options.breakerObserver) })
    if (previous === undefined) this.options.log.debug({ supplier: row.id, adapter: row.adapter }, 'supplier instance loaded')
  }

  async close (): Promise<void> {
    this.closed = true
    await this.unlisten?.()
    await this.reloading
    for (const { executor } of this.executors.values()) executor.shutdown()
    this.executors.clear()
  }
}
