import * as dns from 'node:dns'
import type { LookupAddress } from 'node:dns'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import t, { type Test } from 'tap'
import { startDispatcher } from '../../src/webhooks/dispatcher.js'
import { build, type TestApp } from '../helper.js'
import { cardSku, createReseller } from '../v1/helpers.js'
import { receiver, until } from './helpers.js'
import { createSupplier, fuluSim, route } from '../suppliers/helpers.js'

function dispatcher (t: Test, ta: TestApp, scheduleMs: number[]) {
  const d = startDispatcher({ sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs, timeoutMs: 2000, pollIntervalMs: 20, allowPrivate: true })
  t.teardown(() => d.stop())
  return d
}

const ENV = { CALLBACK_ALLOW_PRIVATE: 'true' }

t.test('a succeeded order is announced once, signed per Standard Webhooks, without codes', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-hook', 100, 2)
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  const order = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-1', sku: 'gc-hook' } })
  t.equal(order.statusCode, 201)
  dispatcher(t, ta, [0, 100])
  await until(() => hook.received.length === 1)
  const [got] = hook.received
  const verified = new Webhook(rsl.webhookSecret).verify(got!.body, got!.headers as Record<string, string>) as { type: string, data: { id: string, deliveries: Record<string, unknown>[] } }
  t.equal(verified.type, 'order.succeeded', 'the official verifier accepts it')
  t.equal(verified.data.id, order.json().id)
  t.match(got!.headers['webhook-id'], /^evt_/)
  t.same(verified.data.deliveries.map((d) => Object.keys(d).sort()), [['expires_at', 'serial', 'type']], 'no code or pin in the callback')
  t.notOk(got!.body.includes(order.json().deliveries[0].code))
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(hook.received.length, 1, 'sent once')
  const [row] = await ta.database.sql`select status, attempts from webhook_events`
  t.same(row, { status: 'delivered', attempts: 1 })
})

t.test('codes go along for resellers who opted in', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-hook2', 100, 1)
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url, callback_includes_codes: true }, 1000)
  const order = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-2', sku: 'gc-hook2' } })
  dispatcher(t, ta, [0])
  await until(() => hook.received.length === 1)
  const body = JSON.parse(hook.received[0]!.body) as { data: { deliveries: { code: string }[] } }
  t.equal(body.data.deliveries[0]?.code, order.json().deliveries[0].code)
  const [stored] = await ta.database.sql<{ payload: string }[]>`select payload::text from webhook_events`
  t.notOk(stored!.payload.includes(order.json().deliveries[0].code), 'the outbox row never holds the code')
})

t.test('a receiver failing twice gets the event on the third attempt with the same webhook-id', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-retry', 100, 1)
  const hook = await receiver(t, [500, 503])
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-3', sku: 'gc-retry' } })
  dispatcher(t, ta, [0, 50, 50, 50])
  await until(() => hook.received.length === 3)
  t.equal(new Set(hook.received.map((r) => r.headers['webhook-id'])).size, 1, 'stable webhook-id')
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'delivered')
  const attempts = await ta.database.sql`select status_code from webhook_attempts order by id`
  t.same(attempts.map((a) => a.status_code), [500, 503, 200], 'every attempt recorded')
})

t.test('a receiver down for the whole schedule leaves the event failed; redelivery then succeeds', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-down', 100, 1)
  const hook = await receiver(t, [500, 500, 500])
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-4', sku: 'gc-down' } })
  dispatcher(t, ta, [0, 30, 30])
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'failed')
  t.equal(hook.received.length, 3, 'the whole schedule was tried')
  const list = await ta.app.inject({ method: 'GET', url: '/v1/webhook-events', headers: rsl.bearer })
  t.match(list.json().data[0], { status: 'failed', attempts: 3, last_error: 'HTTP 500' })
  // The merchant fixes its endpoint (a new URL), then asks for the event again.
  const fixed = await receiver(t)
  await ta.app.inject({ method: 'PATCH', url: `/admin/v1/resellers/${rsl.id}`, headers: ta.auth('admin'), payload: { callback_url: fixed.url } })
  const again = await ta.app.inject({ method: 'POST', url: `/v1/webhook-events/${list.json().data[0].id}/redeliver`, headers: rsl.bearer })
  t.equal(again.statusCode, 202)
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'delivered')
  t.equal(hook.received.length, 3, 'the old endpoint got nothing more')
  t.equal(fixed.received.length, 1, 'the redelivery went to the current URL')
  const other = await createReseller(ta)
  const foreign = await ta.app.inject({ method: 'POST', url: `/v1/webhook-events/${list.json().data[0].id}/redeliver`, headers: other.bearer })
  t.equal(foreign.statusCode, 404, 'another reseller\'s event is not found')
})

