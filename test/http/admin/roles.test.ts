import t from 'tap'
import { operatorRole } from '../../../src/db/schema/index.js'
import { build } from '../../helper.js'

const SAMPLE_PARAMS: Record<string, string> = { sku: 'tencent-video-vip-1m', tier: 'standard', id: 'adt_missing' }

t.test('every admin route refuses a missing token, a foreign credential and a wrong role', async (t) => {
  const ta = await build(t)
  const routes = ta.app.adminRoutes
  t.ok(routes.length >= 11, `${routes.length} admin routes registered`)
  for (const route of routes) {
    const url = route.url.replace(/:(\w+)/g, (_m, p: string) => SAMPLE_PARAMS[p] ?? 'x')
    const call = (headers: Record<string, string>) =>
      ta.app.inject({ method: route.method as 'GET', url, headers, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }) })
    const name = `${route.method} ${route.url}`

    const missing = await call({})
    t.equal(missing.statusCode, 401, `${name} without a token`)
    t.equal(missing.json().code, 'unauthorized')

    const reseller = await call({ authorization: 'Bearer sk_live_not_an_operator_token_at_all_000000' })
    t.equal(reseller.statusCode, 401, `${name} with a reseller-style secret`)

    const unknown = await call({ authorization: 'Bearer adm_unknownunknownunknownunknownunknown00' })
    t.equal(unknown.statusCode, 401, `${name} with an unknown operator token`)

    for (const role of operatorRole.enumValues) {
      const res = await call(ta.auth(role))
      if (route.roles.includes(role)) {
        t.notOk([401, 403].includes(res.statusCode), `${name} admits ${role} (got ${res.statusCode})`)
      } else {
        t.equal(res.statusCode, 403, `${name} refuses ${role}`)
        t.equal(res.json().code, 'forbidden')
      }
    }
  }
})

t.test('a revoked token stops working at once', async (t) => {
  const ta = await build(t)
  const created = await ta.app.inject({ method: 'POST', url: '/admin/v1/operator-tokens', headers: ta.auth('admin'), payload: { name: 'temp', role: 'ops' } })
  t.equal(created.statusCode, 201)
  const { id, token, role, token_prefix: prefix } = created.json()
  t.equal(role, 'ops')
  t.ok(token.startsWith('adm_') && token.startsWith(prefix), 'token shown once with its prefix')
  const ok = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus', headers: { authorization: `Bearer ${token}` } })
  t.equal(ok.statusCode, 200)

  const list = await ta.app.inject({ method: 'GET', url: '/admin/v1/operator-tokens', headers: ta.auth('admin') })
  t.notOk(JSON.stringify(list.json()).includes(token), 'listings never contain the token')

  const revoked = await ta.app.inject({ method: 'DELETE', url: `/admin/v1/operator-tokens/${id}`, headers: ta.auth('admin') })
  t.equal(revoked.statusCode, 200)
  t.ok(revoked.json().revoked_at)
  const again = await ta.app.inject({ method: 'DELETE', url: `/admin/v1/operator-tokens/${id}`, headers: ta.auth('admin') })
  t.equal(again.json().revoked_at, revoked.json().revoked_at, 'revoking twice keeps the first time')

  const refused = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus', headers: { authorization: `Bearer ${token}` } })
  t.equal(refused.statusCode, 401)
})
