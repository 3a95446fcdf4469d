import t from 'tap'
import { FulfilmentSchema } from '../../src/domain/catalog.js'
import { chooseRoutes, type SupplierHealth } from '../../src/domain/routing/choose-routes.js'

const healthy: SupplierHealth = { enabled: true, forceState: null, breaker: 'closed' }
const routes = [
  { supplier: 'sup_a', supplier_product_id: '1', cost: 300, priority: 2, weight: 1 },
  { supplier: 'sup_b', supplier_product_id: '2', cost: 100, priority: 3, weight: 3 },
  { supplier: 'sup_c', supplier_product_id: '3', cost: 200, priority: 1, weight: 0 }
]
const plan = (fulfilment: object, health: Record<string, SupplierHealth | undefined>, random?: () => number) =>
  chooseRoutes(FulfilmentSchema.parse(fulfilment), health, random).map((s) => s.kind === 'card_pool' ? 'pool' : s.route.supplier)
const all = { sup_a: healthy, sup_b: healthy, sup_c: healthy }

t.test('strategies order the usable routes', async (t) => {
  t.same(plan({ strategy: 'priority', routes }, all), ['sup_c', 'sup_a', 'sup_b'])
  t.same(plan({ strategy: 'lowest_cost', routes }, all), ['sup_b', 'sup_c', 'sup_a'])
  // random 0.9 of total weight 4 → 3.6 → sup_b; then only sup_a left; zero weight last.
  t.same(plan({ strategy: 'weighted', routes }, all, () => 0.9), ['sup_b', 'sup_a', 'sup_c'])
  t.same(plan({ strategy: 'weighted', routes }, all, () => 0.1), ['sup_a', 'sup_b', 'sup_c'])
  const counts = { sup_a: 0, sup_b: 0 }
  let seed = 1
  const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
  for (let i = 0; i < 4000; i++) counts[plan({ strategy: 'weighted', routes }, all, rnd)[0] as 'sup_a' | 'sup_b']++
  t.ok(counts.sup_b / 4000 > 0.7 && counts.sup_b / 4000 < 0.8, `weights 1:3 give ${counts.sup_b / 4000} to sup_b`)
})

t.test('disabled, forced-open and open-breaker suppliers are skipped; forced-closed ignores the breaker', async (t) => {
  t.same(plan({ routes }, { ...all, sup_c: { ...healthy, enabled: false } }), ['sup_a', 'sup_b'])
  t.same(plan({ routes }, { ...all, sup_c: { ...healthy, forceState: 'open' } }), ['sup_a', 'sup_b'])
  t.same(plan({ routes }, { ...all, sup_c: { ...healthy, breaker: 'open' } }), ['sup_a', 'sup_b'])
  t.same(plan({ routes }, { ...all, sup_c: { ...healthy, breaker: 'half_open' } }), ['sup_c', 'sup_a', 'sup_b'], 'half-open lets a trial through')
  t.same(plan({ routes }, { ...all, sup_c: { ...healthy, breaker: 'open', forceState: 'closed' } }), ['sup_c', 'sup_a', 'sup_b'])
  t.same(plan({ routes: routes.map((r) => ({ ...r, enabled: r.supplier !== 'sup_a' })) }, all), ['sup_c', 'sup_b'], 'disabled route')
  t.same(plan({ routes }, { sup_a: healthy }), ['sup_a'], 'unknown suppliers are not usable')
})

t.test('the card pool goes before, after or instead of suppliers', async (t) => {
  t.same(plan({ card_pool: 'never', routes }, all), ['sup_c', 'sup_a', 'sup_b'])
  t.same(plan({ card_pool: 'fallback', routes }, all), ['sup_c', 'sup_a', 'sup_b', 'pool'])
  t.same(plan({ card_pool: 'primary', routes }, all), ['pool', 'sup_c', 'sup_a', 'sup_b'])
  t.same(plan({ card_pool: 'only' }, all), ['pool'])
  t.same(plan({ card_pool: 'never', routes }, {}), [], 'nothing can serve: empty plan')
})
