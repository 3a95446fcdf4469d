import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import { migrateDatabase } from '../../src/db/migrate.js'
import { spawnGateway, testEnv } from '../helper.js'
import { figure, type BenchContext, type Figure } from './harness.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const CONNECTIONS = 32
const BOOTSTRAP = `adm_${randomBytes(24).toString('base64url')}`

interface Run { rps: number, p50: number, p99: number, non2xx: number }


async function load (url: string, options: Partial<autocannon.Options>): Promise<Run> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...options })
  // Only successful answers count: a refused order is not throughput.
  return { rps: result['2xx'] / (result.duration || SECONDS), p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx }
}

async function api (base: string, method: string, path: string, body: unknown, token = BOOTSTRAP): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return await res.json() as Record<string, unknown>
}

/**
 * Card-pool orders through POST /v1/orders (bearer, unique client_order_id per request) at 32
 * connections against one gateway process, with GET /healthz on the same process as the
 * framework baseline measured in the same run.
 */
export async function ordersScenario (ctx: BenchContext): Promise<Figure[]> {
  const url = await ctx.database()
  await migrateDatabase(url)
  const teardown: (() => unknown)[] = []
  const t = { teardown: (fn: () => unknown) => { teardown.push(fn) } }
  try {
    const gw = await spawnGateway(t, testEnv(url, { LOG_LEVEL: 'info', BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, DATABASE_POOL_SIZE: '32' }))
    const keys = Number(process.env.BENCH_ORDER_KEYS ?? 60_000)
    ctx.log(`orders: seeding a SKU with ${keys.toLocaleString('en')} keys and a reseller`)
    await api(gw.url, 'POST', '/admin/v1/skus', { sku: 'bench-order', name: 'Bench', category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 100, currency: 'CNY' })
    await api(gw.url, 'PUT', '/admin/v1/tiers/standard/prices', [{ sku: 'bench-order', price: 1 }])
    for (let done = 0; done < keys; done += 20_000) {
      const n = Math.min(20_000, keys - done)
      await api(gw.url, 'POST', '/admin/v1/skus/bench-order/card-keys', { unit_cost: 1, codes: Array.from({ length: n }, () => ({ code: randomBytes(12).toString('base64url') })) })
    }
    const reseller = await api(gw.url, 'POST', '/admin/v1/resellers', { name: 'Bench', tier: 'standard', currency: 'CNY', rate_limit_per_minute: 1_000_000 }) as { id: string, api_key: { secret: string } }
    await api(gw.url, 'POST', `/admin/v1/resellers/${reseller.id}/balance-adjustments`, { amount: 1_000_000_000, reason: 'bench' })

    ctx.log(`orders: GET /healthz, ${CONNECTIONS} connections, ${SECONDS} s`)
    const health = await load(`${gw.url}/healthz`, {})
    ctx.log(`orders: POST /v1/orders, ${CONNECTIONS} connections, ${SECONDS} s`)
    let n = 0
    const prefix = randomBytes(4).toString('hex')
    const orders = await load(`${gw.url}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reseller.api_key.secret}`, 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ client_order_id: `B-${prefix}-${n++}`, sku: 'bench-order' }) }) }]
    })
    if (orders.non2xx > 0) ctx.log(`orders: ${orders.non2xx} non-2xx answers (stock ran out? raise BENCH_ORDER_KEYS)`)
    return [
      figure('orders', 'card-pool orders (POST /v1/orders)', orders.rps, 'req/s', 'GET /healthz, same process', health.rps),
      figure('orders', 'orders p50 latency', orders.p50, 'ms', 'healthz p50', health.p50),
      figure('orders', 'orders p99 latency', orders.p99, 'ms', 'healthz p99', health.p99)
    ]
  } finally {
    for (const fn of teardown.reverse()) await fn()
  }
}
