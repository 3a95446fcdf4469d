import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { createReloadlyAirtimeAdapter } from '../../adapters/reloadly-airtime/index.js'
import { createReloadlyGiftcardsAdapter } from '../../adapters/reloadly-giftcards/index.js'
import { startReloadlySimulator, type ReloadlyKnobs } from '../../adapters/reloadly/simulator.js'
import type { HttpCall, PurchaseRequest, SupplierAdapter } from '../../src/domain/supplier.js'

const account = { clientId: 'unit-client-id', clientSecret: 'unit-client-secret', webhookSecret: 'unit-webhook-secret' }
const http: HttpCall = async (r) => {
  const res = await request(r.url, { method: r.method, headers: r.headers, body: r.body, signal: r.signal })
  return { status: res.statusCode, body: await res.body.text() }
}
const ctx = (ms = 2000) => ({ signal: AbortSignal.timeout(ms) })
let n = 0
/** Asks until the answer has `status` (no fixed sleeps: the suite may run under load). */
const eventually = async (ask: () => Promise<{ status: string }>, status: string): Promise<{ status: string }> => {
  for (const end = Date.now() + 5000; ;) {
    const answer = await ask()
    if (answer.status === status || Date.now() > end) return answer
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
const topup = (extra: Partial<PurchaseRequest> = {}): PurchaseRequest =>
  ({ reference: `att_t${++n}`, supplierProductId: '341', supplierParams: { amount: 10 }, quantity: 1, recipient: { phone: `+23480312345${String(n % 100).padStart(2, '0')}` }, ...extra })
const cards = (extra: Partial<PurchaseRequest> = {}): PurchaseRequest =>
  ({ reference: `att_g${++n}`, supplierProductId: '10', supplierParams: { unit_price: 25 }, quantity: 1, recipient: {}, ...extra })

async function setup (t: Test, knobs: Partial<ReloadlyKnobs> = {}, clock?: () => number) {
  const sim = await startReloadlySimulator({ ...account, knobs })
  t.teardown(() => sim.close())
  const config = sim.credentials()
  return {
    sim,
    airtime: createReloadlyAirtimeAdapter(config, sim.airtimeUrl, http, clock),
    giftcards: createReloadlyGiftcardsAdapter(config, sim.giftcardsUrl, http, clock)
  }
}

t.test('one token per product audience, cached, renewed before expiry and after a 401', async (t) => {
  let now = Date.now()
  const { sim, airtime, giftcards } = await setup(t, { tokenTtlSeconds: 3600 }, () => now)
  t.match(await airtime.purchase(topup(), ctx()), { status: 'pending' })
  t.match(await airtime.purchase(topup(), ctx()), { status: 'pending' })
  t.equal(sim.tokensIssued(), 1, 'the token is reused')
  t.match(await giftcards.purchase(cards(), ctx()), { status: 'succeeded' })
  t.equal(sim.tokensIssued(), 2, 'gift cards need their own audience')
  now += (3600 - 301) * 1000
  await airtime.balance!(ctx())
  t.equal(sim.tokensIssued(), 2, 'still fresh outside the 300 s margin')
  now += 2000
  await airtime.balance!(ctx())
  t.equal(sim.tokensIssued(), 3, 'renewed inside the margin, before Reloadly would refuse it')
  sim.expireTokens()
  const ref = topup()
  t.match(await airtime.purchase(ref, ctx()), { status: 'pending' }, 'a 401 TOKEN_EXPIRED is retried once with a new token')
  t.equal(sim.tokensIssued(), 4)
  t.equal(sim.submits.filter((s) => s === ref.reference).length, 1, 'the refused call never reached the API')
})

t.test('no token, no purchase: a refused or failing token endpoint is a retryable failure with nothing sent', async (t) => {
  const { sim } = await setup(t)
  const wrong = createReloadlyAirtimeAdapter({ ...sim.credentials(), client_secret: 'not-the-secret' }, sim.airtimeUrl, http)
  t.match(await wrong.purchase(topup(), ctx()), { status: 'failed', retryable: true, code: 'supplier_auth_failed', message: /HTTP 401 INVALID_CREDENTIALS/ })
  await t.rejects(wrong.getOrder('att_x', ctx()), { name: 'ReloadlyAuthFailed' }, 'a look-up without a token is no answer')
  const { airtime } = await setup(t, { authHttpStatus: 503 })
  t.match(await airtime.purchase(topup(), ctx()), { status: 'failed', retryable: true, code: 'supplier_auth_failed' })
  t.same(sim.submits, [])
})

t.test('airtime: async acceptance, then the list and the live status settle it; webhooks are signed', async (t) => {
  const received: { headers: Record<string, string>, body: string }[] = []
  let refuseFirst = true
  const receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body })
      res.statusCode = refuseFirst ? 500 : 200
      refuseFirst = false
      res.end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => receiver.close())
  const { sim, airtime } = await setup(t, { completeAfterMs: 1000, callbackRetryMs: 20, callbackUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` })
  const order = topup()
  t.match(await airtime.purchase(order, ctx()), { status: 'pending', supplierOrderId: /^\d+$/ })
  t.match(await airtime.getOrder(order.reference, ctx()), { status: 'pending' }, 'PROCESSING (list, then the wrapped live status)')
  sim.knobs.statusShape = 'flat'
  t.match(await airtime.getOrder(order.reference, ctx()), { status: 'pending' }, 'the flat live status too')
  t.match(await eventually(async () => await airtime.getOrder(order.reference, ctx()), 'succeeded'), { status: 'succeeded', codes: [] })
  t.match(await airtime.getOrder('att_nobody', ctx()), { status: 'not_found' })
  await eventually(async () => ({ status: String(sim.callbacks.length) }), '2')
  t.same(sim.callbacks.map((c) => c.status), [500, 200], 'a webhook answered 500 is sent again')
  const last = received.at(-1)!
  t.match(airtime.parseCallback!({ headers: last.headers, contentType: 'application/json', rawBody: last.body }), { verified: true, reference: order.reference })
  t.match(JSON.parse(last.body), { type: 'airtime_transaction.status', data: { customIdentifier: order.reference, status: 'SUCCESSFUL' } })
})

t.test('airtime: PIN operators deliver their PIN; refusals are classified without guessing', async (t) => {
  const { sim, airtime } = await setup(t, { balance: 25 })
  const pin = topup({ supplierProductId: '535', recipient: { phone: '+447951631337' } })
  t.match(await airtime.purchase(pin, ctx()), { status: 'pending' })
  t.match(await airtime.getOrder(pin.reference, ctx()), { status: 'succeeded', codes: [{ code: /^77\d{12}$/, serial: /^SN/, pin: null }] })
  t.match(await airtime.purchase(topup({ supplierProductId: '535', supplierParams: { amount: 7 }, recipient: { phone: '+447951631338' } }), ctx()),
    { status: 'failed', retryable: true, code: 'route_refused' }, 'FIXED denominations only')
  t.match(await airtime.purchase(topup({ recipient: pin.recipient }), ctx()), { status: 'failed', retryable: false, code: 'recipient_invalid' }, 'a GB number for a Nigerian operator')
  t.match(await airtime.purchase(topup({ supplierProductId: '535', recipient: pin.recipient }), ctx()),
    { status: 'failed', retryable: false, code: 'phone_recently_recharged' }, 'the same number within two minutes')
  const submitted = sim.submits.length
  t.match(await airtime.purchase(topup({ recipient: { phone: '+15555555555' } }), ctx()), { status: 'failed', retryable: false, code: 'recipient_invalid' })
  t.equal(sim.submits.length, submitted, 'an impossible number is never sent')
  t.match(await airtime.purchase(topup({ supplierParams: { amount: 20 } }), ctx()), { status: 'failed', retryable: true, code: 'supplier_insufficient_balance' }, '15 left, 20 asked')
  t.same(await airtime.balance!(ctx()), { amount: 1500, currency: 'USD' })
  sim.knobs.refusal = { status: 400, errorCode: 'OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE', message: 'Operator is unavailable' }
  t.match(await airtime.purchase(topup(), ctx()), { status: 'failed', retryable: true, code: 'product_unavailable' })
})

t.test('airtime: a reused customIdentifier is looked up, not failed; failures end as failed', async (t) => {
  const { sim, airtime } = await setup(t, { recentRechargeMs: 0 })
  const order = topup()
  await airtime.purchase(order, ctx())
  t.match(await airtime.purchase(order, ctx()), { status: 'succeeded' }, 'CUSTOM_IDENTIFIER_ALREADY_USED answered by the existing top-up')
  t.equal(sim.submits.filter((s) => s === order.reference).length, 2)
  sim.knobs.finalState = 'failed'
  sim.knobs.failAs = 'REFUNDED'
  const refunded = topup()
  await airtime.purchase(refunded, ctx())
  t.match(await airtime.getOrder(refunded.reference, ctx()), { status: 'failed', retryable: false, code: 'supplier_refunded' })
  t.same(await airtime.balance!(ctx()), { amount: 999000, currency: 'USD' }, 'refunded funds are back')
})

t.test('airtime: faults are thrown for the executor, so the outcome is unknown', async (t) => {
  const { sim, airtime } = await setup(t)
  await airtime.balance!(ctx())
  sim.knobs.httpStatus = 503
  await t.rejects(airtime.purchase(topup(), ctx()), { name: 'ReloadlyUnavailable' })
  sim.knobs.httpStatus = null
  sim.knobs.malformed = true
  await t.rejects(airtime.purchase(topup(), ctx()), { name: 'ReloadlyBadResponse' })
  await t.rejects(airtime.getOrder('att_any', ctx()), { name: 'ReloadlyBadResponse' })
  sim.knobs.malformed = false
  sim.knobs.hang = true
  await t.rejects(airtime.purchase(topup(), ctx(200)), { name: /AbortError|TimeoutError/ })
})

t.test('gift cards: codes only after SUCCESSFUL, in either cards shape', async (t) => {
  const { sim, giftcards } = await setup(t, { completeAfterMs: 1000 })
  const two = cards({ quantity: 2 })
  t.match(await giftcards.purchase(two, ctx()), { status: 'pending', supplierOrderId: /^\d+$/ }, 'PENDING')
  t.match(await giftcards.getOrder(two.reference, ctx()), { status: 'pending' })
  const done = await eventually(async () => await giftcards.getOrder(two.reference, ctx()), 'succeeded')
  t.match(done, { status: 'succeeded', codes: [{ code: /^61202\d{11}$/, pin: /^\d{4}$/ }, { code: /^61202/ }] })
  sim.knobs.completeAfterMs = 0
  sim.knobs.cardsAsObject = true
  t.match(await giftcards.purchase(cards(), ctx()), { status: 'succeeded', codes: [{ code: /^61202/ }] }, 'one card as a single object')
  sim.knobs.finalState = 'failed'
  t.match(await giftcards.purchase(cards(), ctx()), { status: 'failed', retryable: false, code: 'supplier_failed' })
})

t.test('gift cards: look-ups by our reference page through the date-filtered reports', async (t) => {
  const { sim, giftcards } = await setup(t, { maxPageSize: 2 })
  const orders = [cards(), cards(), cards(), cards(), cards()]
  for (const o of orders) await giftcards.purchase(o, ctx())
  // A fresh adapter (another process) does not know the transaction ids.
  const other = createReloadlyGiftcardsAdapter(sim.credentials(), sim.giftcardsUrl, http)
  const before = sim.queries.length
  t.match(await other.getOrder(orders[4]!.reference, ctx()), { status: 'succeeded', codes: [{ code: /^61202/ }] }, 'found on the third page')
  t.equal(sim.queries.length - before, 3, 'pages 1, 2 and 3 read, the customIdentifier filter being ignored')
  t.match(await other.getOrder('att_nobody', ctx()), { status: 'not_found' }, 'absent from every page')
  const known = sim.queries.length
  t.match(await giftcards.getOrder(orders[0]!.reference, ctx()), { status: 'succeeded' })
  t.equal(sim.queries.length - known, 1, 'the placing adapter goes straight to the transaction id')
  t.match(await giftcards.purchase(orders[1]!, ctx()), { status: 'succeeded' }, 'a reused customIdentifier (said in words only) is looked up')
  t.match(await giftcards.purchase(cards({ supplierParams: { unit_price: 30 } }), ctx()), { status: 'failed', retryable: true, code: 'route_refused' }, 'not a FIXED price')
  t.match(await giftcards.purchase(cards({ supplierProductId: '999' }), ctx()), { status: 'failed', retryable: true, code: 'product_unavailable' })
  sim.knobs.balance = 10
  t.match(await giftcards.purchase(cards(), ctx()), { status: 'failed', retryable: true, code: 'supplier_insufficient_balance' })
  t.same(await giftcards.balance!(ctx()), { amount: 1000, currency: 'USD' })
})

t.test('gift cards: the webhook carries the transaction at data.transaction', async (t) => {
  let body = ''
  let headers: Record<string, string> = {}
  const receiver = createServer((req, res) => {
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => { headers = req.headers as Record<string, string>; res.end() })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => receiver.close())
  const { sim, giftcards } = await setup(t, { callbackUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` })
  const order = cards()
  await giftcards.purchase(order, ctx())
  const adapter: SupplierAdapter = giftcards
  await eventually(async () => ({ status: String(sim.callbacks.length) }), '1')
  t.match(JSON.parse(body), { type: 'giftcard_transaction.status', data: { transaction: { customIdentifier: order.reference, status: 'SUCCESSFUL' } } })
  t.match(adapter.parseCallback!({ headers, contentType: 'application/json', rawBody: body }), { verified: true, reference: order.reference })
  t.match(adapter.parseCallback!({ headers, contentType: 'application/json', rawBody: body.replace('SUCCESSFUL', 'FAILED') }), { verified: false })
})
