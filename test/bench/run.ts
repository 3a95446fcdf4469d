/**
 * `npm run bench [-- scenario…]`: benchmarks, separate from the tests. Every figure is
 * printed next to a baseline measured in the same run, because these machines are shared
 * and noisy: compare ratios, not absolute numbers. Results also go to .bench/*.json.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { packageRoot } from '../../src/paths.js'
import { drainScenario } from './drain.js'
import { report, withBenchServer, type BenchContext, type Figure } from './harness.js'
import { contentionScenario, hotResellerScenario, ordersScenario } from './orders.js'
import { poolScenario } from './pool.js'
import { supplierScenario } from './supplier.js'

type Scenario = (ctx: BenchContext) => Promise<Figure[]>

/** Scenario names as the performance issue lists them; some are measured together. */
const SCENARIOS: Record<string, Scenario> = {
  orders: ordersScenario,
  signed: ordersScenario,
  memory: ordersScenario,
  contention: contentionScenario,
  'hot-reseller': hotResellerScenario,
  supplier: supplierScenario,
  drain: drainScenario,
  import: poolScenario,
  pool: poolScenario
}

async function main (): Promise<void> {
  // Gateways run from dist/, as `npm start` runs them: build it from the current source.
  execFileSync(process.execPath, [join(packageRoot, 'node_modules/typescript/bin/tsc'), '-p', join(packageRoot, 'tsconfig.json')], { stdio: 'inherit' })
  const asked = process.argv.slice(2)
  const unknown = asked.filter((a) => !(a in SCENARIOS))
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`)
  const chosen = [...new Set((asked.length > 0 ? asked : Object.keys(SCENARIOS)).map((name) => SCENARIOS[name] as Scenario))]
  const figures = await withBenchServer(async (ctx) => {
    const all: Figure[] = []
    for (const scenario of chosen) all.push(...await scenario(ctx))
    return all
  })
  const file = await report(figures)
  process.stderr.write(`results written to ${file}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
