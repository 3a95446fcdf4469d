import { createHash } from 'node:crypto'
import postgres from 'postgres'
import { debitOneBucket } from '../../src/balance/buckets.js'
import { pipelinedTransaction } from '../../src/db/pipelined.js'
import { allocateCardKeysQuery } from '../../src/db/repositories/card-keys.js'
import { newId } from '../../src/domain/ids.js'
import { figure, rate, type BenchContext, type Figure } from './harness.js'
import { benchGateway, load, orderRequests, poolSku, priceSkus, reseller, SECONDS, type BenchReseller } from './gateway.js'

const CONNECTIONS = 32
const KEYS = Number(process.env.BENCH_ORDER_KEYS ?? 100_000)

/**
 * The card-pool order transaction without HTTP, as `placeOrder` sends it for a pool order
 * with cached terms: on a reserved connection, BEGIN with the catalog version check, the
 * order insert, the key allocation, the one-bucket debit and the ledger row in one write,
 * then COMMIT (pipelinedTransaction), through postgres.js with the gateway's pool size.
 * The database's limit for orders.
 */
async function directSql (databaseUrl: string, buyer: BenchReseller, sku: string): Promise<number> {
  const sql = postgres(databaseUrl, { max: 32, onnotice: () => {} })
  try {
    const hash = createHash('sha256').update('bench').digest()
    return await rate(CONNECTIONS, SECONDS, async () => {
      const id = newId('ord')
      const conn = await sql.reserve()
      try {
        await pipelinedTransaction(conn, async (tx) => {
          const [, , allocated, debited] = await Promise.all([
            tx`select version from catalog_version where id = 1`.execute(),
            tx`
              insert into orders (id, reseller_id, client_order_id, request_hash, sku, quantity, recipient, unit_price, amount, currency, status, completed_at)
              values (${id}, ${buyer.id}, ${id}, ${hash}, ${sku}, 1, '{}'::jsonb, 1, 1, 'CNY', 'succeeded', now())`.execute(),
            allocateCardKeysQuery(tx, { sku, quantity: 1, orderId: id }).execute(),
            debitOneBucket(tx, buyer.id, 1).execute(),
            tx`insert into ledger_entries (reseller_id, kind, amount, currency, order_id) values (${buyer.id}, 'order_debit', -1, 'CNY', ${id})`.execute()
          ])
          if (allocated.length !== 1) throw new Error('bench SKU ran out')
          // As the gateway does: every bucket held by a concurrent order, so ask again.
          let bucket = debited
          while (bucket.length === 0) bucket = await debitOneBucket(tx, buyer.id, 1)
        })
      } finally {
        conn.release()
      }
    })
  } finally {
    await sql.end()
  }
}

/**
 * `orders`: card-pool orders through POST /v1/orders (bearer, a fresh client_order_id per
 * request) at 32 connections, against GET /healthz on the same process (the framework's
 * limit) and the order's own SQL transaction sent directly (the database's limit); peak RSS
 * of the gateway meanwhile. `signed`: the same orders HMAC-signed.
 */
