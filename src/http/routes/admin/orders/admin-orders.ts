import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type postgres from 'postgres'
import { z } from 'zod'
import { toDate } from '../../../../db/timestamps.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { getOrder, listOrders, orderCost, type OrderRecord } from '../../../../orders/orders.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { AdminOrderSchema, OrderIdParam, OrderListQuery } from '../../../schemas/orders.js'
import { orderFields } from '../../../../orders/present.js'

async function presentAdminOrder (sql: postgres.Sql, o: OrderRecord): Promise<z.output<typeof AdminOrderSchema>> {
  const [keys, supplied, attempts] = await Promise.all([
    sql<{ id: string, expires_at: unknown }[]>`select id, expires_at from card_keys where order_id = ${o.id} order by expires_at, id`,
    sql<{ type: 'card_key' | 'direct_recharge', attempt_id: string, reference: string | null, expires_at: unknown }[]>`
      select type, attempt_id, reference, expires_at from order_deliveries where order_id = ${o.id} order by id`,
    sql<{ id: string, supplier_id: string, supplier_product_id: string, status: z.output<typeof AdminOrderSchema>['attempts'][number]['outcome'], supplier_order_id: string | null,
      failure_code: string | null, failure_message: string | null, latency_ms: number | null, queries: number, cost: string, created_at: unknown, completed_at: unknown }[]>`
      select id, supplier_id, supplier_product_id, status, supplier_order_id, failure_code, failure_message, latency_ms, queries, cost, created_at, completed_at
      from supplier_attempts where order_id = ${o.id} order by id`
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
    cost: await orderCost(sql, o.id)
  }
}

export default async function adminOrderRoutes (app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const { sql } = app.deps.database

  r.get('/admin/v1/orders', {
    config: { roles: ['support', 'finance', 'ops'] },
    schema: {
      operationId: 'admin.orders.list',
      tags: ['admin'],
      summary: 'All orders, newest first',
      security: [{ operatorToken: [] }],
      querystring: OrderListQuery.extend({ reseller_id: z.string().max(64).optional(), limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(AdminOrderSchema) }
    }
  }, async (request) => {
    const q = request.query
    const beforeId = decodeCursor(q.cursor, z.string())
    const rows = await listOrders(sql, {
      resellerId: q.reseller_id, clientOrderId: q.client_order_id, status: q.status, sku: q.sku, createdFrom: q.created_from, createdTo: q.created_to, beforeId
    }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    return { data: await Promise.all(data.map(async (o) => await presentAdminOrder(sql, o))), next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null }
  })

  r.get('/admin/v1/orders/:id', {
    config: { roles: ['support', 'finance', 'ops'] },
    schema: {
      operationId: 'admin.orders.get',
      tags: ['admin'],
      summary: 'One order with its reseller, deliveries (without codes), attempts and cost',
      security: [{ operatorToken: [] }],
      params: OrderIdParam,
      response: { 200: AdminOrderSchema }
    }
  }, async (request) => {
    const order = await getOrder(sql, request.params.id)
    if (!order) throw new GatewayError('not_found', { detail: `no order ${request.params.id}` })
    return await presentAdminOrder(sql, order)
  })
}
