import t, { type Test } from 'tap'
import { request } from 'undici'
import { createFuluAdapter } from '../../adapters/fulu/index.js'
import { startFuluSimulator } from '../../adapters/fulu/simulator.js'
import type { HttpCall, PurchaseRequest } from '../../src/domain/supplier.js'

const config = { app_key: 'TESTAPPKEY', app_secret: '0123456789abcdef0123456789abcdef' }
const http: HttpCall = async (r) => {
  const res = await request(r.url, { method: r.method, headers: r.headers, body: r.body, signal: r.signal })
  return { status: res.statusCode, body: await res.body.text() }
}
const purchase = (reference: string, extra: Partial<PurchaseRequest> = {}): PurchaseRequest =>
  ({ reference, supplierProductId: '10000001', supplierParams: {}, quantity: 1, recipient: { account: '888888' }, ...extra })
const ctx = (ms = 2000) => ({ signal: AbortSignal.timeout(ms) })

async function setup (t: Test, knobs = {}) {
  const sim = await startFuluSimulator({ appKey: config.app_key, appSecret: config.app_secret, knobs })
  t.teardown(() => sim.close())
  return { sim, adapter: createFuluAdapter(config, sim.url, http) }
}

t.test('direct recharge: accepted as pending, then succeeded by query', async (t) => {
  // Completion is the simulator's knob, not a race against the clock: a loaded machine
  // cannot make the order finish early.
  const { sim, adapter } = await setup(t, { completeAfterMs: 60_000 })
  const placed = await adapter.purchase(purchase('GW-1'), ctx())
  t.match(placed, { status: 'pending', supplierOrderId: /^\d{20}$/ })
  t.match(await adapter.getOrder('GW-1', ctx()), { status: 'pending' })
  sim.knobs.completeAfterMs = 0
  t.match(await adapter.getOrder('GW-1', ctx()), { status: 'succeeded', codes: [] })
  t.same(sim.submits, ['GW-1'])
})

t.test('card orders deliver AES-decrypted codes; failures and refusals are classified', async (t) => {
  const { sim, adapter } = await setup(t)
  await adapter.purchase(purchase('GW-2', { supplierParams: { kind: 'card' }, quantity: 2, recipient: {} }), ctx())
  const done = await adapter.getOrder('GW-2', ctx())
  t.match(done, { status: 'succeeded', codes: [{ code: 'FULU-GW-2-0', pin: 'PWD-0', expiresAt: '2030-12-31' }, { code: 'FULU-GW-2-1', pin: 'PWD-1' }] })
  sim.knobs.refuseCode = 3001
  t.match(await adapter.purchase(purchase('GW-3'), ctx()), { status: 'failed', retryable: true, code: 'product_unavailable' })
  sim.knobs.refuseCode = 0
  sim.knobs.finalState = 'failed'
  await adapter.purchase(purchase('GW-4'), ctx())
  t.match(await adapter.getOrder('GW-4', ctx()), { status: 'failed', retryable: false })
  t.match(await adapter.getOrder('GW-unknown', ctx()), { status: 'not_found' })
  // A reference refused as a duplicate is an order Fulu already has: its state is the answer.
  t.match(await adapter.purchase(purchase('GW-4'), ctx()), { status: 'failed', retryable: false, code: 'supplier_failed' }, 'duplicate reference looked up')
  t.equal(sim.queries.filter((q) => q === 'GW-4').length, 2, 'the duplicate was resolved by a query')
})

t.test('wrong credentials, 5xx, malformed bodies and hangs surface as errors for the executor', async (t) => {
  const { sim } = await setup(t)
  const wrong = createFuluAdapter({ ...config, app_secret: 'ffffffffffffffffffffffffffffffff' }, sim.url, http)
  t.match(await wrong.purchase(purchase('GW-5'), ctx()), { status: 'failed', retryable: true, code: 'supplier_auth_failed' }, 'bad signature refused by the gateway: nothing bought, another route may serve')
  const adapter = createFuluAdapter(config, sim.url, http)
  sim.knobs.httpStatus = 502
  await t.rejects(adapter.purchase(purchase('GW-6'), ctx()), { name: 'FuluUnavailable' })
  sim.knobs.httpStatus = null
  sim.knobs.malformed = true
  await t.rejects(adapter.purchase(purchase('GW-7'), ctx()))
  sim.knobs.malformed = false
  sim.knobs.hang = true
  await t.rejects(adapter.purchase(purchase('GW-8'), ctx(200)), { name: /AbortError|TimeoutError/ })
})
