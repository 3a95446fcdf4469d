import postgres from 'postgres'
import { figure, type BenchContext, type Figure } from './harness.js'
import { benchGateway, load, orderRequests, poolSku, priceSkus, reseller, SECONDS } from './gateway.js'

const KEYS = Number(process.env.BENCH_DRAIN_KEYS ?? 1_000_000)
const CONNECTIONS = 32

/**
 * `drain`: card-pool orders on one SKU of 1,000,000 keys: the rate in the first 10 s against
 * the rate once 500,000 have been sold, with no manual VACUUM in between (autovacuum as
 * configured). The half is sold in bulk, 10,000 keys a transaction, which leaves the same
 * dead index entries that 500,000 single sales would.
 */
export async function drainScenario (ctx: BenchContext): Promise<Figure[]> {
  const bench = await benchGateway(ctx)
  const sql = postgres(bench.databaseUrl, { max: 2, onnotice: () => {} })
  try {
    ctx.log(`drain: importing ${KEYS.toLocaleString('en')} keys`)
    await poolSku(ctx, bench, 'bench-drain', KEYS)
    await priceSkus(bench.api, ['bench-drain'])
    const buyer = await reseller(bench.api, 'bench')
    const url = `${bench.gw.url}/v1/orders`
    await bench.settle(url, orderRequests(() => ({ sku: 'bench-drain', buyer })))
    ctx.log('drain: orders on the full pool')
    const full = await load(bench.gw, url, CONNECTIONS, orderRequests(() => ({ sku: 'bench-drain', buyer })))
    const [sold] = await sql<{ n: number }[]>`select count(*)::int as n from card_keys where sku = 'bench-drain' and status = 'sold'`
    const target = Math.floor(KEYS / 2)
    ctx.log(`drain: selling up to ${target.toLocaleString('en')} keys`)
    for (let done = sold?.n ?? 0; done < target;) {
      const n = Math.min(10_000, target - done)
      // Locked and skipped like a sale: orders still in flight when the load ended may be
      // selling the same keys.
      const rows = await sql`
        update card_keys set status = 'sold', sold_at = now(), order_id = 'ord_bench_drain_' || id
        where id in (select id from card_keys where sku = 'bench-drain' and status = 'available' order by expires_at, id limit ${n} for update skip locked)
        returning id`
      done += rows.length
      if (rows.length === 0) break
    }
    ctx.log('drain: orders on the half-sold pool')
    const half = await load(bench.gw, url, CONNECTIONS, orderRequests(() => ({ sku: 'bench-drain', buyer })))
    return [figure('drain', `orders after ${target.toLocaleString('en')} keys sold`, half.rps, 'req/s', `orders on the full pool (first ${SECONDS} s)`, full.rps)]
  } finally {
    await sql.end()
    await bench.close()
  }
}
