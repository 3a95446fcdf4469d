import type { Test } from 'tap'
import { startFuluSimulator, type FuluKnobs } from '../../adapters/fulu/simulator.js'
import type { TestApp } from '../helper.js'
import { until } from '../webhooks/helpers.js'
import type { TestReseller } from '../v1/helpers.js'

export const FULU_CREDENTIALS = { app_key: 'test-app-key', app_secret: '0123456789abcdef0123456789abcdef' }

export type FuluSim = Awaited<ReturnType<typeof startFuluSimulator>>

export async function fuluSim (t: Test, knobs: Partial<FuluKnobs> = {}): Promise<FuluSim> {
  const sim = await startFuluSimulator({ appKey: FULU_CREDENTIALS.app_key, appSecret: FULU_CREDENTIALS.app_secret, knobs })
  t.teardown(sim.close)
  return sim
}

/** A Fulu supplier instance through the admin API, with a short deadline for compressed tests. */
export async function createSupplier (ta: TestApp, id: string, baseUrl: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await ta.app.inject({
    method: 'POST', url: '/admin/v1/suppliers', headers: ta.auth('ops'),
    payload: { id, adapter: 'fulu', base_url: baseUrl, credentials: FULU_CREDENTIALS, timeout_ms: 500, ...extra }
  })
  if (res.statusCode !== 201) throw new Error(`supplier creation failed: ${res.statusCode} ${res.body}`)
}

export const route = (supplier: string, priority: number, extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ supplier, supplier_product_id: '10000498', cost: 90, priority, ...extra })

/** A direct-recharge SKU priced for tier `standard` and routed as given. */
export async function directSku (ta: TestApp, sku: string, price: number, fulfilment: Record<string, unknown>): Promise<void> {
  const created = await ta.app.inject({
    method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'),
    payload: { sku, name: sku, category: 'video', delivery: 'direct_recharge', recipient_type: 'account', face_value: price + 100, currency: 'CNY' }
  })
  if (created.statusCode !== 201) throw new Error(`sku creation failed: ${created.body}`)
  const routed = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${sku}/fulfilment`, headers: ta.auth('ops'), payload: fulfilment })
  if (routed.statusCode !== 200) throw new Error(`fulfilment refused: ${routed.body}`)
  const current = await ta.app.inject({ method: 'GET', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance') })
  const prices = (current.json() as { prices: { sku: string, price: number }[] }).prices.map((p) => ({ sku: p.sku, price: p.price }))
  const priced = await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: [...prices, { sku, price }] })
  if (priced.statusCode !== 200) throw new Error(`pricing failed: ${priced.body}`)
}

export interface OrderBody {
  id: string
  status: string
  amount: number
  failure: { code: string } | null
  deliveries: { type: string, reference?: string, code?: string }[]
}

export async function buy (ta: TestApp, buyer: TestReseller, clientOrderId: string, sku: string, account = '13800138000'): Promise<{ status: number, body: OrderBody & { code?: string } }> {
  const res = await ta.app.inject({
    method: 'POST', url: '/v1/orders', headers: buyer.bearer,
    payload: { client_order_id: clientOrderId, sku, recipient: { account } }
  })
  return { status: res.statusCode, body: res.json() }
}

/** Ledger movements of one order: what the reseller was charged and refunded. */
export async function moneyOf (ta: TestApp, orderId: string): Promise<{ debits: number, refunds: number }> {
  const rows = await ta.database.sql<{ kind: string, amount: string }[]>`select kind, amount from ledger_entries where order_id = ${orderId}`
  return {
    debits: rows.filter((r) => r.kind === 'order_debit').reduce((s, r) => s - Number(r.amount), 0),
    refunds: rows.filter((r) => r.kind === 'order_refund').reduce((s, r) => s + Number(r.amount), 0)
  }
}

export async function attemptsOf (ta: TestApp, orderId: string): Promise<{ supplier_id: string, status: string, failure_code: string | null, queries: number }[]> {
  return await ta.database.sql`select supplier_id, status, failure_code, queries from supplier_attempts where order_id = ${orderId} order by id`
}

/** Runs the poller (as the worker would, compressed) until the order's status satisfies `done`. */
export async function driveUntil (ta: TestApp, orderId: string, done: (status: string | undefined) => boolean): Promise<void> {
  await until(async () => {
    await ta.database.sql`update orders set next_check_at = now() where id = ${orderId} and lease_until is null`
    await ta.app.fulfilment.runDue()
    const [o] = await ta.database.sql<{ status: string }[]>`select status from orders where id = ${orderId}`
    return done(o?.status)
  }, 10_000)
}
