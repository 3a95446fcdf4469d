import t from 'tap'
import { operatorRole } from '../../src/db/schema/index.js'
import { build } from '../helper.js'
import { cardSku, createReseller } from './helpers.js'

/**
 * Every reseller and admin route × {no credentials, reseller A, reseller B, each operator
 * role}, with A's objects in the path: only the right principals get through, and B sees
 * A's objects exactly as it sees missing ones.
 */
t.test('authorization matrix', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-matrix', 100, 4)
  const a = await createReseller(ta, { callback_url: 'https://merchant.example/hooks/a' }, 1000)
  const b = await createReseller(ta, {}, 1000)
  const order = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: a.bearer, payload: { client_order_id: 'M-1', sku: 'gc-matrix' } })
  t.equal(order.statusCode, 201)
  const [key] = await ta.database.sql<{ id: string }[]>`select id from card_keys limit 1`
  const [event] = await ta.database.sql<{ id: string }[]>`select id from webhook_events limit 1`
  t.ok(event, 'the order wrote its callback event')
  const params: Record<string, string> = { id: order.json().id, sku: 'gc-matrix', tier: 'standard', key_id: a.keyId }

  const principals: [string, Record<string, string>][] = [
    ['nobody', {}], ['reseller A', a.bearer], ['reseller B', b.bearer],
    ...operatorRole.enumValues.map((role): [string, Record<string, string>] => [role, ta.auth(role)])
  ]
  const call = async (method: string, url: string, headers: Record<string, string>) =>
    await ta.app.inject({ method: method as 'GET', url, headers, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) })

  t.ok(ta.app.resellerRoutes.length >= 7, `${ta.app.resellerRoutes.length} reseller routes`)
  for (const route of ta.app.resellerRoutes) {
    const url = route.url.replace('/webhook-events/:id', `/webhook-events/${event!.id}`).replace(/:(\w+)/g, (_m, p: string) => params[p] ?? 'x')
    for (const [who, headers] of principals) {
      const res = await call(route.method, url, headers)
      const name = `${route.method} ${route.url} as ${who}`
      if (who === 'reseller A') t.notOk([401, 403, 404].includes(res.statusCode), `${name}: ${res.statusCode}`)
      else if (who === 'reseller B' && route.url.includes(':id')) t.equal(res.statusCode, 404, `${name}: A's object`)
      else if (who === 'reseller B') t.ok(res.statusCode < 300 || res.statusCode === 400, `${name}: ${res.statusCode} (own data only)`)
      else t.equal(res.statusCode, 401, name)
    }
  }
  const missing = await ta.app.inject({ method: 'GET', url: '/v1/orders/ord_00000000000000000000000000', headers: b.bearer })
  const foreign = await ta.app.inject({ method: 'GET', url: `/v1/orders/${params.id}`, headers: b.bearer })
  t.same({ ...foreign.json(), request_id: '', detail: '' }, { ...missing.json(), request_id: '', detail: '' }, 'a foreign order looks exactly like a missing one')

  const adminParams: Record<string, string> = { ...params, id: a.id }
  for (const route of ta.app.adminRoutes) {
    const url = route.url
      .replace('/admin/v1/orders/:id', `/admin/v1/orders/${params.id}`)
      .replace('/admin/v1/card-keys/:id', `/admin/v1/card-keys/${key!.id}`)
      .replace('/admin/v1/webhook-events/:id', `/admin/v1/webhook-events/${event!.id}`)
      .replace('/admin/v1/operator-tokens/:id', '/admin/v1/operator-tokens/adt_missing')
      .replace(/:(\w+)/g, (_m, p: string) => adminParams[p] ?? 'x')
    for (const [who, headers] of principals) {
      const res = await call(route.method, url, headers)
      const name = `${route.method} ${route.url} as ${who}`
      const role = operatorRole.enumValues.find((r) => r === who)
      if (!role) t.equal(res.statusCode, 401, name)
      else if (route.roles.includes(role)) t.notOk([401, 403].includes(res.statusCode), `${name}: ${res.statusCode}`)
      else t.equal(res.statusCode, 403, name)
    }
  }
})
