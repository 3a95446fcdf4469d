import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type postgres from 'postgres'
import type { Keyring } from '../crypto/keyring.js'
import { writeAuditSql, type AuditActor } from '../db/repositories/audit-log.js'
import { cardKeyAad, createImportStage, FINGERPRINT_PURPOSE, IMPORT_STAGE_COLUMNS, storeChunk } from '../db/repositories/card-keys.js'
import { newId } from '../domain/ids.js'
import { checkCardKey, normaliseCardKey } from '../domain/pool/card-key.js'
import { GatewayError } from '../errors/gateway-error.js'
import { CopyBinaryWriter } from './copy-binary.js'
import type { ImportLine } from './csv.js'

export type ImportIssueKind = 'rejected' | 'duplicate_in_batch' | 'duplicate_in_pool'

export interface ImportIssue {
  line: number
  kind: ImportIssueKind
  reason: string
}

export interface ImportSummary {
  batchId: string
  sku: string
  imported: number
  duplicates: number
  rejected: number
}

export interface ImportBatchInput {
  sku: string
  unitCost: number
  expiresAt: Date | null
  source: string | null
  actor: AuditActor
}

/** Rows per COPY: large enough to amortise round trips, small enough to bound memory (~4 MB). */
const CHUNK = 20_000
/**
 * Lines sealed between two turns of the event loop. Sealing is synchronous and lines arrive
 * in bursts of thousands: without these turns the database's answers for the previous chunk
 * would wait behind a whole burst, and the database would idle instead of working in parallel.
 */
const LINES_PER_TURN = 256
/**
 * Chunks stored optimistically (storeChunk), each in a savepoint, at most: a savepoint that
 * writes is a subtransaction, and once a transaction has more than 64 every snapshot taken
 * in the database meanwhile overflows its subtransaction cache and looks transactions up in
 * pg_subtrans. After the first duplicate, chunks go straight to ON CONFLICT: duplicates
 * tend to come in runs (a file imported twice, overlapping exports).
 */
const OPTIMISTIC_CHUNKS = 60
/** Batches this large refresh the planner's statistics of the pool at once. */
const ANALYZE_AFTER = 1000

/** Seals one key into a row of the import stage: id, code, pin, serial, fingerprint. */
function stageKey (rows: CopyBinaryWriter, keyring: Keyring, key: { code: string, pin: string | null, serial: string | null }, fingerprint: Buffer): void {
  const id = newId('ck')
  rows.row()
  rows.text(id)
  rows.bytes(keyring.encrypt(key.code, cardKeyAad(id, 'code')).ciphertext)
  rows.bytes(key.pin === null ? null : keyring.encrypt(key.pin, cardKeyAad(id, 'pin')).ciphertext)
  rows.bytes(key.serial === null ? null : keyring.encrypt(key.serial, cardKeyAad(id, 'serial')).ciphertext)
  rows.bytes(fingerprint)
}

/**
 * Imports one batch in one transaction: all of it or none of it. Lines stream through in
 * chunks, so a file of millions of codes needs memory for one chunk only; the next chunk is
 * read and encrypted while the database stores the previous one. Duplicates are found by the
 * pool-wide unique fingerprint index (within this batch and against every code already in
 * the pool, any SKU) and reported by line, like bad lines: nothing is dropped silently, and
 * no report ever contains a code.
 */
