import t from 'tap'
import { credentialsAad } from '../../../src/suppliers/registry.js'
import { build, type T, type TestApp } from '../../helper.js'
import { createReseller } from '../../v1/helpers.js'
import { until } from '../../webhooks/helpers.js'

const SECRET = 'S3cr3t-Fulu-0123456789abcdefghij'
const fulu = (overrides: Record<string, unknown> = {}) => ({
  id: 'fulu-main', adapter: 'fulu', base_url: 'https://fulu.example/api/getway', credentials: { app_key: 'key-1', app_secret: SECRET }, ...overrides
})

const create = async (ta: TestApp, payload: Record<string, unknown>) =>
  await ta.app.inject({ method: 'POST', url: '/admin/v1/suppliers', headers: ta.auth('ops'), payload })
const patch = async (ta: TestApp, id: string, payload: unknown) =>
  await ta.app.inject({ method: 'PATCH', url: `/admin/v1/suppliers/${id}`, headers: ta.auth('ops'), payload: payload as Record<string, unknown> })
const read = async (ta: TestApp, id: string) =>
  await ta.app.inject({ method: 'GET', url: `/admin/v1/suppliers/${id}`, headers: ta.auth('ops') })

/** Payloads of supplier_changes notifications, as another process would receive them. */
async function listen (t: T, ta: TestApp): Promise<string[]> {
  const seen: string[] = []
  const { unlisten } = await ta.database.sql.listen('supplier_changes', (id) => { seen.push(id) })
  t.teardown(unlisten)
  return seen
}

t.test('create with defaults: 201, loaded at once, never a credential in the answer or the logs', async (t) => {
  const ta = await build(t)
  const notified = await listen(t, ta)
  const res = await create(ta, fulu())
  t.equal(res.statusCode, 201)
  t.same(res.json(), {
    id: 'fulu-main',
    adapter: 'fulu',
    base_url: 'https://fulu.example/api/getway',
    timeout_ms: 10000,
    breaker: { error_threshold_percentage: 50, reset_timeout_ms: 30000, volume_threshold: 10, state: 'closed' },
    enabled: true,
    force_state: null,
    loaded: true,
    low_balance_threshold: null,
    balance: null,
    version: 1,
    created_at: res.json().created_at,
    updated_at: res.json().updated_at
  })
  t.notOk(res.body.includes(SECRET), 'the secret is not in the answer')
  t.notOk(res.body.includes('credentials'), 'nor are credentials at all')
  t.ok(ta.app.suppliers.get('fulu-main'), 'this process runs it right away')
  await until(() => notified.includes('fulu-main'), 10_000)
  t.ok(notified.includes('fulu-main'), 'other processes are told')

  const generated = await create(ta, fulu({ id: undefined, timeout_ms: 2500, breaker: { volume_threshold: 3 }, enabled: false, force_state: 'closed' }))
  t.equal(generated.statusCode, 201)
  t.match(generated.json(), {
    id: /^sup_[0-9a-z]{26}$/, timeout_ms: 2500, enabled: false, force_state: 'closed',
    breaker: { error_threshold_percentage: 50, reset_timeout_ms: 30000, volume_threshold: 3 }
  })

  const [row] = await ta.database.sql<{ credentials_ciphertext: Buffer, credentials_key_id: string }[]>`
    select credentials_ciphertext, credentials_key_id from suppliers where id = 'fulu-main'`
  t.notOk(row!.credentials_ciphertext.includes(SECRET), 'stored encrypted')
  t.same(JSON.parse(ta.keyring.decryptString({ keyId: row!.credentials_key_id, ciphertext: row!.credentials_ciphertext }, credentialsAad('fulu-main'))),
    { app_key: 'key-1', app_secret: SECRET })

  const [audit] = await ta.database.sql<{ details: unknown }[]>`select details from audit_log where action = 'supplier.create' and target_id = 'fulu-main'`
  t.same(audit?.details, { adapter: 'fulu' })
  t.notOk(ta.logs.text().includes(SECRET), 'the secret is not in the logs')
})

