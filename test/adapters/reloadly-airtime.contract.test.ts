import t from 'tap'
import { startReloadlySimulator, webhookHeaders, type ReloadlySimulator } from '../../adapters/reloadly/simulator.js'
import { runAdapterContract } from './contract.js'

const account = { clientId: 'contract-client-id', clientSecret: 'contract-client-secret', webhookSecret: 'contract-webhook-secret' }

t.test('reloadly airtime top-ups', async (t) => {
  await runAdapterContract<ReloadlySimulator>(t, {
    adapter: 'reloadly-airtime',
    start: async (t) => {
      // The suite tops one number up several times on one simulator: no two-minute cooldown here.
      const sim = await startReloadlySimulator({ ...account, knobs: { recentRechargeMs: 0 } })
      t.teardown(sim.close)
      return sim
    },
    baseUrl: (sim) => sim.airtimeUrl,
    credentials: (sim) => sim.credentials(),
    secrets: () => [account.clientSecret, account.webhookSecret],
    sku: { category: 'mobile', delivery: 'direct_recharge', recipient_type: 'phone' },
    route: { supplier_product_id: '1066', supplier_params: { amount: 10 } },
    recipient: { phone: '+8613800138000' },
    badRecipient: (sim) => {
      sim.knobs.badRecipients = ['+8613900139000']
      return { phone: '+8613900139000' }
    },
    refuse: (sim, on) => {
      sim.knobs.refusal = on ? { status: 400, errorCode: 'OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE', message: 'Operator is unavailable or currently inactive' } : null
    },
    forgedCallback: (_sim, reference) => {
      const body = JSON.stringify({ id: 'evt-forged', type: 'airtime_transaction.status', data: { transactionId: 1, customIdentifier: reference, status: 'SUCCESSFUL' } })
      return { headers: webhookHeaders('not-the-webhook-secret', body), body }
    },
    expireTokens: (sim) => sim.expireTokens(),
    tokensIssued: (sim) => sim.tokensIssued()
  })
})
