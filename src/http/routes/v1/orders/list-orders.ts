import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ordersDeliveries } from '../../../../orders/deliveries.js'
import { listOrders } from '../../../../orders/orders.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { OrderListQuery, OrderSchema } from '../../../schemas/orders.js'
import { presentOrder } from '../present.js'

export default async function listOrdersRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/orders', {
    config: { reseller: true },
    schema: {
      operationId: 'orders.list',
      tags: ['reseller'],
      summary: 'Your orders, newest first; filter by client_order_id, status, sku, creation time',
      description: 'Each order as `GET /v1/orders/{id}` shows it, deliveries and codes included. ' +
        'After a timed-out `POST /v1/orders`, `?client_order_id=` finds the order and its outcome.',
      security: [{ bearer: [] }, { signature: [] }],
      querystring: OrderListQuery.extend({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(OrderSchema) }
    }
  }, async (request, reply) => {
    const q = request.query
    const beforeId = decodeCursor(q.cursor, z.string())
    const rows = await listOrders(app.deps.database.sql, {
      resellerId: buyer(request).id, clientOrderId: q.client_order_id, status: q.status, sku: q.sku, createdFrom: q.created_from, createdTo: q.created_to, beforeId
    }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    const deliveries = await ordersDeliveries(app.deps.database.sql, app.deps.keyring, data.map((o) => o.id))
    // Codes are in it, as in a single order's answer: no cache may keep it.
    return reply.header('cache-control', 'no-store').send({
      data: data.map((o) => presentOrder(o, deliveries.get(o.id) ?? [])), next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null
    })
  })
}
