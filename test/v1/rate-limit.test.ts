import t from 'tap'
import { build, createTestDatabase, exclusive, spawnGateway, testEnv, type TestApp } from '../helper.js'
import { createReseller } from './helpers.js'

t.test('per-reseller limit in one process (memory store), 429 problem+json with retry-after', async (t) => {
  const ta = await build(t, { RATE_LIMIT_WINDOW_MS: '60000' })
  const rsl = await createReseller(ta, { rate_limit_per_minute: 5 })
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) statuses.push((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })).statusCode)
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429])
  const limited = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: rsl.bearer })
  t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(limited.json().code, 'rate_limited')
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60, `retry-after ${limited.headers['retry-after']}`)
  const other = await createReseller(ta, { rate_limit_per_minute: 5 })
  t.equal((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: other.bearer })).statusCode, 200, 'keyed by reseller, not by IP')
})

t.test('failed authentication is limited by IP', async (t) => {
  const ta = await build(t, { UNAUTHENTICATED_RATE_LIMIT: '3' })
  const codes: string[] = []
  for (let i = 0; i < 5; i++) codes.push((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: { authorization: `Bearer sk_guess_${i}` }, remoteAddress: '192.0.2.10' })).json().code)
  t.same(codes, ['unauthorized', 'unauthorized', 'unauthorized', 'rate_limited', 'rate_limited'])
  const elsewhere = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: { authorization: 'Bearer sk_guess' }, remoteAddress: '192.0.2.11' })
  t.equal(elsewhere.json().code, 'unauthorized', 'other addresses are not affected')
})

/** The answer codes of failed Bearer guesses, one from each address. */
async function guesses (ta: TestApp, addresses: string[]): Promise<string[]> {
  const codes: string[] = []
  for (const [i, remoteAddress] of addresses.entries()) {
    codes.push((await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: { authorization: `Bearer sk_guess_${i}` }, remoteAddress })).json().code)
  }
  return codes
}

t.test('failed authentication from IPv6 is limited per /64, so rotating addresses inside one does not help', async (t) => {
  const ta = await build(t, { UNAUTHENTICATED_RATE_LIMIT: '3' })
  const oneNetwork = Array.from({ length: 10 }, (_, i) => `2001:db8:1:2:${(i * 4099).toString(16)}:${i}:beef:${i + 1}`)
  t.same(await guesses(ta, oneNetwork), ['unauthorized', 'unauthorized', 'unauthorized', ...Array(7).fill('rate_limited')], '10 addresses, one /64, one count')
  t.same(await guesses(ta, ['2001:db8:1:3::1', '2001:db8:1:3::2', '2001:db8:1:3::3']), ['unauthorized', 'unauthorized', 'unauthorized'], 'the neighbouring /64 is counted apart')
})

t.test('an IPv4-mapped IPv6 caller is counted as its IPv4 address', async (t) => {
  const ta = await build(t, { UNAUTHENTICATED_RATE_LIMIT: '3' })
  t.same(await guesses(ta, ['192.0.2.20', '::ffff:192.0.2.20', '192.0.2.20', '::ffff:192.0.2.20']), ['unauthorized', 'unauthorized', 'unauthorized', 'rate_limited'])
  t.same(await guesses(ta, ['::ffff:192.0.2.21']), ['unauthorized'], 'the next IPv4 address is counted apart')
})

const redisUrl = process.env.REDIS_URL
t.test('the limit holds exactly across 3 processes sharing Redis', {
  skip: redisUrl ? false : 'REDIS_URL is not set: the cross-process rate limit needs a real Redis'
}, async (t) => {
  if (!redisUrl) return
  await exclusive(t)
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, {}, { databaseUrl })
  const limit = 25
  const rsl = await createReseller(ta, { rate_limit_per_minute: limit })
  const env = testEnv(databaseUrl, { REDIS_URL: redisUrl, LOG_LEVEL: 'info', WORKERS: 'false', RATE_LIMIT_WINDOW_MS: '60000', DATABASE_POOL_SIZE: '5' })
  const gateways = await Promise.all([1, 2, 3].map(async () => await spawnGateway(t, env)))
  const responses = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
    const gw = gateways[i % 3]!
    const res = await fetch(`${gw.url}/v1/balance`, { headers: rsl.bearer })
    return { status: res.status, retryAfter: res.headers.get('retry-after') }
  }))
  const ok = responses.filter((r) => r.status === 200).length
  const limited = responses.filter((r) => r.status === 429)
  t.equal(ok, limit, `exactly ${limit} of 60 admitted across the three processes`)
  t.equal(limited.length, 60 - limit)
  t.ok(limited.every((r) => Number(r.retryAfter) > 0), 'every 429 says when to retry')
})
