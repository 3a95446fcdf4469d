import t from 'tap'
import { startFuluSimulator } from '../../adapters/fulu/simulator.js'
import { runAdapterContract } from './contract.js'

const credentials = { app_key: 'contract-app-key', app_secret: 'contract-secret-0123456789abcdef' }

for (const kind of ['direct', 'card'] as const) {
  t.test(`fulu ${kind} orders`, async (t) => {
    await runAdapterContract(t, {
      adapter: 'fulu',
      start: async (t) => {
        const sim = await startFuluSimulator({ appKey: credentials.app_key, appSecret: credentials.app_secret })
        t.teardown(sim.close)
        return sim
      },
      baseUrl: (sim) => sim.url,
      credentials: () => credentials,
      secrets: () => [credentials.app_secret],
      sku: kind === 'direct'
        ? { category: 'video', delivery: 'direct_recharge', recipient_type: 'account' }
        : { category: 'gift_card', delivery: 'card_key', recipient_type: 'none' },
      route: kind === 'direct' ? { supplier_product_id: '10000498' } : { supplier_product_id: '10000497', supplier_params: { kind: 'card' } },
      recipient: kind === 'direct' ? { account: '13800138000' } : {},
      ...(kind === 'direct'
        ? {
            badRecipient: (sim: Awaited<ReturnType<typeof startFuluSimulator>>) => {
              sim.knobs.badAccounts = ['no-such-account']
              return { account: 'no-such-account' }
            }
          }
        : {}),
      refuse: (sim, on) => { sim.knobs.refuseCode = on ? 3001 : 0 },
      forgedCallback: (_sim, reference) => ({
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order_id: '22113000000000000001', customer_order_no: reference, order_status: 'success', sign: 'f'.repeat(32) })
      })
    })
  })
}
