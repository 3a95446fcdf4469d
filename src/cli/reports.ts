import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { GatewayError } from '../errors/gateway-error.js'
import { countOrders, exportOrders } from '../reports/orders-export.js'
import { periodProblems, toPeriod, type Period } from '../reports/period.js'
import { FINDING_KINDS, reconcile } from '../reports/reconcile.js'
import { countResellers, resellerIds, statementCsv, statementSummary } from '../reports/statement.js'
import { UsageError, withPool } from './keys.js'
import { createProgress } from './progress.js'

/** Findings printed per kind; the summary line always has the full counts. */
const PRINTED_PER_KIND = 1000

/** Exit code of `reconcile` when it found something: distinct from failures (1) and usage (64). */
export const FINDINGS_EXIT_CODE = 2

function period (values: { from?: string | undefined, to?: string | undefined }): Period {
  if (values.from === undefined || values.to === undefined) throw new UsageError('--from and --to are required (RFC 3339, e.g. 2026-11-01T00:00:00Z)')
  const [problem] = periodProblems(values.from, values.to)
  if (problem) throw new UsageError(`--${problem.field}: ${problem.message}`)
  return toPeriod(values.from, values.to)
}

const seconds = (started: number): string => ((Date.now() - started) / 1000).toFixed(1)

/**
 * Writes a file through `FILE.partial`, renamed into place only when complete: a run that
 * fails half-way never leaves a truncated file that looks finished.
 */
async function writeAtomically (file: string, lines: AsyncIterable<string>): Promise<void> {
  const partial = `${file}.partial`
  try {
    await pipeline(Readable.from(lines), createWriteStream(partial))
    await rename(partial, file)
  } catch (err) {
    await rm(partial, { force: true })
    throw err
  }
}

/** Prints the findings and sets exit code 2 when there are any. */
export async function reconcileCommand (config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { days: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } } })
  const days = Number(values.days)
  if (!Number.isInteger(days) || days < 1 || days > 93) throw new UsageError('--days must be 1..93')
  const result = await withPool(config, logger, async ({ sql }) =>
    await reconcile(sql, { slaMs: config.orderSlaMs, spendDays: days, listPerKind: PRINTED_PER_KIND }))
  if (values.json) {
    process.stdout.write(JSON.stringify({
      ok: result.ok, checked_at: result.checkedAt.toISOString(), counts: result.counts, findings: result.findings,
      findings_truncated: result.truncated, supplier_spend: result.supplierSpend
    }, null, 2) + '\n')
  } else {
    for (const f of result.findings) process.stdout.write(`${f.kind}\t${f.subject}\t${f.detail}\n`)
    for (const s of result.supplierSpend) process.stdout.write(`spend\t${s.day}\t${s.supplier}\t${s.currency} ${s.amount} in ${s.attempts} attempt(s)\n`)
    const found = FINDING_KINDS.filter((k) => result.counts[k] > 0)
    const total = found.reduce((n, k) => n + result.counts[k], 0)
    process.stdout.write(result.ok
      ? `clean: no findings (checked ${result.checkedAt.toISOString()})\n`
      : `${total} finding(s): ${found.map((k) => `${k} ${result.counts[k]}`).join(', ')}` +
        `${result.truncated ? ` (at most ${PRINTED_PER_KIND} listed per kind)` : ''} (checked ${result.checkedAt.toISOString()})\n`)
  }
  if (!result.ok) process.exitCode = FINDINGS_EXIT_CODE
}

/** One CSV statement per reseller (or the one named) into a folder, with progress over resellers. */
export async function statementsCommand (config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, reseller: { type: 'string' }, out: { type: 'string' } } })
  const p = period(values)
  if (!values.out) throw new UsageError('--out DIR is required (one <reseller_id>.csv per reseller)')
  const out = values.out
  await mkdir(out, { recursive: true })
  const started = Date.now()
  await withPool(config, logger, async ({ sql }) => {
    const only = values.reseller
    const total = only === undefined ? await countResellers(sql) : 1
    const ids = only === undefined ? resellerIds(sql) : [only]
    const progress = createProgress('statements', total)
    let written = 0
    let movements = 0
    try {
      for await (const id of ids) {
        const summary = await statementSummary(sql, id, p)
        if (!summary) throw new GatewayError('not_found', { detail: `no reseller ${id}` })
        await writeAtomically(join(out, `${id}.csv`), statementCsv(sql, summary, p))
        written++
        movements += summary.movements
        progress.update(written, id)
      }
    } finally {
      progress.finish()
    }
    process.stdout.write(`wrote ${written} statement(s) for ${p.from.toISOString()} to ${p.to.toISOString()} into ${out} ` +
      `(${movements} movements, ${seconds(started)} s)\n`)
  })
}

/** Streams the orders placed in the period to a CSV file, with progress over orders. */
export async function exportOrdersCommand (config: Config, logger: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } } })
  const p = period(values)
  if (!values.out) throw new UsageError('--out FILE is required')
  const out = values.out
  const started = Date.now()
  await withPool(config, logger, async ({ sql }) => {
    const total = await countOrders(sql, p)
    const progress = createProgress('exporting orders', total)
    let rows = -1 // the header is not an order
    async function * counted (): AsyncGenerator<string> {
      for await (const line of exportOrders(sql, p)) {
        rows++
        progress.update(rows)
        yield line
      }
    }
    try {
      await writeAtomically(out, counted())
    } finally {
      progress.finish()
    }
    process.stdout.write(`exported ${rows} order(s) placed from ${p.from.toISOString()} to ${p.to.toISOString()} into ${out} ` +
      `(${seconds(started)} s, ${Math.round(rows / Math.max((Date.now() - started) / 1000, 0.001))} orders/s)\n`)
  })
}
