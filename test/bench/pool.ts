import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import postgres from 'postgres'
import { migrateDatabase } from '../../src/db/migrate.js'
import { InsufficientStockError } from '../../src/domain/pool/errors.js'
import { packageRoot } from '../../src/paths.js'
import { sellCardKeys } from '../../src/pool/sell.js'
import { testEnv } from '../helper.js'
import { figure, rate, type BenchContext, type Figure } from './harness.js'

const CODES = Number(process.env.BENCH_POOL_CODES ?? 1_000_000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)

async function writeCodes (file: string, n: number): Promise<void> {
  const out = createWriteStream(file)
  for (let i = 0; i < n; i++) {
    if (!out.write(`${randomBytes(12).toString('base64url')},${i % 4 === 0 ? randomBytes(4).toString('hex') : ''},\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => err ? reject(err) : resolve()))
}

/** Runs the CLI; its output and its peak resident memory, sampled every 100 ms. */
async function runCli (args: string[], env: Record<string, string>): Promise<{ out: string, peakRssMb: number }> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    let peakRssMb = 0
    const sampler = setInterval(() => {
      readFile(`/proc/${child.pid}/status`, 'utf8').then((status) => {
        peakRssMb = Math.max(peakRssMb, Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024)
      }, () => {})
    }, 100)
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.on('exit', (code) => {
      clearInterval(sampler)
      if (code === 0) resolve({ out, peakRssMb })
      else reject(new Error(`CLI exited ${code}`))
    })
  })
}

/**
 * Card-key pool: 1,000,000 codes through the CLI import path against a plain COPY of the
 * same file (the database's bulk-load limit for raw text) and against the same sealed rows
 * inserted server-side into a copy of card_keys (its limit for these rows, indexes and
 * foreign keys included); the import's peak memory against a tenth of the file's; then
 * sales of one key per transaction on one SKU with 1 and 64 concurrent allocators against
 * an empty transaction at the same concurrency (the round-trip limit).
 */
export async function poolScenario (ctx: BenchContext): Promise<Figure[]> {
  const url = await ctx.database()
  await migrateDatabase(url)
  const sql = postgres(url, { max: 64, onnotice: () => {} })
  try {
    for (const sku of ['bench-card', 'bench-card-small']) {
      await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
        values (${sku}, 'Bench card', 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
    }
    const file = join(ctx.tmp, 'codes.csv')
    ctx.log(`pool: generating ${CODES.toLocaleString('en')} codes`)
    await writeCodes(file, CODES)

    ctx.log('pool: baseline COPY of the same file')
    await sql`create unlogged table bench_copy (code text, pin text, serial text)`
    let started = Date.now()
    await pipeline(createReadStream(file), await sql`copy bench_copy from stdin with (format csv)`.writable())
    const copyRate = CODES / ((Date.now() - started) / 1000)
    await sql`drop table bench_copy`

    // Memory must not grow with the file: a tenth of it first, through the same path.
    const small = join(ctx.tmp, 'codes-small.csv')
    await writeCodes(small, Math.round(CODES / 10))
    const tenth = await runCli(['keys', 'import', '--sku', 'bench-card-small', '--file', small, '--unit-cost', '100'], testEnv(url, { LOG_LEVEL: 'warn' }))

    ctx.log('pool: importing through the CLI (keys import)')
    started = Date.now()
    const whole = await runCli(['keys', 'import', '--sku', 'bench-card', '--file', file, '--unit-cost', '100'], testEnv(url, { LOG_LEVEL: 'warn' }))
    const importRate = CODES / ((Date.now() - started) / 1000)
    ctx.log(`pool: ${whole.out.trim()}`)

    // The database's own limit for these rows: the same sealed rows inserted server-side into
    // a copy of card_keys with its indexes, foreign keys and insert trigger; no client, no
    // duplicate check.
    ctx.log('pool: the same sealed rows by INSERT … SELECT into a copy of card_keys')
    await sql`create table bench_card_keys (like card_keys including all)`
    await sql`alter table bench_card_keys add foreign key (batch_id, sku) references card_key_batches (id, sku)`
    await sql`create trigger bench_lowers_floor after insert on bench_card_keys referencing new table as new_keys for each statement execute function card_key_floors_lower()`
    await sql`checkpoint`
    started = Date.now()
    await sql`insert into bench_card_keys select * from card_keys where sku = 'bench-card'`
    const insertRate = CODES / ((Date.now() - started) / 1000)
    await sql`drop table bench_card_keys`
    await sql`vacuum analyze card_keys`

    const results: Figure[] = [
      figure('pool', 'import via CLI (whole process)', importRate, 'codes/s', 'COPY of the same CSV', copyRate),
      figure('pool', 'import via CLI (whole process)', importRate, 'codes/s', 'INSERT … SELECT of the sealed rows', insertRate),
      figure('pool', `peak RSS importing ${CODES.toLocaleString('en')} codes`, whole.peakRssMb, 'MB', `importing ${Math.round(CODES / 10).toLocaleString('en')}`, tenth.peakRssMb)
    ]
    let order = 0
    const sell = async (): Promise<void> => {
      await sql.begin(async (tx) => { await sellCardKeys(tx, { sku: 'bench-card', quantity: 1, orderId: `ord_bench_${order++}`, lowStockThreshold: null }) })
    }
    const empty = async (): Promise<void> => { await sql.begin(async (tx) => { await tx`select 1` }) }
    for (const concurrency of [1, 64]) {
      ctx.log(`pool: ${concurrency} allocator(s), ${SECONDS} s each for sales and baseline`)
      const baseline = await rate(concurrency, SECONDS, empty)
      const sales = await rate(concurrency, SECONDS, async () => {
        try { await sell() } catch (err) { if (!(err instanceof InsufficientStockError)) throw err }
      })
      results.push(figure('pool', `allocations, ${concurrency} allocator(s), one SKU`, sales, 'tx/s', `empty transaction x${concurrency}`, baseline))
    }
    return results
  } finally {
    await sql.end()
  }
}