export async function importBatch (
  sql: postgres.Sql,
  keyring: Keyring,
  input: ImportBatchInput,
  lines: AsyncIterable<ImportLine> | Iterable<ImportLine>,
  hooks: { onIssue?: (issue: ImportIssue) => void, onProgress?: (linesRead: number) => void } = {}
): Promise<ImportSummary> {
  const summary = await sql.begin(async (tx) => {
    const [sku] = await tx<{ currency: string }[]>`select currency from skus where sku = ${input.sku} for key share`
    if (!sku) throw new GatewayError('not_found', { detail: `no SKU ${input.sku}` })
    const batchId = newId('bat')
    await tx`
      insert into card_key_batches (id, sku, source, unit_cost, currency, expires_at, imported_by)
      values (${batchId}, ${input.sku}, ${input.source}, ${input.unitCost}, ${sku.currency}, ${input.expiresAt?.toISOString() ?? null}, ${input.actor.actorId})`
    await createImportStage(tx)
    const batch = { id: batchId, sku: input.sku, keyId: keyring.primaryKeyId, expiresAt: input.expiresAt }

    const summary: ImportSummary = { batchId, sku: input.sku, imported: 0, duplicates: 0, rejected: 0 }
    // Held until the chunk is flushed, so issues come out in line order.
    let pending: ImportIssue[] = []
    const issue = (line: number, kind: ImportIssueKind, reason: string): void => {
      if (kind === 'rejected') summary.rejected++
      else summary.duplicates++
      pending.push({ line, kind, reason })
    }
    let read = 0
    const rows = new CopyBinaryWriter(IMPORT_STAGE_COLUMNS)
    let lineOf = new Map<string, number>()

    let optimisticChunks = OPTIMISTIC_CHUNKS
    const store = async (chunk: { data: Buffer, rows: number, lineOf: Map<string, number>, issues: ImportIssue[], read: number }): Promise<void> => {
      const stored = await storeChunk(tx, batch, chunk.data, chunk.rows, optimisticChunks > 0)
      if (stored.optimistic) optimisticChunks--
      else if (stored.refused.size > 0) optimisticChunks = 0
      summary.imported += stored.inserted
      for (const [fp, holder] of stored.refused) {
        summary.duplicates++
        chunk.issues.push({
          line: chunk.lineOf.get(fp) ?? 0,
          ...(holder === batchId
            ? { kind: 'duplicate_in_batch', reason: 'code appears earlier in this batch' }
            : { kind: 'duplicate_in_pool', reason: 'code is already in the pool' })
        })
      }
      for (const found of chunk.issues.sort((a, b) => a.line - b.line)) hooks.onIssue?.(found)
      hooks.onProgress?.(chunk.read)
    }

    let storing: Promise<void> = Promise.resolve()
    const flush = async (): Promise<void> => {
      const chunk = { rows: rows.rows, data: rows.take(), lineOf, issues: pending, read }
      lineOf = new Map()
      pending = []
      await storing
      storing = store(chunk)
      // Awaited at the next flush; this only stops an early failure from being reported as unhandled.
      storing.catch(() => {})
    }

    try {
      for await (const item of lines) {
        if (++read % LINES_PER_TURN === 0) await yieldToEventLoop()
        if (item.error !== undefined) {
          issue(item.line, 'rejected', item.error)
          continue
        }
        const problem = checkCardKey(item.key)
        if (problem) {
          issue(item.line, 'rejected', problem)
          continue
        }
        const key = normaliseCardKey(item.key)
        const fingerprint = keyring.fingerprint(FINGERPRINT_PURPOSE, key.code)
        const fp = fingerprint.toString('hex')
        const earlier = lineOf.get(fp)
        if (earlier !== undefined) {
          // Twice in the same chunk: one INSERT cannot tell us which copy it kept.
          issue(item.line, 'duplicate_in_batch', `code appears earlier in this batch (line ${earlier})`)
          continue
        }
        lineOf.set(fp, item.line)
        stageKey(rows, keyring, key, fingerprint)
        if (rows.rows >= CHUNK || pending.length >= CHUNK) await flush()
      }
      await flush()
    } catch (err) {
      // Let a store in flight finish first: the rollback must not meet a COPY half-way.
      await storing.catch(() => {})
      throw err
    }
    await storing

    await tx`
      update card_key_batches set imported = ${summary.imported}, duplicates = ${summary.duplicates}, rejected = ${summary.rejected}
      where id = ${batchId}`
    await writeAuditSql(tx, input.actor, {
      action: 'card_keys.import',
      targetType: 'card_key_batch',
      targetId: batchId,
      details: { sku: input.sku, imported: summary.imported, duplicates: summary.duplicates, rejected: summary.rejected }
    })
    return summary
  })
  // Fresh statistics right away, instead of at autovacuum's next pass: plans for the new
  // keys should not be made from counts that predate them.
  if (summary.imported >= ANALYZE_AFTER) await sql`analyze card_keys`
  return summary
}