t.test('validation: adapter, credentials by the adapter\'s schema (never echoed), URL, ranges, duplicates', async (t) => {
  const ta = await build(t)
  const badAdapter = await create(ta, fulu({ adapter: 'nope' }))
  t.equal(badAdapter.statusCode, 400)
  t.equal(badAdapter.json().code, 'invalid_request')
  t.ok(badAdapter.json().errors.some((e: { path: string }) => e.path === 'body.adapter'), JSON.stringify(badAdapter.json().errors))

  const shortSecret = 'ShortSecret-Never-Echo-Me-31chr'
  const badSecret = await create(ta, fulu({ credentials: { app_key: 'key-1', app_secret: shortSecret } }))
  t.equal(badSecret.statusCode, 400)
  t.equal(badSecret.json().code, 'invalid_request')
  t.same(badSecret.json().errors, [{ path: 'body.credentials.app_secret', message: 'Fulu app_secret is 32 characters' }])
  t.notOk(badSecret.body.includes(shortSecret), 'the submitted secret is not echoed')

  const missing = await create(ta, fulu({ credentials: { app_secret: SECRET } }))
  t.equal(missing.statusCode, 400)
  t.same(missing.json().errors.map((e: { path: string }) => e.path), ['body.credentials.app_key'])
  t.notOk(missing.body.includes(SECRET))
  t.notOk(ta.logs.text().includes(shortSecret), 'nor logged')
  t.notOk(ta.logs.text().includes(SECRET), 'nor logged')

  const cases: [string, Record<string, unknown>, string][] = [
    ['ftp URL', fulu({ base_url: 'ftp://fulu.example/' }), 'body.base_url'],
    ['not a URL', fulu({ base_url: 'fulu' }), 'body.base_url'],
    ['id with capitals', fulu({ id: 'Fulu' }), 'body.id'],
    ['one-character id', fulu({ id: 'f' }), 'body.id'],
    ['timeout too short', fulu({ timeout_ms: 99 }), 'body.timeout_ms'],
    ['threshold above 100', fulu({ breaker: { error_threshold_percentage: 101 } }), 'body.breaker.error_threshold_percentage'],
    ['credentials not an object', fulu({ credentials: 'k:s' }), 'body.credentials'],
    ['unknown force_state', fulu({ force_state: 'half_open' }), 'body.force_state']
  ]
  for (const [name, payload, path] of cases) {
    const res = await create(ta, payload)
    t.equal(res.statusCode, 400, name)
    t.ok(res.json().errors.some((e: { path: string }) => e.path === path), `${name}: error at ${path} in ${JSON.stringify(res.json().errors)}`)
  }
  const none = await ta.app.inject({ method: 'GET', url: '/admin/v1/suppliers', headers: ta.auth('ops') })
  t.same(none.json().data, [], 'nothing was created')

  t.equal((await create(ta, fulu())).statusCode, 201)
  const dup = await create(ta, fulu({ credentials: { app_key: 'other', app_secret: 'y'.repeat(32) } }))
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().code, 'already_exists')
  const [row] = await ta.database.sql<{ version: number }[]>`select version from suppliers where id = 'fulu-main'`
  t.equal(row?.version, 1, 'the existing instance is untouched')
})

t.test('list and get', async (t) => {
  const ta = await build(t)
  await create(ta, fulu({ id: 'fulu-b' }))
  await create(ta, fulu({ id: 'fulu-a' }))
  const page1 = await ta.app.inject({ method: 'GET', url: '/admin/v1/suppliers?limit=1', headers: ta.auth('ops') })
  t.equal(page1.statusCode, 200)
  t.same(page1.json().data.map((s: { id: string }) => s.id), ['fulu-a'])
  const page2 = await ta.app.inject({ method: 'GET', url: `/admin/v1/suppliers?limit=1&cursor=${page1.json().next_cursor}`, headers: ta.auth('ops') })
  t.same(page2.json().data.map((s: { id: string }) => s.id), ['fulu-b'])
  t.equal(page2.json().next_cursor, null)

  const one = await read(ta, 'fulu-b')
  t.equal(one.statusCode, 200)
  t.same(one.json(), page2.json().data[0])
  t.match(one.json(), { breaker: { state: 'closed' }, loaded: true })
  t.notOk(page1.body.includes(SECRET) || one.body.includes(SECRET))

  const missing = await read(ta, 'no-such-supplier')
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'not_found')
  t.equal((await read(ta, 'Not An Id')).statusCode, 400)
})

t.test('an instance this process cannot run reads as not loaded, with no breaker state', async (t) => {
  const ta = await build(t)
  await create(ta, fulu())
  // Credentials sealed for another row: the keyring refuses them, the registry skips the row.
  const other = ta.keyring.encrypt(JSON.stringify({ app_key: 'k', app_secret: SECRET }), credentialsAad('elsewhere'))
  await ta.database.sql`update suppliers set credentials_ciphertext = ${other.ciphertext}, version = version + 1 where id = 'fulu-main'`
  const fresh = await ta.app.inject({ method: 'POST', url: '/admin/v1/suppliers', headers: ta.auth('ops'), payload: fulu({ id: 'fulu-2' }) })
  t.equal(fresh.statusCode, 201)
  t.match((await read(ta, 'fulu-main')).json(), { loaded: true }, 'a process keeps the last instance it could load')

  // A process that starts now has never loaded it.
  const later = await build(t, {}, { databaseUrl: ta.databaseUrl })
  t.equal(later.app.suppliers.get('fulu-main'), undefined)
  const res = await later.app.inject({ method: 'GET', url: '/admin/v1/suppliers/fulu-main', headers: later.auth('ops') })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { id: 'fulu-main', loaded: false, breaker: { state: null } })
})

