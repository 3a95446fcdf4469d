import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
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

async function runCli (args: string[], env: Record<string, string>): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.on('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`CLI exited ${code}`)))
  })
}

/**
 * Card-key pool: 1,000,000 codes through the CLI import path against a plain COPY of the
 * same file (the database's bulk-load limit); then sales of one key per transaction on one
 * SKU with 1 and 64 concurrent allocators against an empty transaction at the same
 * concurrency (the round-trip limit).
 */
export async function poolScenario (ctx: BenchContext): Promise<Figure[]> {
  const url = await ctx.database()
  await migrateDatabase(url)
  const sql = postgres(url, { max: 64, onnotice: () => {} })
  try {
    await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
      values ('bench-card', 'Bench card', 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
    const file = join(ctx.tmp, 'codes.csv')
    ctx.log(`pool: generating ${CODES.toLocaleString('en')} codes`)
    await writeCodes(file, CODES)

    ctx.log('pool: baseline COPY of the same file')
    await sql`create unlogged table bench_copy (code text, pin text, serial text)`
    let started = Date.now()
    await pipeline(createReadStream(file), await sql`copy bench_copy from stdin with (format csv)`.writable())
    const copyRate = CODES / ((Date.now() - started) / 1000)
    await sql`drop table bench_copy`

    ctx.log('pool: importing through the CLI (keys import)')
    started = Date.now()
    const out = await runCli(['keys', 'import', '--sku', 'bench-card', '--file', file, '--unit-cost', '100'], testEnv(url, { LOG_LEVEL: 'warn' }))
    const importRate = CODES / ((Date.now() - started) / 1000)
    ctx.log(`pool: ${out.trim()}`)
    await sql`vacuum analyze card_keys`

    const results: Figure[] = [figure('pool', 'import via CLI (whole process)', importRate, 'codes/s', 'COPY of the same CSV', copyRate)]
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
