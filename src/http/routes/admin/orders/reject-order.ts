import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { rejectOrder } from '../../../../orders/review.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { AdminOrderSchema, OrderIdParam } from '../../../schemas/orders.js'
import { ReviewBody } from '../../../schemas/risk-rules.js'
import { presentAdminOrder } from './present.js'

export default async function rejectOrderRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/orders/:id/reject', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.orders.reject',
      tags: ['admin'],
      summary: 'Refuse an order held for review: failed with review_rejected, refunded in full, order.failed callback',
      description: 'The body (a reason for the record) is optional. 409 invalid_state unless the order is pending_review (of concurrent approve and reject, one wins).',
      security: [{ operatorToken: [] }],
      params: OrderIdParam,
      body: ReviewBody.nullish(),
      response: { 200: AdminOrderSchema }
    }
  }, async (request) => {
    const { config, database } = app.deps
    const order = await rejectOrder(database.sql, request.params.id, { actor: auditActor(request), reason: request.body?.reason ?? null }, config.webhookRetryScheduleMs[0] ?? 0)
    return await presentAdminOrder(database.sql, order)
  })
}
