import { createHash, createHmac, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import autocannon from 'autocannon'
import postgres from 'postgres'
import { migrateDatabase } from '../../src/db/migrate.js'
import { spawnGateway, testEnv, type GatewayProcess } from '../helper.js'
import type { BenchContext } from './harness.js'

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const BOOTSTRAP = `adm_${randomBytes(24).toString('base64url')}`

export interface Run { rps: number, p50: number, p99: number, non2xx: number, peakRssMb: number }

export interface BenchGateway {
  gw: GatewayProcess
  databaseUrl: string
  api: (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>
  /**
   * After seeding, before measuring: planner statistics for what was just written (small
   * imports do not ANALYZE by themselves), and a short load of `url` so that connections,
   * prepared statements and JIT are warm for whichever case is measured first.
   */
  settle: (url: string, requests: Partial<autocannon.Options>) => Promise<void>
  close: () => Promise<void>
}

/** A gateway process on a fresh database, with an admin token for seeding. */
export async function benchGateway (ctx: BenchContext, env: Record<string, string> = {}): Promise<BenchGateway> {
  const databaseUrl = await ctx.database()
  await migrateDatabase(databaseUrl)
  const teardown: (() => unknown)[] = []
  const gw = await spawnGateway({ teardown: (fn) => { teardown.push(fn) } },
    testEnv(databaseUrl, { LOG_LEVEL: 'info', BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, DATABASE_POOL_SIZE: '32', ...env }), 60_000, { compiled: true })
  const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return await res.json() as Record<string, unknown>
  }
  const settle = async (url: string, requests: Partial<autocannon.Options>): Promise<void> => {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    try {
      await sql`analyze`
    } finally {
      await sql.end()
    }
    await autocannon({ url, connections: 8, duration: 2, ...requests })
  }
  return { gw, databaseUrl, api, settle, close: async () => { for (const fn of teardown.reverse()) await fn() } }
}

/** A card-key SKU priced 1 for tier standard, with `keys` random codes in the pool. */
export async function poolSku (api: BenchGateway['api'], sku: string, keys: number): Promise<void> {
  await api('POST', '/admin/v1/skus', { sku, name: sku, category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 100, currency: 'CNY' })
  for (let done = 0; done < keys; done += 20_000) {
    const n = Math.min(20_000, keys - done)
    await api('POST', `/admin/v1/skus/${sku}/card-keys`, { unit_cost: 1, codes: Array.from({ length: n }, () => ({ code: randomBytes(12).toString('base64url') })) })
  }
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
