/**
 * `npm run bench [-- scenario…]`: benchmarks, separate from the tests. Every figure is
 * printed next to a baseline measured in the same run, because these machines are shared
 * and noisy: compare ratios, not absolute numbers. Results also go to .bench/*.json.
 */
import { report, withBenchServer, type BenchContext, type Figure } from './harness.js'
import { ordersScenario } from './orders.js'
import { poolScenario } from './pool.js'

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Figure[]>> = {
  pool: poolScenario,
  orders: ordersScenario
}

async function main (): Promise<void> {
  const asked = process.argv.slice(2)
  const unknown = asked.filter((a) => !(a in SCENARIOS))
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`)
  const names = asked.length > 0 ? asked : Object.keys(SCENARIOS)
  const figures = await withBenchServer(async (ctx) => {
    const all: Figure[] = []
    for (const name of names) all.push(...await (SCENARIOS[name] as (c: BenchContext) => Promise<Figure[]>)(ctx))
    return all
  })
  const file = await report(figures)
  process.stderr.write(`results written to ${file}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