t.test('410 stops further attempts', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-gone', 100, 1)
  const hook = await receiver(t, [410])
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-5', sku: 'gc-gone' } })
  dispatcher(t, ta, [0, 10, 10, 10])
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'failed')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(hook.received.length, 1)
})

t.test('during a secret rotation both signatures are sent; either secret verifies', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-rot', 100, 1)
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  const rotated = await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${rsl.id}/webhook-secret/rotate`, headers: ta.auth('admin'), payload: { overlap_seconds: 3600 } })
  t.equal(rotated.statusCode, 200)
  const fresh = rotated.json().webhook_secret as string
  t.match(fresh, /^whsec_/)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-6', sku: 'gc-rot' } })
  dispatcher(t, ta, [0])
  await until(() => hook.received.length === 1)
  const got = hook.received[0]!
  t.equal(String(got.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the overlap')
  const twice = await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${rsl.id}/webhook-secret/rotate`, headers: ta.auth('admin'), payload: {} })
  t.equal(twice.statusCode, 409, 'no second rotation inside the overlap (it would drop a secret still in use)')
  t.doesNotThrow(() => new Webhook(rsl.webhookSecret).verify(got.body, got.headers as Record<string, string>), 'old secret verifies')
  t.doesNotThrow(() => new Webhook(fresh).verify(got.body, got.headers as Record<string, string>), 'new secret verifies')
})

t.test('when private targets are not allowed, a callback to a local name is refused at send time', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-ssrf', 100, 1)
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url.replace('127.0.0.1', 'localhost') }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-7', sku: 'gc-ssrf' } })
  const strict = startDispatcher({ sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs: [0], timeoutMs: 2000, pollIntervalMs: 20, allowPrivate: false })
  t.teardown(() => strict.stop())
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'failed')
  t.equal(hook.received.length, 0, 'nothing was sent')
  // Plain http fails the URL check first; an https name resolving privately fails in the guarded DNS lookup (test/webhooks/ssrf.test.ts).
  const [event] = await ta.database.sql`select last_error, attempts from webhook_events`
  t.match(event, { last_error: /callback URL not allowed/, attempts: 0 }, 'refused by policy, not counted as a merchant failure')
  const seen = await ta.app.inject({ method: 'GET', url: '/v1/webhook-events', headers: rsl.bearer })
  t.equal(seen.json().data[0].last_error, 'callback URL refused by the gateway\'s callback policy', 'the reseller reads the class, not the rule')
})

t.test('a host resolving to a private address: the reseller reads neither host nor address, operators read the detail', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-rebind', 100, 1)
  const host = 'hooks.merchant.example'
  const rsl = await createReseller(ta, { callback_url: `https://${host}/egw` }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-10', sku: 'gc-rebind' } })
  // The resolver answers with an internal address, as a split-horizon or rebinding DNS would.
  const lookup = (_host: string, _options: object, callback: (err: null, addresses: LookupAddress[]) => void): void => callback(null, [{ address: '10.20.30.40', family: 4 }])
  const { startDispatcher: startResolving } = await t.mockImport<typeof import('../../src/webhooks/dispatcher.js')>('../../src/webhooks/dispatcher.js', { 'node:dns': { ...dns, lookup } })
  const strict = startResolving({ sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs: [0, 60_000], timeoutMs: 2000, pollIntervalMs: 20, allowPrivate: false })
  t.teardown(() => strict.stop())
  await until(async () => (await ta.database.sql`select attempts from webhook_events`)[0]?.attempts === 1)

  const list = await ta.app.inject({ method: 'GET', url: '/v1/webhook-events', headers: rsl.bearer })
  const seen = list.json().data[0] as { id: string, last_error: string }
  t.equal(seen.last_error, 'host name did not resolve to a public address')
  t.notOk(seen.last_error.includes(host), 'the reseller\'s view does not name the host')
  t.notOk(list.body.includes('10.20.30.40'), 'nor the address')
  const again = await ta.app.inject({ method: 'POST', url: `/v1/webhook-events/${seen.id}/redeliver`, headers: rsl.bearer })
  t.equal(again.json().last_error, 'host name did not resolve to a public address', 'nor does the redelivery answer')

  const admin = await ta.app.inject({ method: 'GET', url: `/admin/v1/webhook-events?reseller_id=${rsl.id}`, headers: ta.auth('support') })
  t.equal(admin.json().data[0].last_error, `${host} resolves to a non-public address`, 'operators keep the detail')
})

