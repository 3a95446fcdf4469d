import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres } from '../../src/db/embedded.js'
import { withDatabase } from '../helper.js'
import { packageRoot } from '../../src/paths.js'

/** One measured figure, always next to the baseline measured in the same run. */
export interface Figure {
  scenario: string
  name: string
  value: number
  unit: string
  baselineName: string
  baseline: number
  /** value / baseline */
  ratio: number
}

export interface BenchContext {
  /** A fresh database on the bench server, dropped at the end. */
  database (): Promise<string>
  tmp: string
  log (msg: string): void
}

export async function withBenchServer<T> (fn: (ctx: BenchContext) => Promise<T>): Promise<T> {
  const tmp = await mkdtemp(join(tmpdir(), 'egw-bench-'))
  // As root, the embedded server runs as `postgres` and must be able to reach tmp/pg.
  if (userInfo().uid === 0) await chmod(tmp, 0o711)
  let server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL
  let stop = async (): Promise<void> => {}
  if (!server) {
    const pg = await startEmbeddedPostgres(join(tmp, 'pg'), { info: () => {}, warn: (m) => process.stderr.write(m + '\n'), debug: () => {} })
    server = withDatabase(pg.url, 'postgres')
    stop = pg.stop
  }
  const created: string[] = []
  const admin = postgres(server, { max: 1, onnotice: () => {} })
  try {
    return await fn({
      tmp,
      log: (msg) => process.stderr.write(`${msg}\n`),
      database: async () => {
        const name = `egw_bench_${process.pid}_${randomBytes(3).toString('hex')}`
        await admin.unsafe(`create database ${name}`)
        created.push(name)
        return withDatabase(server as string, name)
      }
    })
  } finally {
    for (const name of created) await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
    await stop()
    await rm(tmp, { recursive: true, force: true })
  }
}

/**
 * Runs `worker` in `concurrency` parallel loops for `seconds`; returns completed operations
 * per second. The first failure stops every loop and is thrown once all have stopped.
 */
export async function rate (concurrency: number, seconds: number, worker: () => Promise<void>): Promise<number> {
  const until = Date.now() + seconds * 1000
  let done = 0
  let failed = false
  const started = process.hrtime.bigint()
  const loops = await Promise.allSettled(Array.from({ length: concurrency }, async () => {
    while (!failed && Date.now() < until) {
      try {
        await worker()
      } catch (err) {
        failed = true
        throw err
      }
      done++
    }
  }))
  const failure = loops.find((l) => l.status === 'rejected')
  if (failure) throw failure.reason
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  return done / elapsed
}

export function figure (scenario: string, name: string, value: number, unit: string, baselineName: string, baseline: number): Figure {
  return { scenario, name, value, unit, baselineName, baseline, ratio: value / baseline }
}

export async function report (figures: Figure[]): Promise<string> {
  const rows = figures.map((f) => [f.scenario, f.name, `${Math.round(f.value).toLocaleString('en')} ${f.unit}`, f.baselineName,
    `${Math.round(f.baseline).toLocaleString('en')} ${f.unit}`, f.ratio.toFixed(3)])
  const head = ['scenario', 'figure', 'value', 'baseline', 'baseline value', 'ratio']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')
  process.stdout.write([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n')
  const dir = join(packageRoot, '.bench')
  await mkdir(dir, { recursive: true })
  const file = join(dir, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  await writeFile(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, figures }, null, 2) + '\n')
  return file
}
