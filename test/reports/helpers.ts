import { parseCsvLine } from '../../src/pool/csv.js'
import type { TestApp } from '../helper.js'
import type { TestReseller } from '../v1/helpers.js'

/** What the test itself knows about an order it placed: enough to settle it by hand. */
export interface Placed {
  id: string
  reseller: string
  sku: string
  currency: string
  amount: number
  status: string
  /** What the test configured it to cost: the route cost of the supplier that serves it, or the batch unit costs. */
  cost: number
  /** The supplier the test expects to deliver it (`card_pool` for pool keys), null when nothing does. */
  supplier: string | null
  createdAt: Date
  completedAt: Date | null
}

export interface OrderAnswer {
  id: string
  status: string
  amount: number
  currency: string
  created_at: string
  completed_at: string | null
}

export async function place (ta: TestApp, buyer: TestReseller, clientOrderId: string, sku: string, recipient: Record<string, string> = {}, quantity = 1): Promise<OrderAnswer> {
  const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: buyer.bearer, payload: { client_order_id: clientOrderId, sku, recipient, quantity } })
  if (res.statusCode !== 201) throw new Error(`order ${clientOrderId} refused: ${res.statusCode} ${res.body}`)
  return res.json()
}

export function placed (answer: OrderAnswer, buyer: TestReseller, sku: string, cost: number, supplier: string | null): Placed {
  return {
    id: answer.id, reseller: buyer.id, sku, currency: answer.currency, amount: answer.amount, status: answer.status, cost, supplier,
    createdAt: new Date(answer.created_at), completedAt: answer.completed_at === null ? null : new Date(answer.completed_at)
  }
}

export interface Figures { orders: number, succeeded: number, failed: number, revenue: number, cost: number, margin: number, refunds: number }
export type Row = Figures & { group: string | null, currency: string }

const inside = (at: Date | null, from: Date, to: Date): boolean => at !== null && at >= from && at < to

/**
 * The settlement of the orders the test placed, summed here from the test's own records
 * (README, "Settlement report"): placed by created_at, outcomes and money by completed_at,
 * a failed order refunded in full when it failed.
 */
export function settleByHand (orders: Placed[], from: Date, to: Date, groupBy: 'reseller' | 'sku' | 'supplier'): Row[] {
  const rows = new Map<string, Row>()
  for (const o of orders) {
    const group = groupBy === 'reseller' ? o.reseller : groupBy === 'sku' ? o.sku : o.supplier
    const placedIn = inside(o.createdAt, from, to)
    const endedIn = inside(o.completedAt, from, to)
    const succeeded = endedIn && o.status === 'succeeded'
    const failed = endedIn && o.status === 'failed'
    if (!placedIn && !endedIn) continue
    const key = `${group ?? ''}|${o.currency}`
    const row = rows.get(key) ?? { group, currency: o.currency, orders: 0, succeeded: 0, failed: 0, revenue: 0, cost: 0, margin: 0, refunds: 0 }
    if (placedIn) row.orders++
    if (succeeded) { row.succeeded++; row.revenue += o.amount; row.cost += o.cost; row.margin += o.amount - o.cost }
    if (failed) { row.failed++; row.refunds += o.amount }
    rows.set(key, row)
  }
  return sortRows([...rows.values()])
}

export function sortRows<R extends { group: string | null, currency: string }> (rows: R[]): R[] {
  return [...rows].sort((a, b) => (a.group ?? '\uffff').localeCompare(b.group ?? '\uffff') || a.currency.localeCompare(b.currency))
}

/** A CSV document as records of strings (no line breaks inside fields in these reports). */
export function readCsv (text: string): string[][] {
  const lines = text.split('\r\n')
  if (lines.at(-1) === '') lines.pop()
  return lines.map((line) => {
    const fields = parseCsvLine(line)
    if (!Array.isArray(fields)) throw new Error(`bad CSV line ${JSON.stringify(line)}: ${fields.error}`)
    return fields
  })
}
