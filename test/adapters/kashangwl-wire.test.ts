import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { KashangwlRouteParamsSchema } from '../../adapters/kashangwl/config.js'
import { createKashangwlAdapter, kashangwlFactory } from '../../adapters/kashangwl/index.js'
import { formatSafeCost, fromBuy, fromOrder, fromRefusal } from '../../adapters/kashangwl/map.js'
import { startKashangwlSimulator, type KashangwlKnobs } from '../../adapters/kashangwl/simulator.js'
import { KashangwlBuy, KashangwlOrder, kashangwlSign, kashangwlUrl } from '../../adapters/kashangwl/wire.js'
import type { HttpCall, PurchaseRequest } from '../../src/domain/supplier.js'
import { until } from '../webhooks/helpers.js'

const config = { customer_id: '10001', customer_key: 'TESTCUSTOMERKEY' }
const md5 = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex')
const http: HttpCall = async (r) => {
  const res = await request(r.url, { method: r.method, headers: r.headers, body: r.body, signal: r.signal })
  return { status: res.statusCode, body: await res.body.text() }
}
const ctx = (ms = 2000) => ({ signal: AbortSignal.timeout(ms) })
const game = (reference: string, extra: Partial<PurchaseRequest> = {}): PurchaseRequest => ({
  reference, supplierProductId: '41847', supplierParams: {}, quantity: 1, recipient: { account: '10086001', server: '电信一区' }, ...extra
})
const card = (reference: string, extra: Partial<PurchaseRequest> = {}): PurchaseRequest =>
  ({ reference, supplierProductId: '41848', supplierParams: {}, quantity: 1, recipient: {}, ...extra })

async function setup (t: Test, knobs: Partial<KashangwlKnobs> = {}) {
  const sim = await startKashangwlSimulator({ customerId: config.customer_id, customerKey: config.customer_key, knobs: { notify: false, ...knobs } })
  t.teardown(sim.close)
  return { sim, adapter: createKashangwlAdapter(config, { baseUrl: sim.url, http, notifyUrl: 'https://gw.example.com/callbacks/suppliers/ksw-1' }) }
}

t.test('the signature matches the vector of suppliers.md §9 and the doc example', async (t) => {
  const params = {
    customer_id: '10001', timestamp: '1700000000', product_id: '41847', quantity: '1', recharge_account: '13800138000',
    outer_order_id: 'GW20240101000003', notify_url: 'https://gw.example.com/cb/kashangwl'
  }
  t.equal(kashangwlSign(params, 'TESTCUSTOMERKEY'), 'da9c9ca62afdaf4d7c2b912c65c54af2')
  t.equal(kashangwlSign({ ...params, sign: 'anything' }, 'TESTCUSTOMERKEY'), 'da9c9ca62afdaf4d7c2b912c65c54af2', 'sign is not signed')
  // The doc's source string: key, then key+value pairs in key order, no separators.
  t.equal(kashangwlSign({ timestamp: '1626845767', order_id: '827669582783', customer_id: '1192442' }, 'KEY'), md5('KEYcustomer_id1192442order_id827669582783timestamp1626845767'))
})

t.test('template fields are signed under their literal bracketed key, keys in UTF-8 byte order', async (t) => {
  const params = { product_id: '41847', 'recharge_template_input_items[区服]': '电信一区', recharge_account: '10086001', quantity: '1' }
  t.equal(kashangwlSign(params, 'K'), md5('Kproduct_id41847quantity1recharge_account10086001recharge_template_input_items[区服]电信一区'))
  // U+FF01 sorts before U+1F600 by bytes (EF… < F0…) but after it by UTF-16 units (FF01 > D83D).
  t.equal(kashangwlSign({ '😀': 'b', '！': 'a' }, 'K'), md5('K！a😀b'))

  const { sim, adapter } = await setup(t)
  const placed = await adapter.purchase(game('GW-T1', { supplierParams: { server_field: '服务器' } }), ctx())
  t.match(placed, { status: 'pending', supplierOrderId: /^\d+$/ }, 'the simulator verified the signature and took the order')
  t.match(sim.buys[0], { 'recharge_template_input_items[服务器]': '电信一区', recharge_account: '10086001', notify_url: 'https://gw.example.com/callbacks/suppliers/ksw-1', outer_order_id: 'GW-T1' })
  t.notOk('client_ip' in (sim.buys[0] ?? {}), 'client_ip is not sent')
  t.equal(Number(sim.buys[0]?.timestamp), Math.floor(Number(sim.buys[0]?.timestamp)), 'unix seconds')
  t.ok(Math.abs(Number(sim.buys[0]?.timestamp) - Date.now() / 1000) < 60)
  await adapter.purchase(game('GW-T2'), ctx())
  t.equal(sim.buys[1]?.['recharge_template_input_items[区服]'], '电信一区', 'the default template field is 区服')
})

