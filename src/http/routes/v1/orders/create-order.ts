import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { normaliseCallbackUrl } from '../../../callback-url.js'
import { orderDeliveries, type Delivery } from '../../../../orders/deliveries.js'
import { openDeliveries, placeOrder } from '../../../../orders/orders.js'
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
        '409 idempotency_conflict with a different body. Card-key orders complete in this call and include their codes. ' +
        'Risk rules may refuse the order (403 risk_refused, 429 quota_exceeded; nothing charged) or hold it: 201 with status pending_review, ' +
        'charged, fulfilled once an operator approves it (or failed with review_rejected and refunded).',
      security: [{ bearer: [] }, { signature: [] }],
      body: CreateOrderBody,
      response: { 200: OrderSchema, 201: OrderSchema }
    }
  }, async (request, reply) => {
    const body = { ...request.body, callback_url: normaliseCallbackUrl(request.body.callback_url, app.deps.config.callbackAllowPrivate, 'body.callback_url') ?? undefined }
    const { config, database, keyring } = app.deps
    const placed = await placeOrder({
      sql: database.sql, log: request.log, firstCallbackDelayMs: config.webhookRetryScheduleMs[0] ?? 0,
      supplierHealth: () => app.suppliers.health(), leaseMs: app.fulfilment.acceptLeaseMs()
    }, buyer(request), body, { clientIp: request.ip })
    let order = placed.order
    let deliveries: Delivery[]
    if (placed.keys.length > 0) {
      deliveries = openDeliveries(keyring, placed.keys).map((k) => ({ type: 'card_key', code: k.code, pin: k.pin, serial: k.serial, expiresAt: k.expiresAt }))
    } else {
      if (placed.fulfil) {
        void app.fulfilment.start(order, placed.fulfil.leaseToken, placed.fulfil.steps, placed.fulfil.sku)
        order = await app.fulfilment.waitForFinal(order.id, config.orderSyncWaitMs)
      }
      deliveries = await orderDeliveries(database.sql, keyring, order.id)
    }
    return reply.code(placed.created ? 201 : 200).header('cache-control', 'no-store').send(presentOrder(order, deliveries))
  })
}