t.test('PATCH: each change bumps version, notifies and shows in this process at once', async (t) => {
  const ta = await build(t)
  const created = (await create(ta, fulu())).json()
  const notified = await listen(t, ta)

  const forced = await patch(ta, 'fulu-main', { force_state: 'open' })
  t.equal(forced.statusCode, 200)
  t.match(forced.json(), { force_state: 'open', version: 2, enabled: true, timeout_ms: 10000 })
  t.ok(forced.json().updated_at > created.updated_at, 'updated_at moves')
  t.equal((await read(ta, 'fulu-main')).json().force_state, 'open')
  t.equal(ta.app.suppliers.get('fulu-main')?.settings.forceState, 'open', 'the registry follows')
  await until(() => notified.includes('fulu-main'), 10_000)
  t.ok(notified.includes('fulu-main'), 'other processes are told')

  const breaker = await patch(ta, 'fulu-main', { breaker: { reset_timeout_ms: 5000 }, timeout_ms: 3000, enabled: false })
  t.equal(breaker.statusCode, 200)
  t.match(breaker.json(), {
    version: 3, timeout_ms: 3000, enabled: false, force_state: 'open',
    breaker: { error_threshold_percentage: 50, reset_timeout_ms: 5000, volume_threshold: 10 }
  })
  t.match(ta.app.suppliers.get('fulu-main')?.settings, { resetTimeoutMs: 5000, timeoutMs: 3000, enabled: false })

  const cleared = await patch(ta, 'fulu-main', { force_state: null, base_url: 'http://127.0.0.1:9/api/getway' })
  t.match(cleared.json(), { version: 4, force_state: null, base_url: 'http://127.0.0.1:9/api/getway' })
  t.equal(ta.app.suppliers.get('fulu-main')?.settings.forceState, null)

  const entries = await ta.database.sql<{ details: Record<string, unknown> }[]>`
    select details from audit_log where action = 'supplier.update' and target_id = 'fulu-main' order by id`
  t.same(entries.map((e) => e.details), [
    { changed: ['force_state'], force_state: 'open' },
    { changed: ['timeout_ms', 'enabled', 'breaker.reset_timeout_ms'], enabled: false },
    { changed: ['base_url', 'force_state'], force_state: null }
  ])
})

t.test('PATCH credentials: validated by the instance\'s adapter, re-encrypted, loaded', async (t) => {
  const ta = await build(t)
  await create(ta, fulu())
  const [before] = await ta.database.sql<{ credentials_ciphertext: Buffer }[]>`select credentials_ciphertext from suppliers where id = 'fulu-main'`

  const newSecret = 'N3w-Secret-For-Fulu-abcdefghijkl'
  const bad = await patch(ta, 'fulu-main', { credentials: { app_key: 'key-2', app_secret: 'too-short-to-be-a-secret' } })
  t.equal(bad.statusCode, 400)
  t.same(bad.json().errors.map((e: { path: string }) => e.path), ['body.credentials.app_secret'])
  t.notOk(bad.body.includes('too-short-to-be-a-secret'))
  t.equal((await read(ta, 'fulu-main')).json().version, 1, 'a refused change changes nothing')

  const res = await patch(ta, 'fulu-main', { credentials: { app_key: 'key-2', app_secret: newSecret } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { version: 2, loaded: true })
  t.notOk(res.body.includes(newSecret))
  t.ok(ta.app.suppliers.get('fulu-main'), 'the registry loads the new credentials')

  const [after] = await ta.database.sql<{ credentials_ciphertext: Buffer, credentials_key_id: string }[]>`
    select credentials_ciphertext, credentials_key_id from suppliers where id = 'fulu-main'`
  t.notOk(after!.credentials_ciphertext.equals(before!.credentials_ciphertext), 're-encrypted')
  t.notOk(after!.credentials_ciphertext.includes(newSecret), 'never stored in clear')
  t.same(JSON.parse(ta.keyring.decryptString({ keyId: after!.credentials_key_id, ciphertext: after!.credentials_ciphertext }, credentialsAad('fulu-main'))),
    { app_key: 'key-2', app_secret: newSecret })

  const [audit] = await ta.database.sql<{ details: unknown }[]>`select details from audit_log where action = 'supplier.update'`
  t.same(audit?.details, { changed: ['credentials'] })
  const everything = JSON.stringify(await ta.database.sql`select * from audit_log`)
  t.notOk(everything.includes(newSecret) || everything.includes(SECRET), 'the audit log never holds a secret')
  t.notOk(ta.logs.text().includes(newSecret), 'nor do the logs')
})

t.test('PATCH refusals: adapter, nothing to change, unknown id', async (t) => {
  const ta = await build(t)
  await create(ta, fulu())
  const adapter = await patch(ta, 'fulu-main', { adapter: 'other' })
  t.equal(adapter.statusCode, 400)
  t.equal(adapter.json().code, 'invalid_request')
  t.equal((await patch(ta, 'fulu-main', {})).statusCode, 400)
  t.equal((await patch(ta, 'fulu-main', { breaker: {} })).statusCode, 400)
  t.equal((await patch(ta, 'fulu-main', { timeout_ms: 200_000 })).statusCode, 400)
  const missing = await patch(ta, 'no-such-supplier', { enabled: false })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'not_found')
  t.equal((await read(ta, 'fulu-main')).json().version, 1)
})