t.test('the simulator verifies JSON bodies too, with template items nested', async (t) => {
  const { sim } = await setup(t)
  const flat = { customer_id: config.customer_id, timestamp: '1700000000', product_id: '41847', quantity: '1', recharge_account: '10086001', outer_order_id: 'GW-J1', 'recharge_template_input_items[区服]': '一区' }
  const body = { ...flat, 'recharge_template_input_items[区服]': undefined, recharge_template_input_items: { 区服: '一区' }, sign: kashangwlSign(flat, config.customer_key) }
  const res = await request(new URL('api/buy', sim.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.match(await res.body.json(), { code: 'ok', data: { order_id: /^\d+$/ } })
  const forged = await request(new URL('api/buy', sim.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, quantity: 2 }) })
  t.match(await forged.body.json(), { code: 'sign_error' })
})

t.test('URLs join under the API root with or without a trailing slash', async (t) => {
  t.equal(kashangwlUrl('http://www.kashangwl.com/', 'api/buy'), 'http://www.kashangwl.com/api/buy')
  t.equal(kashangwlUrl('http://www.kashangwl.com', 'api/buy'), 'http://www.kashangwl.com/api/buy')
  t.equal(kashangwlUrl('https://proxy.example/ksw', 'api/outer-order'), 'https://proxy.example/ksw/api/outer-order')
  const { sim } = await setup(t)
  const adapter = createKashangwlAdapter(config, { baseUrl: sim.url.replace(/\/$/, ''), http, notifyUrl: 'https://gw.example/cb' })
  t.match(await adapter.purchase(game('GW-U1'), ctx()), { status: 'pending' })
})

t.test('states: 100/101/501 pending, 200 succeeded, 500 failed, anything else unknown', async (t) => {
  const buy = (state: unknown, extra: object = {}) => fromBuy(KashangwlBuy.parse({ order_id: 557305089422, state, ...extra }), 1)
  t.same(buy(100), { status: 'pending', supplierOrderId: '557305089422' }, 'numeric order ids become strings')
  t.match(buy('101'), { status: 'pending' })
  t.match(buy(501), { status: 'pending' }, '501 未知状态 is not final')
  t.match(buy(500), { status: 'failed', retryable: false, code: 'supplier_failed' })
  t.match(buy(302), { status: 'unknown' })
  t.match(buy(200), { status: 'pending' }, 'a success without codes waits for the query to name the product type')
  t.match(buy(200, { cards: [{ card_no: 'vip009', card_password: 'DDd2kpCxZosyy7d', expired_at: '2022-12-31 00:00:00' }] }),
    { status: 'succeeded', codes: [{ code: 'vip009', pin: 'DDd2kpCxZosyy7d', expiresAt: '2022-12-31T00:00:00+08:00' }] })

  const order = (fields: object) => fromOrder(KashangwlOrder.parse({ id: '1', outer_order_id: 'GW-1', state: 200, quantity: 1, ...fields }), 'GW-1')
  t.same(order({ product_type: 1 }), { status: 'succeeded', supplierOrderId: '1', codes: [] }, 'a direct top-up succeeds without codes')
  t.match(order({ product_type: 2 }), { status: 'pending' }, 'a card order without its codes waits')
  t.match(order({ product_type: 2, cards: [{ no: 'N1', password: 'P1' }] }), { status: 'succeeded', codes: [{ code: 'N1', pin: 'P1' }] }, 'detail card fields read too')
  t.match(order({ product_type: 3, tickets: [{ no: '', ticket: 'https://oss.example/t.png', expired_at: '' }] }), { status: 'succeeded', codes: [{ code: 'https://oss.example/t.png', serial: null, expiresAt: null }] })
  t.match(order({ product_type: 2, quantity: 2, cards: [{ card_no: 'N1', card_password: 'P1' }] }), { status: 'pending' }, 'fewer codes than bought: wait')
  t.match(order({}), { status: 'unknown' }, 'success without codes of an unknown product type is held')
  t.match(order({ recharge_account: '10086001' }), { status: 'succeeded', codes: [] })
  t.match(order({ state: 501 }), { status: 'pending' })
  t.match(fromOrder(KashangwlOrder.parse({ id: '1', outer_order_id: 'GW-2', state: 200, product_type: 1 }), 'GW-1'), { status: 'unknown' }, 'another reference is not ours')

  const { sim, adapter } = await setup(t, { completeAfterMs: 100, holdUnknown: true })
  t.match(await adapter.purchase(game('GW-S1'), ctx()), { status: 'pending' })
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.match(await adapter.getOrder('GW-S1', ctx()), { status: 'pending' }, 'held at 501')
  sim.knobs.holdUnknown = false
  t.match(await adapter.getOrder('GW-S1', ctx()), { status: 'succeeded', codes: [] })
  t.match(await adapter.getOrder('GW-nothing', ctx()), { status: 'not_found' })
})

