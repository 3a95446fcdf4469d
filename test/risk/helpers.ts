import type { TestApp } from '../helper.js'
import { directSku } from '../suppliers/helpers.js'
import type { TestReseller } from '../v1/helpers.js'

/** A risk rule through the admin API; returns its id. */
export async function createRule (ta: TestApp, body: Record<string, unknown>): Promise<string> {
  const res = await ta.app.inject({ method: 'POST', url: '/admin/v1/risk-rules', headers: ta.auth('ops'), payload: { action: 'refuse', ...body } })
  if (res.statusCode !== 201) throw new Error(`risk rule creation failed: ${res.statusCode} ${res.body}`)
  return (res.json() as { id: string }).id
}

/**
 * A direct-recharge SKU (an `account` recipient) served from the card pool only, with
 * `keys` codes in stock: recipient rules need a recipient, and no supplier is involved.
 */
export async function accountSku (ta: TestApp, sku: string, price: number, keys: number): Promise<void> {
  await directSku(ta, sku, price, { card_pool: 'only' })
  const codes = Array.from({ length: keys }, (_, i) => ({ code: `${sku.toUpperCase()}-${i}-${Math.random().toString(36).slice(2)}` }))
  const imported = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${sku}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: 1, codes } })
  if (imported.statusCode !== 201) throw new Error(`import failed: ${imported.body}`)
}

export interface Placed {
  status: number
  body: { id: string, status: string, code?: string, detail?: string, deliveries?: { code?: string }[] }
  headers: Record<string, unknown>
}

export async function order (ta: TestApp, buyer: TestReseller, payload: Record<string, unknown>, remoteAddress = '127.0.0.1'): Promise<Placed> {
  const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: buyer.bearer, payload, remoteAddress })
  return { status: res.statusCode, body: res.json(), headers: res.headers }
}

export async function balanceOf (ta: TestApp, buyer: TestReseller): Promise<number> {
  const res = await ta.app.inject({ method: 'GET', url: '/v1/balance', headers: buyer.bearer })
  return (res.json() as { available: number }).available
}

export interface AdminOrderView {
  id: string
  status: string
  failure: { code: string } | null
  client_ip: string | null
  risk: { type: string, rule_id?: string, kind?: string, action?: string, hit?: boolean, measured?: Record<string, unknown>, decision?: string, by?: string, reason?: string | null }[]
  deliveries: { source: string }[]
  attempts: { supplier: string, outcome: string }[]
}

export async function adminOrder (ta: TestApp, id: string): Promise<AdminOrderView> {
  const res = await ta.app.inject({ method: 'GET', url: `/admin/v1/orders/${id}`, headers: ta.auth('support') })
  if (res.statusCode !== 200) throw new Error(`admin order read failed: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Orders kept for a reseller (refused ones never are). */
export async function orderCount (ta: TestApp, buyer: TestReseller): Promise<number> {
  const [row] = await ta.database.sql<{ n: number }[]>`select count(*)::int as n from orders where reseller_id = ${buyer.id}`
  return row?.n ?? 0
}
