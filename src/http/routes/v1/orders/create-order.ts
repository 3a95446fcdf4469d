import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { normaliseCallbackUrl } from '../../../callback-url.js'
import { orderDeliveries, poolDeliveries, type Delivery } from '../../../../orders/deliveries.js'
import { placeOrder } from '../../../../orders/orders.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { CreateOrderBody, OrderSchema } from '../../../schemas/orders.js'
import { presentOrder } from '../present.js'

export default async function createOrder (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/orders', {
    config: { reseller: true, nonceInHandler: true },
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
      supplierHealth: () => app.suppliers.health(), leaseMs: app.fulfilment.acceptLeaseMs(), catalog: app.catalog,
      attemptWithOrder: (supplier) => {
        const executor = app.suppliers.get(supplier)
        return executor !== undefined && executor.adapter.purchaseLimit === undefined
      }
    }, buyer(request), body, { clientIp: request.ip, nonce: request.nonce })
    let order = placed.order
    let deliveries: Delivery[] | undefined
    if (placed.keys.length > 0) {
      deliveries = poolDeliveries(keyring, placed.keys)
    } else if (placed.fulfil) {
      const started = Date.now()
      const drive = app.fulfilment.start(order, placed.fulfil.leaseToken, placed.fulfil.steps, placed.fulfil.sku, placed.fulfil.attemptId)
      // Finished by this drive within the wait: its answer is the response, nothing to read back.
      const finished = await app.fulfilment.within(drive, config.orderSyncWaitMs)
      if (finished) ({ order, deliveries } = finished)
      else order = await app.fulfilment.waitForFinal(order.id, Math.max(0, config.orderSyncWaitMs - (Date.now() - started)))
    }
    deliveries ??= await orderDeliveries(database.sql, keyring, order.id)
    return reply.code(placed.created ? 201 : 200).header('cache-control', 'no-store').send(presentOrder(order, deliveries))
  })
}
