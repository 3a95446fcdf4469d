import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createTestDatabase, spawnGateway, testEnv } from '../helper.js'

interface Order { id: string, status: string, amount: number, deliveries: { type: string, code?: string, reference?: string }[] }

t.test('the sandbox: a newcomer buys one SKU of each category through the public API', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const dataDir = await mkdtemp(join(tmpdir(), 'egw-sandbox-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const gw = await spawnGateway(t, testEnv(databaseUrl, { SANDBOX: 'true', DATA_DIR: dataDir, LOG_LEVEL: 'info', SUPPLIER_POLL_INTERVAL_MS: '500' }))
  const demo = JSON.parse(await readFile(join(dataDir, 'sandbox-reseller.json'), 'utf8')) as { secret: string }
  t.notOk(gw.output().includes(demo.secret), 'the demo secret is not printed when stdout is not a terminal')
  const headers = { authorization: `Bearer ${demo.secret}`, 'content-type': 'application/json' }
  const balance = async (): Promise<number> => ((await (await fetch(`${gw.url}/v1/balance`, { headers })).json()) as { available: number }).available

  const products = await (await fetch(`${gw.url}/v1/products`, { headers })).json() as { data: { sku: string, category: string, available: boolean }[] }
  t.same(products.data.map((p) => p.category).sort(), ['game', 'gift_card', 'mobile', 'video'], 'one SKU per category')
  t.ok(products.data.every((p) => p.available), 'each can be bought now')

  const before = await balance()
  const wanted: Record<string, { recipient: Record<string, string>, delivery: string }> = {
    'tencent-video-vip-1m': { recipient: { account: '13800138000' }, delivery: 'direct_recharge' },
    'china-mobile-topup-50': { recipient: { phone: '+8613800138000' }, delivery: 'direct_recharge' },
    'genshin-genesis-crystals-60': { recipient: { account: '10086001', server: '天空岛' }, delivery: 'direct_recharge' },
    'steam-wallet-cny-50': { recipient: {}, delivery: 'card_key' }
  }
  const orders = await Promise.all(Object.entries(wanted).map(async ([sku, w]) => {
    const res = await fetch(`${gw.url}/v1/orders`, { method: 'POST', headers, body: JSON.stringify({ client_order_id: `e2e-${sku}`, sku, recipient: w.recipient }) })
    t.equal(res.status, 201, `${sku} accepted`)
    return { sku, order: await res.json() as Order }
  }))
  // The simulators complete half a second later and call back; the sync wait (3 s) usually
  // covers it, and the order is read again otherwise.
  for (const { sku, order } of orders) {
    let current = order
    const deadline = Date.now() + 15_000
    while (current.status === 'processing' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      current = await (await fetch(`${gw.url}/v1/orders/${order.id}`, { headers })).json() as Order
    }
    t.equal(current.status, 'succeeded', `${sku} succeeded`)
    t.equal(current.deliveries[0]?.type, wanted[sku]?.delivery, `${sku} delivered as ${wanted[sku]?.delivery}`)
    if (wanted[sku]?.delivery === 'card_key') t.ok(current.deliveries.every((d) => (d.code ?? '').length > 0), 'with a code')
  }
  t.equal(await balance(), before - orders.reduce((sum, o) => sum + o.order.amount, 0), 'each charged once')

  const token = (await readFile(join(dataDir, 'sandbox-admin-token'), 'utf8')).trim()
  const suppliers = new Set<string>()
  for (const { order } of orders) {
    const admin = await (await fetch(`${gw.url}/admin/v1/orders/${order.id}`, { headers: { authorization: `Bearer ${token}` } })).json() as { attempts: { supplier: string, outcome: string }[] }
    for (const a of admin.attempts) if (a.outcome === 'succeeded') suppliers.add(a.supplier)
  }
  t.same([...suppliers].sort(), ['fulu-sandbox', 'kashangwl-sandbox', 'reloadly-airtime-sandbox', 'reloadly-giftcards-sandbox'], 'each category was served by its own supplier protocol')
})
