import { createServer, connect, type Server, type Socket } from 'node:net'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createKeyring } from '../../src/crypto/keyring.js'
import { createDatabase } from '../../src/db/client.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { pino } from 'pino'
import { build, createTestDatabase, LogCapture, TEST_KEYS, testEnv } from '../helper.js'

/** A TCP proxy in front of PostgreSQL that the test can cut and restore. */
async function startProxy (target: URL): Promise<{ port: number, cut (): Promise<void>, restore (): Promise<void>, close (): Promise<void> }> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  const listen = async (): Promise<void> => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname)
      sockets.add(client).add(upstream)
      client.pipe(upstream).pipe(client)
      const drop = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
    })
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve))
    const address = server.address()
    if (address && typeof address === 'object') port = address.port
  }
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy()
    sockets.clear()
    await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
    server = undefined
  }
  await listen()
  return { port, cut: close, restore: listen, close }
}

t.test('healthz is always ok while the process runs', async (t) => {
  const ta = await build(t)
  const res = await ta.app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('readyz follows the database: 200, 503 when it goes away, 200 when it returns', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  await migrateDatabase(databaseUrl)
  const real = new URL(databaseUrl)
  const proxy = await startProxy(real)
  t.teardown(() => proxy.close())
  const viaProxy = new URL(databaseUrl)
  viaProxy.hostname = '127.0.0.1'
  viaProxy.port = String(proxy.port)

  const config = loadConfig(testEnv(viaProxy.toString()))
  const database = createDatabase(viaProxy.toString(), { max: 2 })
  const logs = new LogCapture()
  const app = await buildApp({
    config, database, keyring: createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey), metrics: createMetrics(), logger: pino({ level: 'info' }, logs)
  })
  t.teardown(async () => { await app.close(); await database.close() })

  const up = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(up.statusCode, 200)
  t.same(up.json(), { status: 'ready' })

  await proxy.cut()
  const started = Date.now()
  const down = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(down.statusCode, 503)
  t.match(down.json(), { code: 'unavailable', detail: 'database unreachable' })
  t.ok(Date.now() - started < 6000, 'readiness answers promptly when the database is gone')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on the database')
  // Checking an operator token needs the database: the caller is told to retry, not that we failed.
  const api = await app.inject({ method: 'GET', url: '/admin/v1/skus', headers: { authorization: 'Bearer adm_whatever' } })
  t.equal(api.statusCode, 503)
  t.equal(api.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(api.json(), { code: 'unavailable', detail: 'a service the gateway depends on (such as its database) is unreachable; retry the request' }, 'an API request without its database is 503 unavailable')
  t.match(logs.text(), /ECONNREFUSED/, 'the log names the cause')
  t.notMatch(logs.text(), /Failed query|params:/, "but not the query's bound values (drizzle's wrapper is unwrapped)")

  await proxy.restore()
  let back = 0
  for (let i = 0; i < 50 && back !== 200; i++) {
    back = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode
    if (back !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(back, 200, 'ready again once the database returns')
})

t.test('readyz is 503 before migrations and while draining', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const config = loadConfig(testEnv(databaseUrl))
  const database = createDatabase(databaseUrl, { max: 2 })
  const app = await buildApp({
    config, database, keyring: createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey), metrics: createMetrics(), logger: pino({ level: 'silent' })
  })
  t.teardown(async () => { await app.close(); await database.close() })
  const unmigrated = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(unmigrated.statusCode, 503)
  t.match(unmigrated.json(), { detail: 'database migrations not applied' })

  await migrateDatabase(databaseUrl)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)

  app.draining = true
  const draining = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(draining.statusCode, 503)
  t.equal(draining.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(draining.headers.connection, 'close')
})
