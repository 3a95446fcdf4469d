import t from 'tap'
import { build } from '../helper.js'
import { createReseller } from '../v1/helpers.js'

t.test('GET /admin/v1/alerts: newest first, filters, firing now, pagination, roles', async (t) => {
  const ta = await build(t)
  const { alerts } = ta.app.ops
  const raise = async (kind: 'low_stock' | 'breaker_open' | 'supplier_low_balance', subject: string): Promise<void> => {
    t.ok(await alerts.raise(kind, subject, { severity: 'warning', message: `${kind} ${subject}`, details: { n: 1 } }))
  }
  await raise('low_stock', 'sku-a')
  await raise('low_stock', 'sku-b')
  await raise('breaker_open', 'sup-a')
  t.ok(await alerts.clear('low_stock', 'sku-a', 'sku-a restocked'))
  // The database's clock, to the microsecond, as the events' created_at are.
  const [{ midway }] = await ta.database.sql<[{ midway: string }]>`select to_json(clock_timestamp())#>>'{}' as midway`
  await raise('supplier_low_balance', 'sup-a')
  await raise('low_stock', 'sku-a')
  t.notOk(await alerts.raise('low_stock', 'sku-a', { severity: 'warning', message: 'again' }), 'already firing: nothing recorded')
  t.notOk(await alerts.clear('breaker_open', 'sup-none', 'never raised'), 'nothing to clear')

  const get = async (query: string, role: 'ops' | 'support' | 'admin' = 'support') => await ta.app.inject({ method: 'GET', url: `/admin/v1/alerts${query}`, headers: ta.auth(role) })
  const all = await get('')
  t.equal(all.statusCode, 200)
  const body = all.json() as { data: { id: string, kind: string, subject: string, severity: string, firing: boolean, details: object, created_at: string }[], next_cursor: string | null }
  t.same(body.data.map((e) => `${e.kind}/${e.subject}/${e.severity}`), [
    'low_stock/sku-a/warning', 'supplier_low_balance/sup-a/warning', 'low_stock/sku-a/info', 'breaker_open/sup-a/warning',
    'low_stock/sku-b/warning', 'low_stock/sku-a/warning'
  ], 'newest first; the recovery is an info event')
  t.equal(body.next_cursor, null)
  t.match(body.data[0], { id: /^alr_\d+$/, message: 'low_stock sku-a', details: { n: 1 }, firing: true, created_at: /Z$/ })
  t.same(body.data.map((e) => e.firing), [true, true, true, true, true, true], 'every event here belongs to an alert firing now')

  const kinds = (await get('?kind=low_stock&subject=sku-a')).json().data.map((e: { severity: string }) => e.severity)
  t.same(kinds, ['warning', 'info', 'warning'], 'kind and subject')
  t.same((await get(`?since=${encodeURIComponent(midway)}`)).json().data.map((e: { kind: string }) => e.kind), ['low_stock', 'supplier_low_balance'], 'since')

  await alerts.clear('breaker_open', 'sup-a', 'closed')
  const firing = (await get('?firing=true', 'ops')).json()
  t.same(firing.data.map((e: { kind: string, subject: string }) => `${e.kind}/${e.subject}`), ['low_stock/sku-a', 'supplier_low_balance/sup-a', 'low_stock/sku-b'],
    'firing=true: one entry per alert firing now, by the event that raised it')
  t.same((await get('?firing=true&kind=low_stock')).json().data.map((e: { subject: string }) => e.subject), ['sku-a', 'sku-b'])
  const history = (await get('?kind=breaker_open')).json().data
  t.same(history.map((e: { firing: boolean, severity: string }) => [e.severity, e.firing]), [['info', false], ['warning', false]], 'cleared alerts read as not firing')

  const page1 = await get('?limit=2')
  t.equal(page1.json().data.length, 2)
  const page2 = await get(`?limit=2&cursor=${page1.json().next_cursor}`)
  const page3 = await get(`?limit=2&cursor=${page2.json().next_cursor}`)
  const page4 = await get(`?limit=2&cursor=${page3.json().next_cursor}`)
  t.equal(page4.json().next_cursor, null)
  const paged = [page1, page2, page3, page4].flatMap((p) => p.json().data.map((e: { id: string }) => e.id))
  const everything = (await get('?limit=200')).json().data.map((e: { id: string }) => e.id)
  t.same(paged, everything, 'pages walk the whole list once')
  t.same((await get('?firing=true&limit=1')).json().data.length, 1)
  const firingPage2 = await get(`?firing=true&limit=2&cursor=${(await get('?firing=true&limit=2')).json().next_cursor}`)
  t.same(firingPage2.json().data.map((e: { subject: string }) => e.subject), ['sku-b'])

  const invalid: [string, string][] = [['?limit=0', 'querystring.limit'], ['?limit=201', 'querystring.limit'], ['?kind=fire', 'querystring.kind'], ['?since=yesterday', 'querystring.since'], ['?firing=yes', 'querystring.firing']]
  for (const [query, path] of invalid) {
    const bad = await get(query)
    t.equal(bad.statusCode, 400, query)
    t.equal(bad.json().errors[0].path, path)
  }
  t.equal((await get('?cursor=nonsense')).statusCode, 400)

  t.equal((await get('', 'admin')).statusCode, 200, 'admin')
  t.equal((await ta.app.inject({ method: 'GET', url: '/admin/v1/alerts', headers: ta.auth('finance') })).statusCode, 403, 'finance may not')
  t.equal((await ta.app.inject({ method: 'GET', url: '/admin/v1/alerts' })).statusCode, 401, 'no credentials')
  const reseller = await createReseller(ta)
  t.equal((await ta.app.inject({ method: 'GET', url: '/admin/v1/alerts', headers: reseller.bearer })).statusCode, 401, 'reseller credentials')
})