export async function ordersScenario (ctx: BenchContext): Promise<Figure[]> {
  const bench = await benchGateway(ctx)
  try {
    ctx.log(`orders: seeding ${KEYS.toLocaleString('en')} keys`)
    await poolSku(ctx, bench, 'bench-order', KEYS)
    await poolSku(ctx, bench, 'bench-direct', KEYS)
    await priceSkus(bench.api, ['bench-order', 'bench-direct'])
    const buyer = await reseller(bench.api, 'bench')
    const url = `${bench.gw.url}/v1/orders`
    await bench.settle(url, orderRequests(() => ({ sku: 'bench-order', buyer })))

    ctx.log(`orders: GET /healthz, ${CONNECTIONS} connections, ${SECONDS} s`)
    const health = await load(bench.gw, `${bench.gw.url}/healthz`, CONNECTIONS, {})
    ctx.log('orders: the order transaction sent directly')
    const direct = await directSql(bench.databaseUrl, buyer, 'bench-direct')
    ctx.log(`orders: POST /v1/orders, ${CONNECTIONS} connections, ${SECONDS} s`)
    const orders = await load(bench.gw, url, CONNECTIONS, orderRequests(() => ({ sku: 'bench-order', buyer })))
    ctx.log(`orders: signed POST /v1/orders, ${CONNECTIONS} connections, ${SECONDS} s`)
    const signed = await load(bench.gw, url, CONNECTIONS, orderRequests(() => ({ sku: 'bench-order', buyer }), true))
    for (const [name, run] of [['orders', orders], ['signed', signed]] as const) {
      if (run.non2xx > 0) ctx.log(`${name}: ${run.non2xx} non-2xx answers (stock ran out? raise BENCH_ORDER_KEYS)`)
    }
    return [
      figure('orders', 'card-pool orders (POST /v1/orders)', orders.rps, 'req/s', 'order transaction sent directly (SQL)', direct),
      figure('orders', 'card-pool orders (POST /v1/orders)', orders.rps, 'req/s', 'GET /healthz, same process', health.rps),
      figure('orders', 'orders p99 latency', orders.p99, 'ms', 'orders p50 latency', orders.p50),
      figure('orders', 'peak RSS of the gateway during orders', orders.peakRssMb, 'MB', 'target', 200),
      figure('signed', 'signed orders (HMAC)', signed.rps, 'req/s', 'bearer orders', orders.rps)
    ]
  } finally {
    await bench.close()
  }
}

/** `contention`: 64 connections all buying one SKU against 64 connections spread over 64 SKUs. */
export async function contentionScenario (ctx: BenchContext): Promise<Figure[]> {
  const bench = await benchGateway(ctx)
  try {
    const skus = Array.from({ length: 64 }, (_, i) => `bench-c${i}`)
    ctx.log('contention: seeding one hot SKU and 64 SKUs')
    await poolSku(ctx, bench, 'bench-hot', KEYS)
    for (const sku of skus) await poolSku(ctx, bench, sku, Math.ceil(KEYS / 64) + 500)
    await priceSkus(bench.api, ['bench-hot', ...skus])
    const buyer = await reseller(bench.api, 'bench')
    const url = `${bench.gw.url}/v1/orders`
    let i = 0
    await bench.settle(url, orderRequests(() => ({ sku: skus[i++ % 64] as string, buyer })))
    ctx.log('contention: 64 connections over 64 SKUs')
    const spread = await load(bench.gw, url, 64, orderRequests(() => ({ sku: skus[i++ % 64] as string, buyer })))
    ctx.log('contention: 64 connections on one SKU')
    const hot = await load(bench.gw, url, 64, orderRequests(() => ({ sku: 'bench-hot', buyer })))
    return [figure('contention', '64 connections, one SKU', hot.rps, 'req/s', '64 connections, 64 SKUs', spread.rps)]
  } finally {
    await bench.close()
  }
}

/** `hot-reseller`: 64 connections of one reseller against 64 connections spread over 64 resellers. */
export async function hotResellerScenario (ctx: BenchContext): Promise<Figure[]> {
  const bench = await benchGateway(ctx)
  try {
    ctx.log('hot-reseller: seeding a SKU and 64 resellers')
    await poolSku(ctx, bench, 'bench-r', KEYS * 2)
    await priceSkus(bench.api, ['bench-r'])
    const buyers: BenchReseller[] = []
    for (let r = 0; r < 64; r++) buyers.push(await reseller(bench.api, `bench-${r}`))
    const url = `${bench.gw.url}/v1/orders`
    let i = 0
    await bench.settle(url, orderRequests(() => ({ sku: 'bench-r', buyer: buyers[i++ % 64] as BenchReseller })))
    ctx.log('hot-reseller: 64 connections over 64 resellers')
    const spread = await load(bench.gw, url, 64, orderRequests(() => ({ sku: 'bench-r', buyer: buyers[i++ % 64] as BenchReseller })))
    ctx.log('hot-reseller: 64 connections of one reseller')
    const hot = await load(bench.gw, url, 64, orderRequests(() => ({ sku: 'bench-r', buyer: buyers[0] as BenchReseller })))
    return [figure('hot-reseller', '64 connections, one reseller', hot.rps, 'req/s', '64 connections, 64 resellers', spread.rps)]
  } finally {
    await bench.close()
  }
}
