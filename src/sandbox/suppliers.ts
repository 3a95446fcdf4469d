import { startFuluSimulator } from '../../adapters/fulu/simulator.js'
import { startKashangwlSimulator } from '../../adapters/kashangwl/simulator.js'
import { startReloadlySimulator } from '../../adapters/reloadly/simulator.js'

/** A supplier instance the sandbox points at one of its simulators. */
export interface SandboxSupplier {
  id: string
  adapter: string
  baseUrl: string
  credentials: Record<string, unknown>
}

export interface SandboxSimulators {
  suppliers: SandboxSupplier[]
  /** Sends every simulator's callbacks to this gateway, once it listens. */
  callbacksTo: (gatewayUrl: string) => void
  close: () => Promise<void>
}

// The simulators' accounts exist only inside this process, so their secrets are no secrets.
const FULU = { app_key: 'sandbox-app-key', app_secret: 'sandbox-fulu-secret-0123456789ab' }
const RELOADLY = { clientId: 'sandbox-client-id', clientSecret: 'sandbox-client-secret', webhookSecret: 'sandbox-webhook-secret' }
const KASHANGWL = { customer_id: '10001', customer_key: 'sandbox-customer-key' }

/** Orders at every simulator complete this long after they are placed, then call back. */
const COMPLETE_AFTER_MS = 500

/**
 * One simulator per sandbox supplier, over real HTTP on loopback inside the gateway process:
 * Fulu for video memberships, Reloadly Airtime for mobile top-ups, Reloadly Gift Cards for
 * gift-card codes, kashangwl for game top-ups. Reloadly gets one simulator per product,
 * because its webhooks go to one URL per account.
 */
export async function startSandboxSimulators (): Promise<SandboxSimulators> {
  const started: { close: () => Promise<void> }[] = []
  try {
    const fulu = await startFuluSimulator({ appKey: FULU.app_key, appSecret: FULU.app_secret, knobs: { completeAfterMs: COMPLETE_AFTER_MS } })
    started.push(fulu)
    const airtime = await startReloadlySimulator({ ...RELOADLY, knobs: { completeAfterMs: COMPLETE_AFTER_MS } })
    started.push(airtime)
    const giftcards = await startReloadlySimulator({ ...RELOADLY, knobs: { completeAfterMs: COMPLETE_AFTER_MS } })
    started.push(giftcards)
    const kashangwl = await startKashangwlSimulator({ customerId: KASHANGWL.customer_id, customerKey: KASHANGWL.customer_key, knobs: { completeAfterMs: COMPLETE_AFTER_MS } })
    started.push(kashangwl)
    const suppliers: (SandboxSupplier & { sim: { knobs: { callbackUrl: string | null } } })[] = [
      { id: 'fulu-sandbox', adapter: 'fulu', baseUrl: fulu.url, credentials: FULU, sim: fulu },
      { id: 'reloadly-airtime-sandbox', adapter: 'reloadly-airtime', baseUrl: airtime.airtimeUrl, credentials: airtime.credentials(), sim: airtime },
      { id: 'reloadly-giftcards-sandbox', adapter: 'reloadly-giftcards', baseUrl: giftcards.giftcardsUrl, credentials: giftcards.credentials(), sim: giftcards },
      { id: 'kashangwl-sandbox', adapter: 'kashangwl', baseUrl: kashangwl.url, credentials: KASHANGWL, sim: kashangwl }
    ]
    return {
      suppliers: suppliers.map(({ sim: _sim, ...s }) => s),
      callbacksTo: (gatewayUrl) => {
        for (const s of suppliers) s.sim.knobs.callbackUrl = `${gatewayUrl}/callbacks/suppliers/${s.id}`
      },
      close: async () => { await Promise.all(started.map(async (s) => await s.close())) }
    }
  } catch (err) {
    await Promise.all(started.map(async (s) => await s.close()))
    throw err
  }
}
