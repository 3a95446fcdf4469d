import { request } from 'node:http'
import t from 'tap'
import { createTestDatabase, spawnGateway, testEnv } from '../helper.js'

const BOOTSTRAP = 'adm_' + 'b'.repeat(40)

t.test('SIGTERM lets an in-flight request finish, refuses new work, exits 0', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const gw = await spawnGateway(t, testEnv(databaseUrl, { BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, LOG_LEVEL: 'info' }))
  const url = new URL(gw.url)

  const body = JSON.stringify({ sku: 'slow-upload-sku', name: 'Slow', category: 'other', delivery: 'card_key', recipient_type: 'none', face_value: 100, currency: 'CNY' })
  const half = Math.floor(body.length / 2)
  const response = new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = request({
      host: url.hostname, port: url.port, method: 'POST', path: '/admin/v1/skus',
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += d.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.write(body.slice(0, half))
    // The rest is sent after SIGTERM has arrived.
    setTimeout(() => req.end(body.slice(half)), 800)
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  const exited = gw.stop()

  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(gw.child.exitCode, null, 'still running while a request is in flight')
  const refused = await fetch(`${gw.url}/healthz`).then((r) => r.status, () => 'connection refused')
  t.ok(refused === 'connection refused' || refused === 503, `new requests are refused during drain (${refused})`)

  const finished = await response
  t.equal(finished.status, 201, 'the in-flight request completed')
  t.equal(JSON.parse(finished.body).sku, 'slow-upload-sku')
  t.equal(await exited, 0, 'clean exit')
  t.match(gw.output(), /shutdown complete/)
})
