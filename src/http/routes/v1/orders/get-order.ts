import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { orderDeliveries } from '../../../../orders/deliveries.js'
import { getOrder } from '../../../../orders/orders.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { OrderIdParam, OrderSchema } from '../../../schemas/orders.js'
import { presentOrder } from '../present.js'

export default async function getOrderRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/orders/:id', {
    config: { reseller: true },
    schema: {
      operationId: 'orders.get',
      tags: ['reseller'],
      summary: 'One of your orders, with its deliveries',
      security: [{ bearer: [] }, { signature: [] }],
      params: OrderIdParam,
      response: { 200: OrderSchema }
    }
  }, async (request, reply) => {
    // Another reseller's order is exactly as absent as a missing one.
    const order = await getOrder(app.deps.database.sql, request.params.id, buyer(request).id)
    if (!order) throw new GatewayError('not_found', { detail: `no order ${request.params.id}` })
    const deliveries = await orderDeliveries(app.deps.database.sql, app.deps.keyring, order.id)
    return reply.header('cache-control', 'no-store').send(presentOrder(order, deliveries))
  })
}
