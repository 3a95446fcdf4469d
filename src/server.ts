import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApp } from './app.js'
import type { Config } from './config.js'
import type postgres from 'postgres'
import { createKeyring, loadOrCreateKeyringFile, type Keyring } from './crypto/keyring.js'
import { createDatabase, type Database } from './db/client.js'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.js'
import { migrateDatabase } from './db/migrate.js'
import { bootstrapAdminToken } from './db/repositories/admin-tokens.js'
import { keyringFromDatabase } from './db/repositories/keyring-secrets.js'
import { deleteExpiredNonces } from './db/repositories/resellers.js'
import { createMetrics } from './observability/metrics.js'
import { startReconcileJob } from './reports/reconcile-job.js'
import { sandboxBanner, seedSandbox } from './sandbox/seed.js'
import { startSandboxSimulators } from './sandbox/suppliers.js'
import { startDispatcher } from './webhooks/dispatcher.js'
import { startPeriodic } from './workers/periodic.js'

export interface DatabaseHandle {
  url: string
  embedded: EmbeddedPostgres | undefined
}

/** DATABASE_URL when given, otherwise the embedded PostgreSQL under DATA_DIR. */
export async function openDatabaseUrl (config: Config, log: Logger, options: { reuseRunning?: boolean } = {}): Promise<DatabaseHandle> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: undefined }
  const embedded = await startEmbeddedPostgres(config.dataDir, {
    info: (m) => log.info(m), warn: (m) => log.warn(m), debug: (m) => log.debug(m)
  }, options)
  return { url: embedded.url, embedded }
}

/** The keyring, once the database is migrated: the fingerprint key may be kept in it. */
export async function loadKeyring (config: Config, log: Logger, sql: postgres.Sql): Promise<Keyring> {
  if (config.encryptionKeys) {
    const { keyring, created } = await keyringFromDatabase(sql, config.encryptionKeys, config.fingerprintKey)
    if (created) log.info('FINGERPRINT_KEY is not set: generated a fingerprint key and stored it in the database, sealed under ENCRYPTION_KEYS')
    return keyring
  }
  // Only reachable on the embedded default: loadConfig requires ENCRYPTION_KEYS with DATABASE_URL.
  const file = await loadOrCreateKeyringFile(config.dataDir)
  if (file.created) log.info({ dir: config.dataDir }, 'generated keyring.json in DATA_DIR (keep it with the database: codes cannot be decrypted without it)')
  return createKeyring(file.encryptionKeys, file.fingerprintKey)
}

export interface RunningGateway {
  app: FastifyInstance
  url: string
  /** Graceful: refuse new work, finish in-flight requests, stop workers, close the database. */
  stop (): Promise<void>
  /** Hands signal handling to the caller's graceful shutdown (see EmbeddedPostgres). */
  releaseSignals (): void
}

export async function startGateway (config: Config, logger: Logger): Promise<RunningGateway> {
  const handle = await openDatabaseUrl(config, logger)
  let database: Database | undefined
  // Sandbox suppliers are simulators in this process, over real HTTP on loopback.
  const simulators = config.sandbox ? await startSandboxSimulators() : undefined
  try {
    const { applied } = await migrateDatabase(handle.url)
    logger.info({ applied }, 'database migrations up to date')
    database = createDatabase(handle.url, { max: config.databasePoolSize })
    const keyring = await loadKeyring(config, logger, database.sql)
    if (config.bootstrapAdminToken) {
      const result = await bootstrapAdminToken(database.db, config.bootstrapAdminToken)
      logger.info({ result }, 'BOOTSTRAP_ADMIN_TOKEN checked')
    }
    if (simulators) await seedSandbox({ database, keyring, dataDir: config.dataDir, log: logger, suppliers: simulators.suppliers })

    const app = await buildApp({ config, database, keyring, metrics: createMetrics(), logger })
    let url: string
    try {
      url = await app.listen({ port: config.port, host: config.host })
    } catch (err) {
      await app.close()
      throw err
    }
    if (simulators) {
      simulators.callbacksTo(url)
      const banner = await sandboxBanner(config.dataDir, url, process.stdout.isTTY)
      if (banner) process.stdout.write(banner + '\n')
    }
    const db = database
    const workers = config.workers
      ? [
          startPeriodic('nonce-cleanup', config.nonceCleanupIntervalMs, async () => await deleteExpiredNonces(db.sql), logger),
          // Reads only: every WORKERS process runs it and exports the same reconciliation gauges.
          startReconcileJob({ sql: db.sql, registry: app.deps.metrics.registry, intervalMs: config.reconcileReportIntervalMs, slaMs: config.orderSlaMs, log: logger }),
          // The supplier poller and the reconciler in one: it claims processing orders whose
          // next check is due and whose lease has run out, and re-drives them.
          startPeriodic('fulfilment', Math.min(config.supplierPollIntervalMs, 1000), async () => await app.fulfilment.runDue(), logger),
          startDispatcher({
            sql: db.sql, keyring, log: logger, scheduleMs: config.webhookRetryScheduleMs, timeoutMs: config.webhookTimeoutMs,
            pollIntervalMs: config.webhookPollIntervalMs, allowPrivate: config.callbackAllowPrivate,
            metrics: app.ops.webhookMetrics, observe: app.ops.observeDelivery
          }),
          // Ticks a few times per interval; the claim keeps it to one call per supplier per interval.
          startPeriodic('supplier-balance', Math.min(Math.max(Math.floor(config.supplierBalanceIntervalMs / 4), 10), 60_000),
            async () => await app.ops.checkSupplierBalances(), logger),
          startPeriodic('low-stock', config.lowStockCheckIntervalMs, async () => await app.ops.checkLowStock(), logger)
        ]
      : []
    let stopping: Promise<void> | undefined
    const stop = async (): Promise<void> => {
      stopping ??= (async () => {
        app.draining = true
        try {
          try {
            await app.close()
          } finally {
            await Promise.all(workers.map(async (w) => await w.stop()))
          }
        } finally {
          try {
            await db.close()
          } finally {
            await simulators?.close()
            await handle.embedded?.stop()
          }
        }
      })()
      return await stopping
    }
    return { app, url, stop, releaseSignals: () => handle.embedded?.releaseSignals() }
  } catch (err) {
    await database?.close()
    await simulators?.close()
    await handle.embedded?.stop()
    throw err
  }
}
