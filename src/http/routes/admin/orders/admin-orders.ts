import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { getOrder, listOrders } from '../../../../orders/orders.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { AdminOrderSchema, OrderIdParam, OrderListQuery } from '../../../schemas/orders.js'
import { presentAdminOrder } from './present.js'

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
