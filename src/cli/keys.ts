import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Keyring } from '../crypto/keyring.js'
import { createDatabase } from '../db/client.js'
import { migrateDatabase } from '../db/migrate.js'
import { writeAuditSql, type AuditActor } from '../db/repositories/audit-log.js'
import { countUnderOldKeys, rotateCardKeys } from '../db/repositories/card-keys.js'
import { rotateKeyringSecrets } from '../db/repositories/keyring-secrets.js'
import { rotateResellerSecrets } from '../db/repositories/resellers.js'
import { rotateSupplierCredentials } from '../db/repositories/suppliers.js'
import { rotateSupplierDeliveries } from '../orders/deliveries.js'
import { csvCardKeys } from '../pool/csv.js'
import { importBatch, type ImportIssue } from '../pool/import-batch.js'
import { loadKeyring, openDatabaseUrl } from '../server.js'
import { createProgress, MIB } from './progress.js'

export class UsageError extends Error {}

/** Issues printed to stderr before the rest only go to --report. */
const PRINTED_ISSUES = 100

function cliActor (): AuditActor {
  return { actorId: `cli:${userInfo().username}`, actorRole: 'admin', requestId: `cli-${process.pid}`, ip: 'local' }
}

/**
 * The database of `serve`'s environment for one command: migrated, closed afterwards. The
 * keyring is loaded only by the commands that ask for it: a report has no use for it, and
 * loading it may store the fingerprint key.
 */
export async function withPool<T> (config: Config, logger: Logger, fn: (deps: { sql: ReturnType<typeof createDatabase>['sql'], keyring: () => Promise<Keyring> }) => Promise<T>): Promise<T> {
  const handle = await openDatabaseUrl(config, logger, { reuseRunning: true })
  try {
    await migrateDatabase(handle.url)
    const database = createDatabase(handle.url, { max: 2, applicationName: 'entitlement-gateway-cli' })
    try {
      return await fn({ sql: database.sql, keyring: async () => await loadKeyring(config, logger, database.sql) })
    } finally {
      await database.close()
    }
  } finally {
    await handle.embedded?.stop()
  }
}

/**
 * The file's lines, opened only when iteration starts: readline's async iterator drops the
 * lines it reads before someone iterates it, and the importer first runs a few queries.
 */
async function * readLines (file: string, onBytes: (n: number) => void): AsyncGenerator<string> {
  const input = createReadStream(file)
  input.on('data', (chunk) => onBytes(chunk.length))
  yield * createInterface({ input, crlfDelay: Infinity })
}

export async function importKeys (config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sku: { type: 'string' }, file: { type: 'string' }, 'unit-cost': { type: 'string' },
      'expires-at': { type: 'string' }, source: { type: 'string' }, report: { type: 'string' }
    }
  })
  if (!values.sku) throw new UsageError('--sku is required')
  if (!values.file) throw new UsageError('--file is required (CSV: code,pin,serial)')
  // No default: a silent 0 books every code of the batch as free, which skews margins later.
  if (values['unit-cost'] === undefined) throw new UsageError('--unit-cost is required (minor units per code)')
  if (!/^\d{1,15}$/.test(values['unit-cost'])) throw new UsageError('--unit-cost must be an integer amount in minor units')
  let expiresAt: Date | null = null
  if (values['expires-at'] !== undefined) {
    expiresAt = new Date(values['expires-at'])
    if (Number.isNaN(expiresAt.getTime())) throw new UsageError('--expires-at must be a timestamp such as 2027-12-31T23:59:59Z')
    if (expiresAt.getTime() <= Date.now()) throw new UsageError('--expires-at is in the past')
  }
  const file = values.file
  const size = (await stat(file)).size
  const report = values.report ? createWriteStream(values.report) : undefined
  report?.write('line,kind,reason\n')

  let bytes = 0
  // Progress counts bytes read (the only total known up front), shown in MiB.
  const progress = createProgress('importing', size, { unit: MIB })
  let printed = 0
  const started = Date.now()
  let linesRead = 0
  // On a terminal an issue line first wipes the progress line it lands on; elsewhere (a log
  // file, CI) there is no progress line and the escape codes would only be noise.
  const [wipe, clearEol] = process.stderr.isTTY ? ['\r', '\x1b[K'] : ['', '']
  const onIssue = (issue: ImportIssue): void => {
    if (printed < PRINTED_ISSUES) process.stderr.write(`${wipe}line ${issue.line}: ${issue.kind}: ${issue.reason}${clearEol}\n`)
    else if (printed === PRINTED_ISSUES && !report) process.stderr.write('… more issues; pass --report FILE to list them all\n')
    printed++
    report?.write(`${issue.line},${issue.kind},"${issue.reason.replace(/"/g, '""')}"\n`)
  }
  try {
    const summary = await withPool(config, logger, async ({ sql, keyring }) => await importBatch(sql, await keyring(), {
      sku: values.sku as string,
      unitCost: Number(values['unit-cost']),
      expiresAt,
      source: values.source ?? null,
      actor: cliActor()
    }, csvCardKeys(readLines(file, (n) => { bytes += n })), {
      onIssue,
      onProgress: (read) => { linesRead = read; progress.update(bytes, `${read.toLocaleString('en')} lines`) }
    }))
    progress.finish()
    const seconds = (Date.now() - started) / 1000
    process.stdout.write(`batch ${summary.batchId} sku ${summary.sku}: imported ${summary.imported}, duplicates ${summary.duplicates}, ` +
      `rejected ${summary.rejected} (${linesRead} lines in ${seconds.toFixed(1)} s, ${Math.round(summary.imported / Math.max(seconds, 0.001))} codes/s)\n`)
  } finally {
    progress.finish()
    if (report) await new Promise<void>((resolve, reject) => report.end((err?: Error | null) => err ? reject(err) : resolve()))
  }
}

