import type autocannon from 'autocannon'
import { request } from 'undici'
import { createFuluAdapter } from '../../adapters/fulu/index.js'
import { startFuluSimulator } from '../../adapters/fulu/simulator.js'
import type { HttpCall } from '../../src/domain/supplier.js'
import { figure, type BenchContext, type Figure } from './harness.js'
import { benchGateway, load, reseller, SECONDS, WARM_UP_SECONDS } from './gateway.js'

const CONNECTIONS = 8
const credentials = { app_key: 'bench-app-key', app_secret: 'bench-secret-0123456789abcdefghi' }

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

/**
 * `supplier`: direct-recharge orders routed to the Fulu simulator answering after 20 ms,
 * against the adapter calling the same simulator directly (no gateway); latency p50/p99 of
 * both at the same concurrency.
 */
export async function supplierScenario (ctx: BenchContext): Promise<Figure[]> {
  const sim = await startFuluSimulator({ appKey: credentials.app_key, appSecret: credentials.app_secret, knobs: { latencyMs: 20 } })
  const bench = await benchGateway(ctx)
  try {
    await bench.api('POST', '/admin/v1/suppliers', { id: 'bench-fulu', adapter: 'fulu', base_url: sim.url, credentials, timeout_ms: 5000 })
    await bench.api('POST', '/admin/v1/skus', {
      sku: 'bench-vip', name: 'Bench VIP', category: 'video', delivery: 'direct_recharge', recipient_type: 'account', face_value: 100, currency: 'CNY',
      fulfilment: { routes: [{ supplier: 'bench-fulu', supplier_product_id: '10000498', cost: 1 }] }
    })
    await bench.api('PUT', '/admin/v1/tiers/standard/prices', [{ sku: 'bench-vip', price: 1 }])
    const buyer = await reseller(bench.api, 'bench')

    ctx.log(`supplier: the adapter calling the simulator directly, ${CONNECTIONS} loops, ${SECONDS} s`)
    const http: HttpCall = async (r) => {
      const res = await request(r.url, { method: r.method, headers: r.headers, body: r.body, signal: r.signal })
      return { status: res.statusCode, body: await res.body.text() }
    }
    const adapter = createFuluAdapter(credentials, sim.url, http)
    let n = 0
    const direct = async (seconds: number): Promise<number[]> => {
      const latencies: number[] = []
      const until = Date.now() + seconds * 1000
      await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          const started = performance.now()
          const result = await adapter.purchase({ reference: `direct-${n++}`, supplierProductId: '10000498', supplierParams: {}, quantity: 1, recipient: { account: '13800138000' } }, { signal: AbortSignal.timeout(5000) })
          if (result.status !== 'succeeded') throw new Error(`direct call ended ${result.status}`)
          latencies.push(performance.now() - started)
        }
      }))
      return latencies.sort((a, b) => a - b)
    }
    // Both sides warm (connections, JIT) before they are measured, as in the other scenarios.
    await direct(WARM_UP_SECONDS)
    const latencies = await direct(SECONDS)

    let i = 0
    const requests: Partial<autocannon.Options> = {
      method: 'POST',
      requests: [{
        setupRequest: (req) => ({
          ...req,
          headers: { authorization: `Bearer ${buyer.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ client_order_id: `S-${Date.now()}-${i++}`, sku: 'bench-vip', recipient: { account: '13800138000' } })
        })
      }]
    }
    const url = `${bench.gw.url}/v1/orders`
    await bench.settle(url, requests)
    ctx.log(`supplier: POST /v1/orders routed to the simulator, ${CONNECTIONS} connections, ${SECONDS} s`)
    const orders = await load(bench.gw, url, CONNECTIONS, requests)
    if (orders.non2xx > 0) ctx.log(`supplier: ${orders.non2xx} non-2xx answers`)
    return [
      figure('supplier', 'order p50 latency via the gateway', orders.p50, 'ms', 'adapter call p50, direct', percentile(latencies, 0.5)),
      figure('supplier', 'order p99 latency via the gateway', orders.p99, 'ms', 'adapter call p99, direct', percentile(latencies, 0.99))
    ]
  } finally {
    await bench.close()
    await sim.close()
  }
}
