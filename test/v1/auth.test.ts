import t from 'tap'
import { build } from '../helper.js'
import { cardSku, createReseller, signed } from './helpers.js'

t.test('bearer and signed requests, and each authentication failure with its own code', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-auth', 100, 3)
  const rsl = await createReseller(ta, {}, 1000)
  const get = async (headers: Record<string, string>, url = '/v1/balance') => await ta.app.inject({ method: 'GET', url, headers })

  t.equal((await get(rsl.bearer)).statusCode, 200, 'bearer works')
  t.equal((await get(signed(rsl, 'GET', '/v1/balance'))).statusCode, 200, 'signed works')
  t.equal((await get(signed(rsl, 'GET', '/v1/products?limit=2'), '/v1/products?limit=2')).statusCode, 200, 'the query string is signed as sent')

  const body = JSON.stringify({ client_order_id: 'S-1', sku: 'gc-auth' })
  const post = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...signed(rsl, 'POST', '/v1/orders', body), 'content-type': 'application/json' }, payload: body })
  t.equal(post.statusCode, 201, 'signed POST with a body')

  const cases: [string, Record<string, string>, string, number][] = [
    ['no credentials', {}, 'unauthorized', 401],
    ['unknown bearer', { authorization: 'Bearer sk_nope' }, 'unauthorized', 401],
    ['operator token', ta.auth('admin'), 'unauthorized', 401],
    ['partial signature headers', { 'x-egw-key': rsl.keyId }, 'unauthorized', 401],
    ['unknown key id', signed({ keyId: 'ak_unknown', secret: rsl.secret }, 'GET', '/v1/balance'), 'unauthorized', 401],
    ['wrong secret', signed({ keyId: rsl.keyId, secret: 'sk_wrong' }, 'GET', '/v1/balance'), 'signature_invalid', 401],
    ['signed for another path', signed(rsl, 'GET', '/v1/ledger'), 'signature_invalid', 401],
    ['old timestamp', signed(rsl, 'GET', '/v1/balance', '', { timestamp: Math.floor(Date.now() / 1000) - 600 }), 'timestamp_out_of_window', 401],
    ['future timestamp', signed(rsl, 'GET', '/v1/balance', '', { timestamp: Math.floor(Date.now() / 1000) + 600 }), 'timestamp_out_of_window', 401],
    ['short nonce', signed(rsl, 'GET', '/v1/balance', '', { nonce: 'short' }), 'unauthorized', 401]
  ]
  for (const [name, headers, code, status] of cases) {
    const res = await get(headers)
    t.equal(res.statusCode, status, name)
    t.equal(res.json().code, code, name)
  }

  const stale = Math.floor(Date.now() / 1000) - 600
  const probeUnknown = await get(signed({ keyId: 'ak_unknown', secret: 'x' }, 'GET', '/v1/balance', '', { timestamp: stale }))
  const probeKnown = await get(signed(rsl, 'GET', '/v1/balance', '', { timestamp: stale }))
  t.equal(probeUnknown.json().code, probeKnown.json().code, 'a stale request does not reveal whether the key id exists')

  const tampered = signed(rsl, 'POST', '/v1/orders', body)
  const changed = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...tampered, 'content-type': 'application/json' }, payload: body.replace('S-1', 'S-2') })
  t.equal(changed.json().code, 'signature_invalid', 'the body is covered by the signature')

  const once = signed(rsl, 'GET', '/v1/balance', '', { nonce: 'nonce-used-only-once-0001' })
  t.equal((await get(once)).statusCode, 200)
  const replay = await get(once)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'replayed_request', 'a nonce works once')
  const badThenGood = signed({ keyId: rsl.keyId, secret: 'sk_wrong' }, 'GET', '/v1/balance', '', { nonce: 'nonce-not-burnt-by-bad-sig' })
  t.equal((await get(badThenGood)).json().code, 'signature_invalid')
  t.equal((await get(signed(rsl, 'GET', '/v1/balance', '', { nonce: 'nonce-not-burnt-by-bad-sig' }))).statusCode, 200, 'a bad signature does not burn the nonce')
  t.notOk(ta.logs.text().includes(rsl.secret), 'the secret never reaches the log')
})

