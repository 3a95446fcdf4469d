import { createHash, createHmac, randomBytes } from 'node:crypto'
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import autocannon from 'autocannon'
import postgres from 'postgres'
import { migrateDatabase } from '../../src/db/migrate.js'
import { packageRoot } from '../../src/paths.js'
import { spawnGateway, testEnv, type GatewayProcess } from '../helper.js'
import type { BenchContext } from './harness.js'

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
/** Load before each measured gateway run, so that connections, prepared statements and JIT are warm. */
export const WARM_UP_SECONDS = 2
/** BENCH_CPU_PROF=<dir>: each gateway writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
const PROFILE_DIR = process.env.BENCH_CPU_PROF
const BOOTSTRAP = `adm_${randomBytes(24).toString('base64url')}`

export interface Run { rps: number, p50: number, p99: number, non2xx: number, peakRssMb: number }

export interface BenchGateway {
  gw: GatewayProcess
  databaseUrl: string
  api: (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>
  /**
   * After seeding, before measuring: a short load of `url` so that connections, prepared
   * statements and JIT are warm for whichever case is measured first, then planner
   * statistics for what seeding and that load wrote. In that order: plans made while a
   * table was still empty (foreign-key checks on supplier_attempts, say) are sequential
   * scans, and the server keeps them until statistics change, which autovacuum does only
   * after a minute.
   */
  settle: (url: string, requests: Partial<autocannon.Options>) => Promise<void>
  close: () => Promise<void>
}

/** Node's flags in `npm start` (the heap cap), so the gateway measured is the one that script runs. */
async function startFlags (): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }
  const flags = /\bnode((?: --\S+)*) dist\/src\/cli\/main\.js serve/.exec(pkg.scripts.start)
  if (!flags) throw new Error('package.json start script does not run dist/src/cli/main.js serve')
  return flags[1]?.trim().split(' ').filter(Boolean) ?? []
}

/** A gateway process on a fresh database, with an admin token for seeding. */
export async function benchGateway (ctx: BenchContext, env: Record<string, string> = {}): Promise<BenchGateway> {
  const databaseUrl = await ctx.database()
  await migrateDatabase(databaseUrl)
  const teardown: (() => unknown)[] = []
  const gw = await spawnGateway({ teardown: (fn) => { teardown.push(fn) } },
    testEnv(databaseUrl, { LOG_LEVEL: 'info', BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, DATABASE_POOL_SIZE: '32', ...env }), 60_000,
    { compiled: true, nodeArgs: [...await startFlags(), ...(PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`])] })
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return await res.json() as Record<string, unknown>
  }
  const settle = async (url: string, requests: Partial<autocannon.Options>): Promise<void> => {
    await autocannon({ url, connections: 8, duration: WARM_UP_SECONDS, ...requests })
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    try {
      await sql`analyze`
    } finally {
      await sql.end()
    }
  }
  return { gw, databaseUrl, api, settle, close: async () => { for (const fn of teardown.reverse()) await fn() } }
}

/**
 * A card-key SKU with `keys` random codes in the pool, imported by the CLI in its own
 * process (as operators load stock), so that the gateway measured afterwards has not held
 * them in its heap.
 */
export async function poolSku (ctx: BenchContext, bench: BenchGateway, sku: string, keys: number): Promise<void> {
  await bench.api('POST', '/admin/v1/skus', { sku, name: sku, category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 100, currency: 'CNY' })
  const file = join(ctx.tmp, `${sku}.csv`)
  const out = createWriteStream(file)
  for (let i = 0; i < keys; i++) {
    if (!out.write(`${randomBytes(12).toString('base64url')},,\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => err ? reject(err) : resolve()))
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot, 'dist/src/cli/main.js'), 'keys', 'import', '--sku', sku, '--file', file, '--unit-cost', '1'],
      { env: { PATH: process.env.PATH ?? '', ...testEnv(bench.databaseUrl, { LOG_LEVEL: 'warn' }) }, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`keys import exited ${code}`)))
  })
  await rm(file)
}

export async function priceSkus (api: BenchGateway['api'], skus: string[]): Promise<void> {
  await api('PUT', '/admin/v1/tiers/standard/prices', skus.map((sku) => ({ sku, price: 1 })))
}

export interface BenchReseller { id: string, keyId: string, secret: string }

export async function reseller (api: BenchGateway['api'], name: string): Promise<BenchReseller> {
  const r = await api('POST', '/admin/v1/resellers', { name, tier: 'standard', currency: 'CNY', rate_limit_per_minute: 1_000_000 }) as { id: string, api_key: { key_id: string, secret: string } }
  await api('POST', `/admin/v1/resellers/${r.id}/balance-adjustments`, { amount: 1_000_000_000, reason: 'bench' })
  return { id: r.id, keyId: r.api_key.key_id, secret: r.api_key.secret }
}

/** Headers of a signed request (api.md, Reseller authentication). */
export function signedHeaders (r: BenchReseller, method: string, path: string, body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = randomBytes(16).toString('base64url')
  const bodyHash = createHash('sha256').update(body).digest('hex')
  const signature = createHmac('sha256', r.secret).update(`${method}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`).digest('hex')
  return { 'x-egw-key': r.keyId, 'x-egw-timestamp': timestamp, 'x-egw-nonce': nonce, 'x-egw-signature': `v1=${signature}` }
}

async function rssMb (pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024
  } catch {
    return 0
  }
}

/** autocannon against `url`; only 2xx answers count. Samples the gateway's RSS meanwhile. */
export async function load (gw: GatewayProcess | undefined, url: string, connections: number, options: Partial<autocannon.Options>): Promise<Run> {
  let peakRssMb = 0
  const sampler = setInterval(() => { void rssMb(gw?.child.pid).then((mb) => { peakRssMb = Math.max(peakRssMb, mb) }) }, 200)
  try {
    const result = await autocannon({ url, connections, duration: SECONDS, ...options })
    return { rps: result['2xx'] / (result.duration || SECONDS), p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, peakRssMb }
  } finally {
    clearInterval(sampler)
  }
}

/** Card orders for `pick()`'s SKU and reseller, each with a fresh client_order_id. */
export function orderRequests (pick: () => { sku: string, buyer: BenchReseller }, signed = false): Partial<autocannon.Options> {
  let n = 0
  const prefix = randomBytes(4).toString('hex')
  return {
    method: 'POST',
    requests: [{
      setupRequest: (req) => {
        const { sku, buyer } = pick()
        const body = JSON.stringify({ client_order_id: `B-${prefix}-${n++}`, sku })
        const auth = signed ? signedHeaders(buyer, 'POST', '/v1/orders', body) : { authorization: `Bearer ${buyer.secret}` }
        return { ...req, body, headers: { ...auth, 'content-type': 'application/json' } }
      }
    }]
  }
}