export async function rotateKeys (config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'batch-size': { type: 'string', default: '500' } } })
  const batchSize = Number(values['batch-size'])
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError('--batch-size must be 1..10000')
  await withPool(config, logger, async ({ sql, keyring: load }) => {
    const keyring = await load()
    const total = await countUnderOldKeys(sql, keyring.primaryKeyId)
    const progress = createProgress(`re-encrypting under ${keyring.primaryKeyId}`, total)
    let done = 0
    let idleRounds = 0
    // Walks the table by id (see rotateCardKeys); '' starts a pass from the beginning.
    let after = ''
    try {
      for (;;) {
        const { rotated, lastId } = await rotateCardKeys(sql, keyring, batchSize, after)
        done += rotated
        progress.update(done)
        if (rotated > 0) idleRounds = 0
        if (lastId !== null) { after = lastId; continue }
        // End of a pass. Rows locked by live sales were skipped; unless none are left, wait
        // for them and start a new pass from the beginning (it only finds what was skipped).
        if (await countUnderOldKeys(sql, keyring.primaryKeyId) === 0) break
        if (++idleRounds > 100) throw new Error('rows under old keys stayed locked for 20 s; run the rotation again')
        after = ''
        await sleep(200)
      }
    } finally {
      progress.finish()
    }
    // One entry per run, not per batch: its own statement (so its own transaction) once every
    // row is done, recording which key now holds the pool. A run that fails part-way writes
    // none; running it again finishes the rows and records the rotation.
    // Reseller secrets (few rows, one transaction) too, so the old key can then be dropped.
    // Supplier credentials, supplier-delivered codes and the stored fingerprint key likewise.
    const stored = await rotateKeyringSecrets(sql, keyring)
    const secrets = await rotateResellerSecrets(sql, keyring)
    const credentials = await rotateSupplierCredentials(sql, keyring)
    const deliveries = await rotateSupplierDeliveries(sql, keyring, batchSize)
    await writeAuditSql(sql, cliActor(), {
      action: 'card_keys.rotate', targetType: 'keyring', targetId: keyring.primaryKeyId,
      details: { rotated: done, reseller_secrets: secrets, supplier_credentials: credentials, supplier_deliveries: deliveries, keyring_secrets: stored }
    })
    process.stdout.write(`rotated ${done} card keys, ${secrets} reseller secret rows, ${credentials} supplier credentials, ${deliveries} supplier-delivered codes ` +
      `and ${stored} stored key(s) to key ${keyring.primaryKeyId}; none left under other keys\n`)
  })
}
