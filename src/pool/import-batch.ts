import type postgres from 'postgres'
import type { Keyring } from '../crypto/keyring.js'
import { writeAuditSql, type AuditActor } from '../db/repositories/audit-log.js'
import { batchesHolding, insertSealedKeys, sealCardKey, type EncryptedRow } from '../db/repositories/card-keys.js'
import { newId } from '../domain/ids.js'
import { checkCardKey, normaliseCardKey } from '../domain/pool/card-key.js'
import { GatewayError } from '../errors/gateway-error.js'
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

/** Rows per INSERT: large enough to amortise round trips, small enough to bound memory. */
const CHUNK = 2000
/** Batches this large refresh the planner's statistics of the pool at once. */
const ANALYZE_AFTER = 1000

/**
 * Imports one batch in one transaction: all of it or none of it. Lines stream through in
 * chunks, so a file of millions of codes needs memory for one chunk only. Duplicates are
 * found by the pool-wide unique fingerprint index (within this batch and against every
 * code already in the pool, any SKU) and reported by line, like bad lines: nothing is
 * dropped silently, and no report ever contains a code.
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

    const summary: ImportSummary = { batchId, sku: input.sku, imported: 0, duplicates: 0, rejected: 0 }
    // Held until the chunk is flushed, so issues come out in line order.
    let pending: ImportIssue[] = []
    const issue = (line: number, kind: ImportIssueKind, reason: string): void => {
      if (kind === 'rejected') summary.rejected++
      else summary.duplicates++
      pending.push({ line, kind, reason })
    }
    let read = 0
    let rows: EncryptedRow[] = []
    let lineOf = new Map<string, number>()

    const store = async (chunk: { rows: EncryptedRow[], lineOf: Map<string, number>, issues: ImportIssue[], read: number }): Promise<void> => {
      const inserted = await insertSealedKeys(tx, { id: batchId, sku: input.sku, expiresAt: input.expiresAt }, chunk.rows)
      summary.imported += inserted.size
      const refused = chunk.rows.filter((r) => !inserted.has(r.fingerprint.toString('hex')))
      const holders = await batchesHolding(tx, refused.map((r) => r.fingerprint))
      for (const r of refused) {
        const fp = r.fingerprint.toString('hex')
        const line = chunk.lineOf.get(fp) ?? 0
        summary.duplicates++
        chunk.issues.push(holders.get(fp) === batchId
          ? { line, kind: 'duplicate_in_batch', reason: 'code appears earlier in this batch' }
          : { line, kind: 'duplicate_in_pool', reason: 'code is already in the pool' })
      }
      for (const found of chunk.issues.sort((a, b) => a.line - b.line)) hooks.onIssue?.(found)
      hooks.onProgress?.(chunk.read)
    }

    // The next chunk is read and encrypted while the database stores the previous one.
    let storing: Promise<void> = Promise.resolve()
    const flush = async (): Promise<void> => {
      const chunk = { rows, lineOf, issues: pending, read }
      rows = []
      lineOf = new Map()
      pending = []
      await storing
      storing = store(chunk)
      // Awaited at the next flush; this only stops an early failure from being reported as unhandled.
      storing.catch(() => {})
    }

    for await (const item of lines) {
      read++
      if (item.error !== undefined) {
        issue(item.line, 'rejected', item.error)
        continue
      }
      const problem = checkCardKey(item.key)
      if (problem) {
        issue(item.line, 'rejected', problem)
        continue
      }
      const sealed = sealCardKey(keyring, normaliseCardKey(item.key))
      const fp = sealed.fingerprint.toString('hex')
      if (lineOf.has(fp)) {
        // Twice in the same chunk: one INSERT cannot tell us which copy it kept.
        issue(item.line, 'duplicate_in_batch', `code appears earlier in this batch (line ${lineOf.get(fp)})`)
        continue
      }
      lineOf.set(fp, item.line)
      rows.push(sealed)
      if (rows.length >= CHUNK || pending.length >= CHUNK) await flush()
    }
    await flush()
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
