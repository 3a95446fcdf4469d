import type postgres from 'postgres'
import type { z } from 'zod'
import { toDate } from '../../../../db/timestamps.js'
import type { RiskEntry } from '../../../../domain/risk/rules.js'
import { orderCost, type OrderRecord } from '../../../../orders/orders.js'
import { orderFields } from '../../../../orders/present.js'
import type { AdminOrderSchema } from '../../../schemas/orders.js'

/** An order as operators see it: no codes, with reseller, deliveries, attempts, cost and risk decisions. */
export async function presentAdminOrder (sql: postgres.Sql, o: OrderRecord): Promise<z.output<typeof AdminOrderSchema>> {
  const [keys, supplied, attempts, [screened]] = await Promise.all([
    sql<{ id: string, expires_at: unknown }[]>`select id, expires_at from card_keys where order_id = ${o.id} order by expires_at, id`,
    sql<{ type: 'card_key' | 'direct_recharge', attempt_id: string, reference: string | null, expires_at: unknown }[]>`
      select type, attempt_id, reference, expires_at from order_deliveries where order_id = ${o.id} order by id`,
    sql<{ id: string, supplier_id: string, supplier_product_id: string, status: z.output<typeof AdminOrderSchema>['attempts'][number]['outcome'], supplier_order_id: string | null,
      failure_code: string | null, failure_message: string | null, latency_ms: number | null, queries: number, cost: string, created_at: unknown, completed_at: unknown }[]>`
      select id, supplier_id, supplier_product_id, status, supplier_order_id, failure_code, failure_message, latency_ms, queries, cost, created_at, completed_at
      from supplier_attempts where order_id = ${o.id} order by id`,
    sql<{ client_ip: string | null, risk: RiskEntry[] }[]>`select client_ip, risk from orders where id = ${o.id}`
  ])
  const iso = (v: unknown): string | null => toDate(v)?.toISOString() ?? null
  return {
    ...orderFields(o),
    reseller_id: o.resellerId,
    deliveries: [
      ...supplied.map((d) => ({ type: d.type, source: 'supplier' as const, card_key_id: null, attempt_id: d.attempt_id, reference: d.reference, expires_at: iso(d.expires_at) })),
      ...keys.map((k) => ({ type: 'card_key' as const, source: 'pool' as const, card_key_id: k.id, attempt_id: null, reference: null, expires_at: iso(k.expires_at) }))
    ],
    attempts: attempts.map((a) => ({
      id: a.id, supplier: a.supplier_id, supplier_product_id: a.supplier_product_id, outcome: a.status, supplier_order_id: a.supplier_order_id,
      failure_code: a.failure_code, failure_message: a.failure_message, latency_ms: a.latency_ms, queries: a.queries, cost: Number(a.cost),
      created_at: iso(a.created_at) ?? '', completed_at: iso(a.completed_at)
    })),
    cost: await orderCost(sql, o.id),
    client_ip: screened?.client_ip ?? null,
    risk: screened?.risk ?? []
  }
}
