import t from 'tap'
import { startReloadlySimulator, webhookHeaders, type ReloadlySimulator } from '../../adapters/reloadly/simulator.js'
import { runAdapterContract } from './contract.js'

const account = { clientId: 'contract-client-id', clientSecret: 'contract-client-secret', webhookSecret: 'contract-webhook-secret' }

t.test('reloadly gift-card orders', async (t) => {
  await runAdapterContract<ReloadlySimulator>(t, {
    adapter: 'reloadly-giftcards',
    start: async (t) => {
      const sim = await startReloadlySimulator(account)
      t.teardown(sim.close)
      return sim
    },
    baseUrl: (sim) => sim.giftcardsUrl,
    credentials: (sim) => sim.credentials(),
    secrets: () => [account.clientSecret, account.webhookSecret],
    sku: { category: 'gift_card', delivery: 'card_key', recipient_type: 'none' },
    route: { supplier_product_id: '10', supplier_params: { unit_price: 25 } },
    recipient: {},
    refuse: (sim, on) => {
      sim.knobs.refusal = on ? { status: 400, errorCode: null, message: 'The product was either not found or is no longer available, Please contact support' } : null
    },
    forgedCallback: (_sim, reference) => {
      const body = JSON.stringify({ id: 'evt-forged', type: 'giftcard_transaction.status', data: { transaction: { transactionId: 1, customIdentifier: reference, status: 'SUCCESSFUL' } } })
      return { headers: webhookHeaders('not-the-webhook-secret', body), body }
    },
    expireTokens: (sim) => sim.expireTokens(),
    tokensIssued: (sim) => sim.tokensIssued()
  })
})
