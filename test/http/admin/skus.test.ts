import t from 'tap'
import { build } from '../../helper.js'

const card = {
  sku: 'steam-wallet-usd-20', name: 'Steam Wallet 20 USD', category: 'gift_card', delivery: 'card_key',
  recipient_type: 'none', face_value: 2000, currency: 'USD'
}
const direct = {
  sku: 'tencent-video-vip-1m', name: 'Tencent Video VIP, 1 month', category: 'video', delivery: 'direct_recharge',
  recipient_type: 'account', face_value: 3000, currency: 'CNY'
}

t.test('create, read, list, replace a SKU with defaults that fit its delivery', async (t) => {
  const ta = await build(t)
  const ops = ta.auth('ops')
  const created = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ops, payload: card })
  t.equal(created.statusCode, 201)
  t.match(created.json(), { ...card, max_quantity: 100, status: 'active', fulfilment: { strategy: 'priority', card_pool: 'only', routes: [] } })

  const d = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ops, payload: direct })
  t.match(d.json(), { max_quantity: 1, fulfilment: { card_pool: 'never' } })

  const dup = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ops, payload: card })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().code, 'already_exists')

  const got = await ta.app.inject({ method: 'GET', url: `/admin/v1/skus/${card.sku}`, headers: ta.auth('support') })
  t.same(got.json(), created.json())

  const missing = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus/no-such-sku', headers: ops })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'not_found')

  const page1 = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus?limit=1', headers: ops })
  t.equal(page1.json().data.length, 1)
  t.equal(page1.json().data[0].sku, card.sku)
  const page2 = await ta.app.inject({ method: 'GET', url: `/admin/v1/skus?limit=1&cursor=${page1.json().next_cursor}`, headers: ops })
  t.equal(page2.json().data[0].sku, direct.sku)
  t.equal(page2.json().next_cursor, null)

  const badCursor = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus?cursor=garbage', headers: ops })
  t.equal(badCursor.statusCode, 400)

  const { sku: _sku, ...fields } = card
  const replaced = await ta.app.inject({
    method: 'PUT', url: `/admin/v1/skus/${card.sku}`, headers: ops, payload: { ...fields, name: 'Steam 20', status: 'inactive', max_quantity: 5 }
  })
  t.equal(replaced.statusCode, 200)
  t.match(replaced.json(), { name: 'Steam 20', status: 'inactive', max_quantity: 5, fulfilment: { card_pool: 'only' } })
  t.ok(replaced.json().updated_at > created.json().updated_at, 'updated_at moves')
  const sentBack = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${card.sku}`, headers: ops, payload: { ...replaced.json() as Record<string, unknown>, name: 'Steam 30' } })
  t.equal(sentBack.statusCode, 200, 'what GET answers may be sent back whole (id and timestamps included)')
  t.equal(sentBack.json().name, 'Steam 30')
  t.notSame(sentBack.json().updated_at, replaced.json().updated_at, 'the timestamps sent are ignored')
  // A field a newer version stored in the routing: answers stay readable.
  await ta.database.sql`update skus set fulfilment = fulfilment || '{"future_field": 1}'::jsonb where sku = ${card.sku}`
  const read = await ta.app.inject({ method: 'GET', url: `/admin/v1/skus/${card.sku}`, headers: ops })
  t.equal(read.statusCode, 200, 'an unknown stored field does not fail the answer')
  const renamed = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${card.sku}`, headers: ops, payload: { ...card, sku: 'steam-other' } })
  t.equal(renamed.statusCode, 400)
  t.match(renamed.json().errors, [{ path: 'body.sku' }], 'but not another one')
  const typo = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${card.sku}`, headers: ops, payload: { ...fields, low_stock_treshold: 5 } })
  t.same(typo.json().errors, [{ path: 'body.low_stock_treshold', message: 'unknown field' }], 'a misspelt field is refused, not dropped')
})

t.test('SKU validation names each bad field', async (t) => {
  const ta = await build(t)
  const ops = ta.auth('ops')
  const cases: [string, Record<string, unknown>, string][] = [
    ['bad id', { ...card, sku: 'Has Spaces' }, 'body.sku'],
    ['negative face value', { ...card, face_value: -1 }, 'body.face_value'],
    ['float money', { ...card, face_value: 20.5 }, 'body.face_value'],
    ['lower-case currency', { ...card, currency: 'usd' }, 'body.currency'],
    ['unknown category', { ...card, category: 'music' }, 'body.category'],
    ['card key with a recipient', { ...card, recipient_type: 'account' }, 'body.recipient_type'],
    ['direct recharge without a recipient', { ...direct, recipient_type: 'none' }, 'body.recipient_type'],
    ['quantity above 100', { ...card, max_quantity: 101 }, 'body.max_quantity'],
    ['duplicate supplier in routes', {
      ...direct,
      fulfilment: { strategy: 'priority', card_pool: 'fallback', routes: [{ supplier: 'sup_a', supplier_product_id: '1', cost: 1 }, { supplier: 'sup_a', supplier_product_id: '2', cost: 1 }] }
    }, 'body.fulfilment.routes.1.supplier'],
    ['routes with card_pool only', {
      ...card, fulfilment: { card_pool: 'only', routes: [{ supplier: 'sup_a', supplier_product_id: '1', cost: 1 }] }
    }, 'body.fulfilment.routes']
  ]
  for (const [name, payload, path] of cases) {
    const res = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ops, payload })
    t.equal(res.statusCode, 400, name)
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', `${name}: problem+json`)
    t.equal(res.json().code, 'invalid_request', name)
    t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `${name}: error at ${path} in ${JSON.stringify(res.json().errors)}`)
  }
  const none = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus', headers: ops })
  t.same(none.json().data, [], 'nothing was created')
})

t.test('fulfilment and tier prices', async (t) => {
  const ta = await build(t)
  await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'), payload: direct })
  await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'), payload: card })
  for (const id of ['sup_fulu', 'sup_k']) {
    const supplier = await ta.app.inject({
      method: 'POST', url: '/admin/v1/suppliers', headers: ta.auth('ops'),
      payload: { id, adapter: 'fulu', base_url: 'https://fulu.example/api/getway', credentials: { app_key: 'k', app_secret: 'x'.repeat(32) } }
    })
    t.equal(supplier.statusCode, 201, `supplier ${id}`)
  }

  const fulfilment = {
    strategy: 'weighted', card_pool: 'fallback',
    routes: [{ supplier: 'sup_fulu', supplier_product_id: '10001', cost: 2500, weight: 3 }, { supplier: 'sup_k', supplier_product_id: '77', cost: 2550, priority: 5, weight: 1, enabled: false }]
  }
  const set = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${direct.sku}/fulfilment`, headers: ta.auth('ops'), payload: fulfilment })
  t.equal(set.statusCode, 200)
  t.same(set.json().fulfilment.routes[0], { supplier: 'sup_fulu', supplier_product_id: '10001', cost: 2500, priority: 100, weight: 3, enabled: true })
  const unknown = await ta.app.inject({ method: 'PUT', url: '/admin/v1/skus/nope-nope/fulfilment', headers: ta.auth('ops'), payload: fulfilment })
  t.equal(unknown.statusCode, 404)
  const zeroWeights = await ta.app.inject({
    method: 'PUT', url: `/admin/v1/skus/${direct.sku}/fulfilment`, headers: ta.auth('ops'),
    payload: { strategy: 'weighted', routes: [{ supplier: 'sup_a', supplier_product_id: '1', cost: 1, weight: 0 }] }
  })
  t.equal(zeroWeights.statusCode, 400)

  const prices = await ta.app.inject({
    method: 'PUT', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance'),
    payload: [{ sku: direct.sku, price: 2650 }, { sku: card.sku, price: 1900 }]
  })
  t.equal(prices.statusCode, 200)
  t.match(prices.json(), { tier: 'gold', prices: [{ sku: card.sku, price: 1900, currency: 'USD' }, { sku: direct.sku, price: 2650, currency: 'CNY' }] })

  const replaced = await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance'), payload: [{ sku: direct.sku, price: 2600 }] })
  t.same(replaced.json().prices.map((p: { sku: string, price: number }) => [p.sku, p.price]), [[direct.sku, 2600]], 'PUT replaces the whole list')

  const badSku = await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance'), payload: [{ sku: direct.sku, price: 1 }, { sku: 'ghost-sku', price: 1 }] })
  t.equal(badSku.statusCode, 400)
  t.same(badSku.json().errors, [{ path: 'body.1.sku', message: 'unknown SKU ghost-sku' }])
  const twice = await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance'), payload: [{ sku: direct.sku, price: 1 }, { sku: direct.sku, price: 2 }] })
  t.equal(twice.statusCode, 400)
  const after = await ta.app.inject({ method: 'GET', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('support') })
  t.same(after.json().prices.map((p: { price: number }) => p.price), [2600], 'refused updates changed nothing')
  const roundTrip = await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance'), payload: after.json().prices })
  t.equal(roundTrip.statusCode, 200, 'the list GET answers may be sent back as it is')
  t.same(roundTrip.json().prices, after.json().prices, 'unchanged prices keep their updated_at')
  const routing = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${direct.sku}/fulfilment`, headers: ta.auth('ops'), payload: set.json().fulfilment })
  t.equal(routing.statusCode, 200, 'so may a SKU\'s fulfilment')
})

t.test('every admin mutation writes one audit entry in its transaction', async (t) => {
  const ta = await build(t)
  const headers = { ...ta.auth('ops'), 'x-request-id': 'audit-test-1' }
  await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers, payload: card, remoteAddress: '203.0.113.9' })
  await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'), payload: card }) // 409: no entry
  const { sku: _s, ...fields } = card
  await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${card.sku}`, headers: ta.auth('ops'), payload: fields })
  await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${card.sku}/fulfilment`, headers: ta.auth('ops'), payload: { card_pool: 'only' } })
  await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/basic/prices', headers: ta.auth('finance'), payload: [{ sku: card.sku, price: 1 }] })
  const token = await ta.app.inject({ method: 'POST', url: '/admin/v1/operator-tokens', headers: ta.auth('admin'), payload: { name: 'x', role: 'support' } })
  await ta.app.inject({ method: 'DELETE', url: `/admin/v1/operator-tokens/${token.json().id}`, headers: ta.auth('admin') })

  const log = await ta.app.inject({ method: 'GET', url: '/admin/v1/audit-log', headers: ta.auth('admin') })
  t.equal(log.statusCode, 200)
  // The fixture's own tokens were issued (and audited) by the test harness.
  const entries = log.json().data.filter((e: { actor_id: string }) => e.actor_id !== 'test')
  t.same(entries.map((e: { action: string }) => e.action).reverse(),
    ['sku.create', 'sku.replace', 'sku.fulfilment.set', 'tier.prices.replace', 'operator_token.create', 'operator_token.revoke'])
  const first = entries.at(-1)
  t.match(first, { target_type: 'sku', target_id: card.sku, actor_role: 'ops', request_id: 'audit-test-1', ip: '203.0.113.9' })
  t.match(first.actor_id, /^adt_/)
  t.match(first.id, /^aud_\d+$/, 'ids carry a type prefix')
  t.notOk(JSON.stringify(entries).includes(token.json().token), 'the audit log never holds the token')

  const filtered = await ta.app.inject({ method: 'GET', url: `/admin/v1/audit-log?target_type=sku&target_id=${card.sku}&limit=2`, headers: ta.auth('admin') })
  t.equal(filtered.json().data.length, 2)
  const rest = await ta.app.inject({ method: 'GET', url: `/admin/v1/audit-log?target_type=sku&target_id=${card.sku}&limit=2&cursor=${filtered.json().next_cursor}`, headers: ta.auth('admin') })
  t.same(rest.json().data.map((e: { action: string }) => e.action), ['sku.create'])
  t.equal(rest.json().next_cursor, null)

  const reads = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus', headers: ta.auth('ops') })
  t.equal(reads.statusCode, 200)
  const after = await ta.app.inject({ method: 'GET', url: '/admin/v1/audit-log', headers: ta.auth('admin') })
  t.equal(after.json().data.length, log.json().data.length, 'reads are not audited')
})
