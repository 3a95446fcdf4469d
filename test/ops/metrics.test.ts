import t from 'tap'
import { idFloor, newId } from '../../src/domain/ids.js'
import { build } from '../helper.js'
import { buy, createSupplier, directSku, fuluSim, route } from '../suppliers/helpers.js'
import { cardSku, createReseller } from '../v1/helpers.js'

t.test('/metrics: orders by status, SKU and supplier; supplier balance; alerts; callback outcomes', async (t) => {
  const ta = await build(t, { SUPPLIER_BALANCE_INTERVAL_MS: '10', ORDER_SYNC_WAIT_MS: '2000' })
  const sim = await fuluSim(t, { balance: '50.00', badAccounts: ['nobody'] })
  await createSupplier(ta, 'met-a', sim.url, { low_balance_threshold: 1000 })
  await directSku(ta, 'sku-met', 100, { routes: [route('met-a', 1)] })
  await cardSku(ta, 'gc-met', 100, 3, { low_stock_threshold: 1 })
  const buyer = await createReseller(ta, {}, 100_000)
  for (const id of ['M-1', 'M-2']) {
    t.equal((await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: buyer.bearer, payload: { client_order_id: id, sku: 'gc-met' } })).json().status, 'succeeded')
  }
  t.equal((await buy(ta, buyer, 'M-3', 'sku-met')).body.status, 'succeeded')
  t.equal((await buy(ta, buyer, 'M-4', 'sku-met', 'nobody')).body.status, 'failed')
  t.equal(await ta.app.ops.checkSupplierBalances(), 1)
  await ta.app.ops.checkLowStock()

  const res = await ta.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  const lines = res.body.split('\n')
  for (const expected of [
    'orders_recent{status="succeeded",sku="gc-met",supplier="pool"} 2',
    'orders_recent{status="succeeded",sku="sku-met",supplier="met-a"} 1',
    'orders_recent{status="failed",sku="sku-met",supplier="met-a"} 1',
    'supplier_balance_minor{supplier="met-a",currency="CNY"} 5000',
    'supplier_call_duration_seconds_count{supplier="met-a",operation="balance",outcome="succeeded"} 1',
    'supplier_call_duration_seconds_count{supplier="met-a",operation="purchase",outcome="succeeded"} 1',
    'supplier_breaker_state{supplier="met-a"} 0',
    'card_pool_available_keys{sku="gc-met"} 1',
    'ops_alerts_firing{kind="low_stock"} 1',
    'ops_alerts_firing{kind="supplier_low_balance"} 0',
    'ops_alerts_total{kind="low_stock"} 1',
    'ops_alerts_total{kind="callback_failures"} 0',
    'webhook_deliveries_total{outcome="delivered"} 0',
    'webhook_deliveries_total{outcome="gave_up"} 0'
  ]) t.ok(lines.includes(expected), expected)
  t.match(res.body, /# HELP orders_recent Orders created in the last 900 s/)
})

t.test('idFloor bounds the ids made from a given millisecond', async (t) => {
  for (let i = 0; i < 50; i++) {
    const before = Date.now()
    const id = newId('ord')
    const after = Date.now()
    t.ok(idFloor('ord', before) <= id && id < idFloor('ord', after + 1), id)
  }
  t.ok(idFloor('ord', 1000) < idFloor('ord', 1001))
})
