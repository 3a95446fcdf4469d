import t from 'tap'
import { build } from '../helper.js'

const PROBLEM = 'application/problem+json; charset=utf-8'

t.test('problem+json for unknown routes, with a request id', async (t) => {
  const ta = await build(t)
  const res = await ta.app.inject({ method: 'GET', url: '/v1/nothing-here' })
  t.equal(res.statusCode, 404)
  t.equal(res.headers['content-type'], PROBLEM)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['code', 'detail', 'request_id', 'status', 'title', 'type'])
  t.match(body, { type: 'about:blank', status: 404, code: 'not_found', title: 'Not found' })
  t.equal(body.request_id, res.headers['x-request-id'])
  t.match(body.request_id, /^req_/)
})

t.test('a URL Fastify cannot decode is problem+json 400 with a request id too', async (t) => {
  const ta = await build(t)
  const res = await ta.app.inject({ method: 'GET', url: '/v1/orders/%E0%A4%A' })
  t.equal(res.statusCode, 400)
  t.equal(res.headers['content-type'], PROBLEM)
  t.match(res.json(), { status: 400, code: 'invalid_request', request_id: /^req_/ })
  t.equal(res.json().request_id, res.headers['x-request-id'])
})

t.test('x-request-id is taken from the caller when sane, replaced otherwise', async (t) => {
  const ta = await build(t)
  const kept = await ta.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'merchant-123.abc' } })
  t.equal(kept.headers['x-request-id'], 'merchant-123.abc')
  const replaced = await ta.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id <script>' } })
  t.match(replaced.headers['x-request-id'], /^req_[A-Za-z0-9_-]+$/)
  const long = await ta.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'x'.repeat(500) } })
  t.match(long.headers['x-request-id'], /^req_/)
})

t.test('bodies over 1 MiB get 413 payload_too_large; at the limit they are parsed', async (t) => {
  const ta = await build(t)
  const big = JSON.stringify({ sku: 'x', name: 'y'.repeat(1024 * 1024) })
  const res = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: { ...ta.auth('ops'), 'content-type': 'application/json' }, payload: big })
  t.equal(res.statusCode, 413)
  t.equal(res.headers['content-type'], PROBLEM)
  t.match(res.json(), { status: 413, code: 'payload_too_large' })

  const atLimit = JSON.stringify({ sku: 'x', pad: 'y'.repeat(1024 * 1024 - 30) })
  t.ok(Buffer.byteLength(atLimit) <= 1024 * 1024)
  const parsed = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: { ...ta.auth('ops'), 'content-type': 'application/json' }, payload: atLimit })
  t.equal(parsed.statusCode, 400, 'a body at the limit reaches validation')
})

t.test('malformed JSON, wrong content type and validation failures', async (t) => {
  const ta = await build(t)
  const headers = { ...ta.auth('ops'), 'content-type': 'application/json' }
  const broken = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers, payload: '{"sku": ' })
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { code: 'invalid_request', status: 400 })

  const text = await ta.app.inject({ method: 'POST', url: '/admin/v1/skus', headers: { ...ta.auth('ops'), 'content-type': 'application/xml' }, payload: '<sku/>' })
  t.equal(text.statusCode, 415)
  t.match(text.json(), { code: 'unsupported_media_type' })

  const query = await ta.app.inject({ method: 'GET', url: '/admin/v1/skus?limit=500', headers: ta.auth('ops') })
  t.equal(query.statusCode, 400)
  t.same(query.json().errors.map((e: { path: string }) => e.path), ['querystring.limit'])
})

t.test('internal errors are generic to the caller and detailed in the log', async (t) => {
  const ta = await build(t)
  // Break the database under the app: the handler fails with a driver error.
  await ta.database.sql`drop table tier_prices`
  const res = await ta.app.inject({ method: 'GET', url: '/admin/v1/tiers/gold/prices', headers: ta.auth('finance') })
  t.equal(res.statusCode, 500)
  t.match(res.json(), { code: 'internal_error', status: 500 })
  t.equal(res.json().detail, undefined, 'no internals in the response')
  t.notMatch(res.body, /tier_prices|relation|postgres/i)
  t.match(ta.logs.text(), /tier_prices/, 'the log has the cause')
})

t.test('metrics expose the latency histogram by route template and process metrics', async (t) => {
  const ta = await build(t)
  await ta.app.inject({ method: 'GET', url: '/admin/v1/skus/some-sku', headers: ta.auth('ops') })
  await ta.app.inject({ method: 'GET', url: '/healthz' })
  const res = await ta.app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  t.match(res.body, /http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/admin\/v1\/skus\/:sku",status_code="404"\}/)
  t.match(res.body, /http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} 1/)
  t.match(res.body, /process_resident_memory_bytes/)
  t.match(res.body, /nodejs_eventloop_lag_seconds/)
})
