import t from 'tap'
import { build } from '../helper.js'
import { cardSku, createReseller } from '../v1/helpers.js'

t.test('risk rules admin API', async (t) => {
  const ta = await build(t)
  await cardSku(ta, 'gc-admin-risk', 100, 0)
  const reseller = await createReseller(ta)
  const post = async (payload: Record<string, unknown>, role: 'ops' | 'admin' | 'support' | 'finance' = 'ops') =>
    await ta.app.inject({ method: 'POST', url: '/admin/v1/risk-rules', headers: ta.auth(role), payload })

  t.test('creates each kind, with defaults', async (t) => {
    const bodies = [
      { kind: 'recipient_velocity', action: 'refuse', params: { max_orders: 3, window_seconds: 600 } },
      { kind: 'daily_quota', action: 'refuse', reseller_id: reseller.id, params: { max_orders: 100, max_amount: 500_000 } },
      { kind: 'amount_ceiling', action: 'review', sku: 'gc-admin-risk', params: { max_amount: 100_000 } },
      { kind: 'recipient_blocklist', action: 'refuse', params: { recipients: ['+8613800000000'] } },
      { kind: 'ip_blocklist', action: 'refuse', enabled: false, params: { cidrs: ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'] } }
    ]
    for (const body of bodies) {
      const res = await post(body)
      t.equal(res.statusCode, 201, `${body.kind}: ${res.body}`)
      t.match(res.json(), { id: /^rsk_/, kind: body.kind, action: body.action, params: body.params, sku: body.sku ?? null, reseller_id: body.reseller_id ?? null, enabled: body.enabled ?? true })
    }
    const list = await ta.app.inject({ method: 'GET', url: '/admin/v1/risk-rules?limit=2', headers: ta.auth('ops') })
    t.equal(list.json().data.length, 2)
    const rest = await ta.app.inject({ method: 'GET', url: `/admin/v1/risk-rules?limit=10&cursor=${list.json().next_cursor as string}`, headers: ta.auth('ops') })
    t.same([...list.json().data, ...rest.json().data].map((r: { kind: string }) => r.kind), bodies.map((b) => b.kind), 'oldest first, paginated')
    const quotas = await ta.app.inject({ method: 'GET', url: `/admin/v1/risk-rules?kind=daily_quota&reseller_id=${reseller.id}`, headers: ta.auth('ops') })
    t.equal(quotas.json().data.length, 1)
  })

  t.test('validation: params per kind, CIDRs, scope that exists; errors with a path', async (t) => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'ip_blocklist', action: 'refuse', params: { cidrs: ['10.0.0.0/33'] } }, 'body.params.cidrs.0'],
      [{ kind: 'ip_blocklist', action: 'refuse', params: { cidrs: [] } }, 'body.params.cidrs'],
      [{ kind: 'daily_quota', action: 'refuse', params: {} }, 'body.params'],
      [{ kind: 'recipient_velocity', action: 'refuse', params: { max_orders: 0, window_seconds: 60 } }, 'body.params.max_orders'],
      [{ kind: 'recipient_velocity', action: 'refuse', params: { max_orders: 2 } }, 'body.params.window_seconds'],
      [{ kind: 'amount_ceiling', action: 'refuse', params: { max_amount: 10, extra: 1 } }, 'body.params.extra'],
      [{ kind: 'amount_ceiling', action: 'refuse', params: { max_amount: 10 }, enabeld: false }, 'body.enabeld'],
      [{ kind: 'amount_ceiling', action: 'hold', params: { max_amount: 10 } }, 'body.action'],
      [{ kind: 'nonsense', action: 'refuse', params: {} }, 'body.kind'],
      [{ kind: 'amount_ceiling', action: 'refuse', sku: 'no-such-sku', params: { max_amount: 10 } }, 'body.sku'],
      [{ kind: 'amount_ceiling', action: 'refuse', reseller_id: 'rsl_nobody', params: { max_amount: 10 } }, 'body.reseller_id']
    ]
    for (const [body, path] of cases) {
      const res = await post(body)
      t.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`)
      t.equal(res.json().code, 'invalid_request')
      t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `error at ${path}: ${JSON.stringify(res.json().errors)}`)
    }
  })

  t.test('get, patch (params checked against the kind), delete; every change audited', async (t) => {
    const created = await post({ kind: 'recipient_velocity', action: 'refuse', params: { max_orders: 3, window_seconds: 60 } })
    const id = created.json().id as string
    const got = await ta.app.inject({ method: 'GET', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops') })
    t.same(got.json(), created.json())

    const wrongKind = await ta.app.inject({ method: 'PATCH', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops'), payload: { params: { max_amount: 5 } } })
    t.equal(wrongKind.statusCode, 400, 'params of another kind')
    t.ok(wrongKind.json().errors.some((e: { path: string }) => e.path.startsWith('body.params')), JSON.stringify(wrongKind.json().errors))
    const badSku = await ta.app.inject({ method: 'PATCH', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops'), payload: { sku: 'nope-sku' } })
    t.equal(badSku.statusCode, 400)
    t.same(badSku.json().errors, [{ path: 'body.sku', message: 'unknown SKU nope-sku' }])
    const empty = await ta.app.inject({ method: 'PATCH', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops'), payload: {} })
    t.equal(empty.statusCode, 400)

    const patched = await ta.app.inject({
      method: 'PATCH', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops'),
      payload: { action: 'review', sku: 'gc-admin-risk', params: { max_orders: 5, window_seconds: 120 } }
    })
    t.equal(patched.statusCode, 200, patched.body)
    t.match(patched.json(), { id, kind: 'recipient_velocity', action: 'review', sku: 'gc-admin-risk', params: { max_orders: 5, window_seconds: 120 } })
    t.ok(patched.json().updated_at >= created.json().updated_at)

    const deleted = await ta.app.inject({ method: 'DELETE', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops') })
    t.equal(deleted.statusCode, 200)
    t.equal((await ta.app.inject({ method: 'GET', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops') })).statusCode, 404)
    t.equal((await ta.app.inject({ method: 'DELETE', url: `/admin/v1/risk-rules/${id}`, headers: ta.auth('ops') })).statusCode, 404)

    const audit = await ta.app.inject({ method: 'GET', url: `/admin/v1/audit-log?target_id=${id}`, headers: ta.auth('admin') })
    t.same(audit.json().data.map((e: { action: string }) => e.action), ['risk_rule.delete', 'risk_rule.update', 'risk_rule.create'])
  })

  t.test('roles: ops and admin manage rules; support and finance do not', async (t) => {
    const body = { kind: 'amount_ceiling', action: 'refuse', params: { max_amount: 1 }, enabled: false }
    t.equal((await post(body, 'admin')).statusCode, 201)
    t.equal((await post(body, 'support')).statusCode, 403)
    t.equal((await post(body, 'finance')).statusCode, 403)
    t.equal((await ta.app.inject({ method: 'GET', url: '/admin/v1/risk-rules', headers: ta.auth('support') })).statusCode, 403)
    t.equal((await ta.app.inject({ method: 'GET', url: '/admin/v1/risk-rules', headers: reseller.bearer })).statusCode, 401)
  })
})