t.test('safe_cost: validated, formatted as kashangwl writes prices, enforced by the platform', async (t) => {
  const cost = (v: unknown) => {
    const parsed = KashangwlRouteParamsSchema.safeParse({ safe_cost: v })
    return parsed.success && parsed.data.safe_cost !== undefined ? formatSafeCost(parsed.data.safe_cost) : null
  }
  t.equal(cost('3'), '3.00')
  t.equal(cost(' 3.5 '), '3.50')
  t.equal(cost('03.1234'), '3.1234')
  t.equal(cost(10), '10.00')
  t.equal(cost(2.5), '2.50')
  for (const bad of ['0', '0.00', '-1', '3.12345', '1e3', 'abc', '', 0.1 + 0.2]) t.equal(cost(bad), null, `refuses ${String(bad)}`)

  const { sim, adapter } = await setup(t)
  t.match(await adapter.purchase(game('GW-C1', { supplierParams: { safe_cost: '3.5' } }), ctx()), { status: 'pending' })
  t.equal(sim.buys[0]?.safe_cost, '3.50')
  t.match(await adapter.purchase(game('GW-C2', { supplierParams: { safe_cost: '2.99' } }), ctx()), { status: 'failed', retryable: true, code: 'price_above_safe_cost' })
  await adapter.purchase(game('GW-C3'), ctx())
  t.notOk('safe_cost' in (sim.buys[2] ?? {}), 'absent unless the route sets it')
  const before = sim.submits.length
  t.match(await adapter.purchase(game('GW-C4', { supplierParams: { safe_cost: 'cheap' } }), ctx()), { status: 'failed', retryable: true, code: 'route_params_invalid' })
  t.match(await adapter.purchase(game('GW-C5', { supplierProductId: 'abc' }), ctx()), { status: 'failed', retryable: true, code: 'route_params_invalid' })
  t.equal(sim.submits.length, before, 'nothing is sent on a route that cannot be read')
})

t.test('notifies verify with the customer key; cards and tickets are outside the signature', async (t) => {
  const adapter = createKashangwlAdapter(config, { baseUrl: 'http://127.0.0.1:1/', http, notifyUrl: 'https://gw.example/cb' })
  const fields = { order_id: '557305089422', outer_order_id: 'att_1', product_id: '41848', quantity: '1', state: '200', state_info: '交易成功', created_at: '2024-01-01 12:00:00', timestamp: '1700000000', customer_id: '10001' }
  const form = (extra: Record<string, string>, key = config.customer_key) =>
    ({ headers: {}, contentType: 'application/x-www-form-urlencoded', rawBody: new URLSearchParams({ ...fields, sign: kashangwlSign(fields, key), ...extra }).toString() })
  const cards = JSON.stringify([{ card_no: 'KSW1', card_password: 'secret' }])
  t.same(adapter.parseCallback?.(form({ cards, tickets: 'W10=' })), { verified: true, reference: 'att_1', ack: { status: 200, contentType: 'text/plain', body: 'ok' } })
  t.match(adapter.parseCallback?.(form({ cards: '[]' })), { verified: true }, 'other cards, same signature')
  t.match(adapter.parseCallback?.(form({ 'cards[0][card_no]': 'KSW1', 'cards[0][card_password]': 'secret', 'tickets[0][ticket]': 'x' })), { verified: true }, 'PHP-style nested lists are unsigned too')
  const signedWithCards = { ...fields, cards }
  t.match(adapter.parseCallback?.({ headers: {}, contentType: 'application/x-www-form-urlencoded', rawBody: new URLSearchParams({ ...signedWithCards, sign: kashangwlSign(signedWithCards, config.customer_key) }).toString() }),
    { verified: false }, 'a signature that covers cards is not the platform’s')
  t.match(adapter.parseCallback?.(form({ state: '500' })), { verified: false, reason: /signature/ }, 'a changed state breaks it')
  t.match(adapter.parseCallback?.(form({}, 'another-key')), { verified: false, reason: /signature/ })
  const wrongCustomer = { ...fields, customer_id: '99999' }
  const res = adapter.parseCallback?.({ headers: {}, contentType: 'application/x-www-form-urlencoded', rawBody: new URLSearchParams({ ...wrongCustomer, sign: kashangwlSign(wrongCustomer, config.customer_key) }).toString() })
  t.match(res, { verified: false, reason: /customer_id/ })
  t.not(res?.ack.body, 'ok', 'a refused notify is not acknowledged')
  t.match(adapter.parseCallback?.({ headers: {}, contentType: 'application/json', rawBody: JSON.stringify({ ...fields, state: 200, sign: kashangwlSign(fields, config.customer_key), cards: [] }) }), { verified: true }, 'a JSON notify is read too')
  t.match(adapter.parseCallback?.({ headers: {}, contentType: 'text/plain', rawBody: '' }), { verified: false, ack: { status: 400, body: 'fail' } })
})