t.test('signature_only accounts refuse bearer; revoked keys stop; suspended resellers get 403', async (t) => {
  const ta = await build(t)
  const strict = await createReseller(ta, { auth_mode: 'signature_only' })
  const bearer = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: strict.bearer })
  t.equal(bearer.statusCode, 403)
  t.match(bearer.json(), { code: 'forbidden', detail: /signed requests only/ })
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: signed(strict, 'GET', '/v1/balance') })).statusCode, 200)

  const rsl = await createReseller(ta)
  const second = await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${rsl.id}/api-keys`, headers: ta.auth('admin') })
  t.equal(second.statusCode, 201)
  const other = { authorization: `Bearer ${second.json().secret}` }
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: other })).statusCode, 200)
  const revoked = await ta.app.inject({ method: 'DELETE', url: `/admin/v1/resellers/${rsl.id}/api-keys/${rsl.keyId}`, headers: ta.auth('admin') })
  t.ok(revoked.json().revoked_at)
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })).statusCode, 401, 'revoked key refused at once')
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: signed(rsl, 'GET', '/v1/balance') })).statusCode, 401, 'for signatures too')
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: other })).statusCode, 200, 'the other key keeps working')

  await ta.app.inject({ method: 'PATCH', url: `/admin/v1/resellers/${rsl.id}`, headers: ta.auth('admin'), payload: { status: 'suspended' } })
  for (const url of ['/v1/balance', '/v1/products', '/v1/orders', '/v1/ledger']) {
    const res = await ta.app.inject({ method: 'GET', url, headers: other })
    t.equal(res.statusCode, 403, `suspended: ${url}`)
    t.equal(res.json().code, 'forbidden')
  }
  const post = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: other, payload: { client_order_id: 'X', sku: 'x' } })
  t.equal(post.statusCode, 403)
})

t.test('IP allowlist is checked after authentication', async (t) => {
  const ta = await build(t)
  const rsl = await createReseller(ta, { ip_allowlist: ['203.0.113.0/24', '2001:db8::/32'] })
  const from = async (ip: string, headers = rsl.bearer) => await ta.app.inject({ method: 'GET', url: '/v1/balance', headers, remoteAddress: ip })
  t.equal((await from('203.0.113.7')).statusCode, 200)
  t.equal((await from('::ffff:203.0.113.8')).statusCode, 200, 'IPv4-mapped IPv6')
  t.equal((await from('2001:db8::1')).statusCode, 200)
  const outside = await from('198.51.100.1')
  t.equal(outside.statusCode, 403)
  t.equal(outside.json().code, 'ip_not_allowed')
  const unauthenticated = await from('198.51.100.1', { authorization: 'Bearer sk_nope' })
  t.equal(unauthenticated.json().code, 'unauthorized', 'bad credentials are reported before the allowlist')
  const bad = await ta.app.inject({ method: 'POST', url: '/admin/v1/resellers', headers: ta.auth('admin'), payload: { name: 'x', tier: 'standard', currency: 'CNY', ip_allowlist: ['10.0.0.0/33'] } })
  t.equal(bad.statusCode, 400)
})

t.test('a signed order records its nonce with the order: it works once, refused or not', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-signed', 100, 5)
  const rsl = await createReseller(ta, {}, 10_000)
  const post = async (headers: Record<string, string>, body: string) =>
    await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...headers, 'content-type': 'application/json' }, payload: body })
  // The first order looks its terms up, the second finds them cached: two ways to the accept.
  for (const n of [1, 2]) {
    const body = JSON.stringify({ client_order_id: `SN-${n}`, sku: 'gc-signed' })
    const headers = signed(rsl, 'POST', '/v1/orders', body)
    t.equal((await post(headers, body)).statusCode, 201, `order ${n}`)
    const replay = await post(headers, body)
    t.equal(replay.statusCode, 401, `order ${n} replayed`)
    t.equal(replay.json().code, 'replayed_request')
  }
  const invalid = JSON.stringify({ client_order_id: 'SN-bad', sku: 'gc-signed', quantity: 0 })
  const invalidHeaders = signed(rsl, 'POST', '/v1/orders', invalid)
  t.equal((await post(invalidHeaders, invalid)).statusCode, 400)
  t.equal((await post(invalidHeaders, invalid)).json().code, 'replayed_request', 'a body refused by validation burns its nonce too')
  const refused = JSON.stringify({ client_order_id: 'SN-big', sku: 'gc-signed', quantity: 1, max_unit_price: 1 })
  const refusedHeaders = signed(rsl, 'POST', '/v1/orders', refused)
  t.equal((await post(refusedHeaders, refused)).json().code, 'price_changed')
  t.equal((await post(refusedHeaders, refused)).json().code, 'replayed_request', 'so does an order refused by its terms')
  const balance = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })
  t.equal(balance.json().available, 10_000 - 200, 'two orders charged')
})

t.test('a non-JSON body is refused with 415 before authentication, so its nonce stays unused', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-text', 100, 1)
  const rsl = await createReseller(ta, {}, 1000)
  const text = async (headers: Record<string, string>) =>
    await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...headers, 'content-type': 'text/plain' }, payload: 'client_order_id=T-1' })
  // Signed over no body: the bytes the server checked before this fix, whatever was sent.
  const overEmpty = await text(signed(rsl, 'POST', '/v1/orders', '', { nonce: 'nonce-of-a-text-body-0001' }))
  t.equal(overEmpty.statusCode, 415)
  t.equal(overEmpty.json().code, 'unsupported_media_type', 'a tampered text body does not pass as an empty one')
  const overText = await text(signed(rsl, 'POST', '/v1/orders', 'client_order_id=T-1', { nonce: 'nonce-of-a-text-body-0002' }))
  t.equal(overText.json().code, 'unsupported_media_type', 'nor does one signed over its real bytes')

  const body = JSON.stringify({ client_order_id: 'T-1', sku: 'gc-text' })
  const json = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: { ...signed(rsl, 'POST', '/v1/orders', body, { nonce: 'nonce-of-a-text-body-0001' }), 'content-type': 'application/json' }, payload: body })
  t.equal(json.statusCode, 201, 'the nonce of the refused request still works for a correctly signed JSON one')
})
