import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { getOrder } from '../../../../orders/orders.js'
import { approveOrder, reviewPlan } from '../../../../orders/review.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { AdminOrderSchema, OrderIdParam } from '../../../schemas/orders.js'
import { ReviewBody } from '../../../schemas/risk-rules.js'
import { presentAdminOrder } from './present.js'

export default async function approveOrderRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/orders/:id/approve', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.orders.approve',
      tags: ['admin'],
      summary: 'Release an order held for review: it is fulfilled as any accepted order (waits up to ORDER_SYNC_WAIT_MS for the outcome)',
      description: 'The body (a reason for the record) is optional. 409 invalid_state unless the order is pending_review (of concurrent approve and reject, one wins); ' +
        '409 sku_unavailable, the order staying held, when no route can serve its SKU now.',
      security: [{ operatorToken: [] }],
      params: OrderIdParam,
      body: ReviewBody.nullish(),
      response: { 200: AdminOrderSchema }
    }
  }, async (request) => {
    const { id } = request.params
    const { sql } = app.deps.database
    const held = await getOrder(sql, id)
    if (!held) throw new GatewayError('not_found', { detail: `no order ${id}` })
    if (held.status !== 'pending_review') throw new GatewayError('invalid_state', { detail: `order ${id} is ${held.status}, not pending_review` })
    const steps = await reviewPlan(sql, held, app.suppliers.health())
    if (steps.length === 0) throw new GatewayError('sku_unavailable', { detail: `${held.sku} has no route that can fulfil it now; the order stays held` })
    const { order, leaseToken } = await approveOrder(sql, id, { actor: auditActor(request), reason: request.body?.reason ?? null }, app.fulfilment.acceptLeaseMs())
    void app.fulfilment.start(order, leaseToken, steps)
    return await presentAdminOrder(sql, await app.fulfilment.waitForFinal(order.id, app.deps.config.orderSyncWaitMs))
  })
}
