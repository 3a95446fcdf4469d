import t from 'tap'
import { kashangwlSign } from '../../adapters/kashangwl/wire.js'
import { startKashangwlSimulator } from '../../adapters/kashangwl/simulator.js'
import { build } from '../helper.js'
import { buy, createSupplier, directSku, route } from '../suppliers/helpers.js'
import { createReseller } from '../v1/helpers.js'
import { until } from '../webhooks/helpers.js'
import { runAdapterContract } from './contract.js'

type Sim = Awaited<ReturnType<typeof startKashangwlSimulator>>

const credentials = { customer_id: '10001', customer_key: 'contract-customer-key-0123' }

for (const kind of ['game', 'card'] as const) {
  t.test(`kashangwl ${kind} orders`, async (t) => {
    await runAdapterContract<Sim>(t, {
      adapter: 'kashangwl',
      start: async (t) => {
        const sim = await startKashangwlSimulator({ customerId: credentials.customer_id, customerKey: credentials.customer_key, knobs: { notifyRetryMs: 500 } })
        t.teardown(sim.close)
        return sim
      },
      baseUrl: (sim) => sim.url,
      credentials: () => credentials,
      secrets: () => [credentials.customer_key],
      sku: kind === 'game'
        ? { category: 'game', delivery: 'direct_recharge', recipient_type: 'game_account' }
        : { category: 'gift_card', delivery: 'card_key', recipient_type: 'none' },
      // The game product costs 3.0000 and the card 9.5000 at the simulator: both under their safe_cost.
      route: kind === 'game'
        ? { supplier_product_id: '41847', supplier_params: { safe_cost: '3.50', server_field: '区服' } }
        : { supplier_product_id: '41848', supplier_params: { safe_cost: 10 } },
      recipient: kind === 'game' ? { account: '10086001', server: '电信一区' } : {},
      ...(kind === 'game'
        ? {
            badRecipient: (sim: Sim) => {
              sim.knobs.badAccounts = ['no-such-account']
              return { account: 'no-such-account', server: '电信一区' }
            }
          }
        : {}),
      refuse: (sim, on) => { sim.knobs.refuse = on ? { code: 'product_off_shelf', message: '商品已下架' } : null },
      silenceCallbacks: (sim) => { sim.knobs.notify = false },
      forgedCallback: (_sim, reference) => {
        const fields = { order_id: '557305089999', outer_order_id: reference, product_id: '41847', quantity: '1', state: '200', state_info: '交易成功', created_at: '2024-01-01 12:00:00', timestamp: '1700000000', customer_id: credentials.customer_id }
        return {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ ...fields, sign: kashangwlSign(fields, 'not-the-customer-key') }).toString()
        }
      }
    })
  })
}

t.test('the published limit (20 buys in 6 s) holds through the gateway: a burst waits, nothing is refused', async (t) => {
  const ta = await build(t, { ORDER_SYNC_WAIT_MS: '1000', SUPPLIER_POLL_INTERVAL_MS: '60000', RECONCILE_AFTER_MS: '200' })
  const buyer = await createReseller(ta, {}, 1_000_000)
  // The simulator refuses a 21st buy within 6 s, as the platform does; notifies are off so polling settles.
  const sim = await startKashangwlSimulator({ customerId: credentials.customer_id, customerKey: credentials.customer_key, knobs: { notify: false } })
  t.teardown(sim.close)
  await createSupplier(ta, 'ksw-limit', sim.url, { adapter: 'kashangwl', credentials })
  await directSku(ta, 'sku-ksw-limit', 100, { routes: [route('ksw-limit', 1, { supplier_product_id: '41847' })] })
  const started = performance.now()
  await Promise.all(Array.from({ length: 25 }, async (_, i) => await buy(ta, buyer, `ksw-limit-${i}`, 'sku-ksw-limit')))
  await until(async () => {
    await ta.database.sql`update orders set next_check_at = now() where sku = 'sku-ksw-limit' and status = 'processing' and lease_until is null`
    await ta.app.fulfilment.runDue()
    const [left] = await ta.database.sql`select count(*)::int as n from orders where sku = 'sku-ksw-limit' and status <> 'succeeded'`
    return left?.n === 0
  }, 20_000)
  t.equal(sim.submits.length, 25, 'every order was bought once')
  t.same(sim.rateLimited, [], 'no buy was refused for the rate limit')
  t.ok(performance.now() - started >= 6000, 'the buys past the 20th waited for the window')
})