t.test('a notify not answered ok is sent 3 times, then given up; one answered ok is sent once', async (t) => {
  const adapter = createKashangwlAdapter(config, { baseUrl: 'http://127.0.0.1:1/', http, notifyUrl: '' })
  const received: { verified: boolean }[] = []
  let refuse = true
  const receiver = createServer((req, res) => {
    let raw = ''
    req.on('data', (d: Buffer) => { raw += d.toString() })
    req.on('end', () => {
      const parsed = adapter.parseCallback?.({ headers: {}, contentType: req.headers['content-type'] ?? '', rawBody: raw })
      received.push({ verified: parsed?.verified ?? false })
      res.statusCode = 200
      res.end(refuse ? 'received' : parsed?.ack.body)
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => receiver.close(() => resolve())))
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks/suppliers/ksw-1`
  const { sim, adapter: buyer } = await setup(t, { notify: true, callbackUrl: url, notifyRetryMs: 100, completeAfterMs: 20 })
  await buyer.purchase(card('GW-N1'), ctx())
  await until(() => sim.callbacks.length >= 3, 5000)
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.equal(sim.callbacks.length, 3, 'three notifications in all')
  t.ok(sim.callbacks.every((c) => c.reference === 'GW-N1' && c.status === 200 && c.body === 'received'))
  t.ok(received.every((r) => r.verified), 'each one verified by the adapter (cards included, unsigned)')
  refuse = false
  await buyer.purchase(card('GW-N2'), ctx())
  await until(() => sim.callbacks.some((c) => c.reference === 'GW-N2'), 5000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(sim.callbacks.filter((c) => c.reference === 'GW-N2').map((c) => c.body), ['ok'], 'answered ok: not sent again')
})

t.test('card orders: codes from the buy answer, or from the query when the buy omits them', async (t) => {
  const { sim, adapter } = await setup(t)
  const placed = await adapter.purchase(card('GW-K1', { quantity: 2 }), ctx())
  t.match(placed, { status: 'succeeded', codes: [{ code: /^KSW\d+0$/, pin: /^[0-9a-f]{16}$/, expiresAt: '2030-12-31T23:59:59+08:00' }, { code: /^KSW\d+1$/ }] })
  sim.knobs.omitCodesOnBuy = true
  t.match(await adapter.purchase(card('GW-K2'), ctx()), { status: 'pending' }, 'no cards in the buy answer: pending')
  t.match(await adapter.getOrder('GW-K2', ctx()), { status: 'succeeded', codes: [{ code: /^KSW/ }] }, 'the query delivers them')
  t.match(await adapter.purchase(card('GW-K3', { supplierProductId: '41849' }), ctx()), { status: 'pending' })
  t.match(await adapter.getOrder('GW-K3', ctx()), { status: 'succeeded', codes: [{ code: /^https:\/\/oss\./, serial: /^T\d+/ }] }, 'coupons too')
})

t.test('refusals: classified by message, the duplicate reference looked up, transport trouble thrown', async (t) => {
  t.match(fromRefusal('x', '充值账号格式不正确'), { retryable: false, code: 'recipient_invalid' })
  t.match(fromRefusal('x', '手机号码错误'), { retryable: false, code: 'recipient_invalid' })
  t.match(fromRefusal('x', '商家账号余额不足'), { retryable: true, code: 'supplier_insufficient_balance' }, 'our own account is not the recipient')
  t.match(fromRefusal('x', '充值账号不能为空'), { retryable: true }, 'a missing account is a route mismatch')
  t.match(fromRefusal('x', '商品不存在'), { retryable: true, code: 'product_unavailable' })
  t.match(fromRefusal('x', '该商品已下架'), { retryable: true, code: 'product_unavailable' })
  t.match(fromRefusal('x', '商品库存不足'), { retryable: true, code: 'product_unavailable' })
  t.match(fromRefusal('x', '商品价格高于安全成本'), { retryable: true, code: 'price_above_safe_cost' })
  t.match(fromRefusal('x', '下单过于频繁'), { retryable: true, code: 'rate_limited' })
  t.match(fromRefusal('Some Code!', '未知错误'), { status: 'unknown', reason: /kashangwl refusal some_code/ }, 'unrecognised: asked about, never bought elsewhere')

  const { sim, adapter } = await setup(t, { finalState: 'failed' })
  sim.knobs.badAccounts = ['bad']
  t.match(await adapter.purchase(game('GW-R1', { recipient: { account: 'bad', server: '一区' } }), ctx()), { status: 'failed', retryable: false, code: 'recipient_invalid' })
  t.match(await adapter.purchase(game('GW-R2', { supplierProductId: '1' }), ctx()), { status: 'failed', retryable: true, code: 'product_unavailable' })
  t.match(await adapter.purchase(game('GW-R3'), ctx()), { status: 'failed', retryable: false, code: 'supplier_failed' })
  const queries = sim.queries.length
  t.match(await adapter.purchase(game('GW-R3'), ctx()), { status: 'failed', code: 'supplier_failed' }, 'a reused outer_order_id is looked up, not refused')
  t.equal(sim.queries.length, queries + 1)
  t.match(await adapter.purchase(game('GW-R4', { recipient: { phone: '+8613800138000' } }), ctx()), { status: 'failed', code: 'supplier_failed' })
  t.equal(sim.buys.at(-1)?.recharge_account, '13800138000', 'a Chinese mobile number goes without +86')

  const wrong = createKashangwlAdapter({ ...config, customer_key: 'wrong' }, { baseUrl: sim.url, http, notifyUrl: '' })
  t.match(await wrong.purchase(game('GW-R5'), ctx()), { status: 'failed', retryable: true, code: 'supplier_auth_failed' })
  sim.knobs.httpStatus = 502
  await t.rejects(adapter.purchase(game('GW-R6'), ctx()), { name: 'KashangwlUnavailable' })
  sim.knobs.httpStatus = null
  sim.knobs.malformed = true
  await t.rejects(adapter.getOrder('GW-R3', ctx()))
  sim.knobs.malformed = false
  sim.knobs.hang = true
  await t.rejects(adapter.purchase(game('GW-R7'), ctx(200)), { name: /AbortError|TimeoutError/ })
})

t.test('the rate limit: declared, and enforced by the simulator per sliding window', async (t) => {
  const { sim, adapter } = await setup(t, { rateLimit: { max: 20, windowMs: 400 } })
  t.same(adapter.purchaseLimit, { max: 20, windowMs: 6000 })
  const first = await Promise.all(Array.from({ length: 21 }, async (_, i) => await adapter.purchase(game(`GW-L${i}`), ctx())))
  t.equal(first.filter((r) => r.status === 'pending').length, 20)
  t.match(first.filter((r) => r.status === 'failed'), [{ retryable: true, code: 'rate_limited' }], 'the 21st is refused, nothing bought')
  t.equal(sim.rateLimited.length, 1)
  await new Promise((resolve) => setTimeout(resolve, 450))
  t.match(await adapter.purchase(game('GW-L21'), ctx()), { status: 'pending' }, 'accepted once the window has passed')
})

t.test('balance and the factory', async (t) => {
  const { sim, adapter } = await setup(t, { balance: '1234.5678' })
  t.same(await adapter.balance?.(ctx()), { amount: 123456, currency: 'CNY' }, 'yuan to fen, a fraction of a fen dropped')
  t.same(kashangwlFactory.credentials.parse({ customer_id: 10001, customer_key: 'k' }), { customer_id: '10001', customer_key: 'k' })
  t.notOk(kashangwlFactory.credentials.safeParse({ customer_id: 'abc', customer_key: 'k' }).success)
  const built = kashangwlFactory.create({ credentials: config, baseUrl: sim.url, http, supplierId: 'ksw-main', publicBaseUrl: 'https://gw.example' })
  await built.purchase(game('GW-F1'), ctx())
  t.equal(sim.buys.at(-1)?.notify_url, 'https://gw.example/callbacks/suppliers/ksw-main')
})
