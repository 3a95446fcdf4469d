import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { normaliseCallbackUrl } from '../../../callback-url.js'
import { cardKeyDeliveries, openDeliveries, placeOrder } from '../../../../orders/orders.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { CreateOrderBody, OrderSchema } from '../../../schemas/orders.js'
import { presentOrder } from '../present.js'

export default async function createOrder (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/orders', {
    config: { reseller: true },
    schema: {
      operationId: 'orders.create',
      tags: ['reseller'],
      summary: 'Buy an entitlement (idempotent by client_order_id)',
      description: '201 with the new order; 200 with the existing one when the same client_order_id is sent again with the same body; ' +
        '409 idempotency_conflict with a different body. Card-key orders complete in this call and include their codes.',
      security: [{ bearer: [] }, { signature: [] }],
      body: CreateOrderBody,
      response: { 200: OrderSchema, 201: OrderSchema }
    }
  }, async (request, reply) => {
    const body = { ...request.body, callback_url: normaliseCallbackUrl(request.body.callback_url, app.deps.config.callbackAllowPrivate, 'body.callback_url') ?? undefined }
    const { order, created, keys } = await placeOrder({ sql: app.deps.database.sql, log: request.log, firstCallbackDelayMs: app.deps.config.webhookRetryScheduleMs[0] ?? 0 }, buyer(request), body)
    const deliveries = created ? openDeliveries(app.deps.keyring, keys) : await cardKeyDeliveries(app.deps.database.sql, app.deps.keyring, order.id)
    return reply.code(created ? 201 : 200).header('cache-control', 'no-store').send(presentOrder(order, deliveries))
  })
}