t.test('only ops and admin manage suppliers; reseller credentials are refused', async (t) => {
  const ta = await build(t)
  await create(ta, fulu())
  const reseller = await createReseller(ta)
  const calls = [
    { method: 'POST' as const, url: '/admin/v1/suppliers', payload: fulu({ id: 'fulu-x' }) },
    { method: 'GET' as const, url: '/admin/v1/suppliers' },
    { method: 'GET' as const, url: '/admin/v1/suppliers/fulu-main' },
    { method: 'PATCH' as const, url: '/admin/v1/suppliers/fulu-main', payload: { enabled: false } }
  ]
  for (const call of calls) {
    for (const role of ['support', 'finance'] as const) {
      const res = await ta.app.inject({ ...call, headers: ta.auth(role) })
      t.equal(res.statusCode, 403, `${call.method} ${call.url} as ${role}`)
      t.equal(res.json().code, 'forbidden')
    }
    const res = await ta.app.inject({ ...call, headers: reseller.bearer })
    t.equal(res.statusCode, 401, `${call.method} ${call.url} as a reseller`)
    const admin = await ta.app.inject({ ...call, headers: ta.auth('admin') })
    t.ok(admin.statusCode < 300, `${call.method} ${call.url} as admin: ${admin.statusCode}`)
  }
})

t.test('fulfilment routes must name existing supplier instances', async (t) => {
  const ta = await build(t)
  const ops = ta.auth('ops')
  const sku = {
    sku: 'tencent-video-vip-1m', name: 'Tencent Video VIP, 1 month', category: 'video', delivery: 'direct_recharge',
    recipient_type: 'account', face_value: 3000, currency: 'CNY'
  }
  t.equal((await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ops, payload: sku })).statusCode, 201)
  await create(ta, fulu())
  const routes = [
    { supplier: 'fulu-main', supplier_product_id: '10001', cost: 2500 },
    { supplier: 'ghost', supplier_product_id: '77', cost: 2550 }
  ]

  const unknown = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${sku.sku}/fulfilment`, headers: ops, payload: { routes } })
  t.equal(unknown.statusCode, 400)
  t.equal(unknown.json().code, 'invalid_request')
  t.same(unknown.json().errors, [{ path: 'body.routes.1.supplier', message: 'unknown supplier ghost' }])
  const unchanged = await ta.app.inject({ method: 'GET', url: `/admin/v1/skus/${sku.sku}`, headers: ops })
  t.same(unchanged.json().fulfilment.routes, [], 'nothing changed')

  const ok = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${sku.sku}/fulfilment`, headers: ops, payload: { routes: routes.slice(0, 1) } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().fulfilment.routes[0].supplier, 'fulu-main')

  const { sku: _id, ...fields } = sku
  const replaced = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${sku.sku}`, headers: ops, payload: { ...fields, fulfilment: { routes } } })
  t.equal(replaced.statusCode, 400, 'replacing the SKU checks its routes too')
  t.same(replaced.json().errors.map((e: { path: string }) => e.path), ['body.fulfilment.routes.1.supplier'])
  const created = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: ops, payload: { ...sku, sku: 'other-sku', fulfilment: { routes } } })
  t.equal(created.statusCode, 400, 'so does creating one')
  t.same(created.json().errors.map((e: { path: string }) => e.path), ['body.fulfilment.routes.1.supplier'])
})