t.test('Retry-After is honoured within bounds', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-later', 100, 1)
  const hook = await receiver(t, [429])
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-8', sku: 'gc-later' } })
  // The schedule says 100 ms; the receiver asks for 1 s, within [base, max(2×base, 1 s)].
  dispatcher(t, ta, [0, 100, 100])
  await until(() => hook.received.length === 2)
  const gap = hook.received[1]!.at - hook.received[0]!.at
  t.ok(gap >= 900 && gap < 2500, `second attempt ${gap} ms after the first`)
})

t.test('a literal private address written while private targets were allowed is refused when sending', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-literal', 100, 1)
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-9', sku: 'gc-literal' } })
  const strict = startDispatcher({ sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs: [0], timeoutMs: 2000, pollIntervalMs: 20, allowPrivate: false })
  t.teardown(() => strict.stop())
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'failed')
  t.equal(hook.received.length, 0)
  const [event] = await ta.database.sql`select last_error from webhook_events`
  t.match(event?.last_error, /callback URL not allowed/)
})

t.test('a dispatcher that lost its lease records its attempt but cannot overwrite the new holder', async (t) => {
  const ta = await build(t, ENV)
  await cardSku(ta, 'gc-lease', 100, 1)
  let release: () => void = () => {}
  const answered = new Promise<void>((resolve) => { release = resolve })
  const received: string[] = []
  const server = createServer((req, res) => {
    received.push(String(req.headers['webhook-id']))
    req.resume()
    // Answer only once the test has handed the event to "another process".
    void answered.then(() => { res.statusCode = 200; res.end() })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const rsl = await createReseller(ta, { callback_url: url }, 1000)
  await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-10', sku: 'gc-lease' } })
  const a = startDispatcher({ sql: ta.database.sql, keyring: ta.keyring, log: ta.app.log, scheduleMs: [0, 60_000], timeoutMs: 5000, pollIntervalMs: 3_600_000, allowPrivate: true })
  t.teardown(() => a.stop())
  const pass = a.runOnce()
  await until(() => received.length === 1)
  // Another process took the event over (as if A's lease had run out while it stalled).
  await ta.database.sql`update webhook_events set lease_token = 'stolen', lease_until = now() + interval '1 minute'`
  release()
  await pass
  const [event] = await ta.database.sql`select status, attempts, lease_token from webhook_events`
  t.same(event, { status: 'pending', attempts: 0, lease_token: 'stolen' }, 'the new holder\'s claim is untouched')
  const [attempts] = await ta.database.sql`select count(*)::int as n, max(status_code) as code from webhook_attempts`
  t.same(attempts, { n: 1, code: 200 }, 'the late attempt is still on record')
})


t.test('a supplier-delivered order: the callback carries the order as served and, opted in, its codes', async (t) => {
  const ta = await build(t, ENV)
  const sim = await fuluSim(t)
  await createSupplier(ta, 'hook-fulu', sim.url)
  const sku = await ta.app.inject({
    method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'),
    payload: {
      sku: 'gc-supplied', name: 'Supplied card', category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: 100, currency: 'CNY',
      fulfilment: { routes: [route('hook-fulu', 1, { supplier_product_id: '10000497', supplier_params: { kind: 'card' } })] }
    }
  })
  t.equal(sku.statusCode, 201)
  await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: [{ sku: 'gc-supplied', price: 100 }] })
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url, callback_includes_codes: true }, 1000)
  const placed = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: rsl.bearer, payload: { client_order_id: 'H-S', sku: 'gc-supplied', quantity: 2, recipient: {} } })
  t.equal(placed.statusCode, 201)
  const order = placed.json() as { status: string, deliveries: { code: string, pin: string | null }[] }
  t.equal(order.status, 'succeeded')
  t.equal(order.deliveries.length, 2)
  dispatcher(t, ta, [0])
  await until(() => hook.received.length === 1)
  const body = JSON.parse(hook.received[0]!.body) as { type: string, data: Record<string, unknown> & { deliveries: { code: string, pin: string | null }[] } }
  t.equal(body.type, 'order.succeeded')
  const { deliveries, ...fields } = body.data
  const { deliveries: served, ...servedFields } = order
  t.same(fields, servedFields, 'the order as the API served it, completed_at included')
  t.same(deliveries.map((d) => [d.code, d.pin]), served.map((d) => [d.code, d.pin]), 'the supplier codes, sealed and opened again')
})
