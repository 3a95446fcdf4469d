import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { listWebhookEvents, redeliver } from '../../../../webhooks/events.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { WebhookEventIdParam, WebhookEventQuery, WebhookEventSchema } from '../../../schemas/webhooks.js'

export default async function webhookEventRoutes (app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const { sql } = app.deps.database
  r.get('/v1/webhook-events', {
    config: { reseller: true },
    schema: {
      operationId: 'webhook_events.list',
      tags: ['reseller'],
      summary: 'Callbacks sent to you, newest first, with delivery status, attempts and last error',
      security: [{ bearer: [] }, { signature: [] }],
      querystring: WebhookEventQuery.extend({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(WebhookEventSchema) }
    }
  }, async (request) => {
    const q = request.query
    const rows = await listWebhookEvents(sql, { resellerId: buyer(request).id }, { status: q.status, beforeId: decodeCursor(q.cursor, z.string()) }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    return { data, next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null }
  })

  r.post('/v1/webhook-events/:id/redeliver', {
    config: { reseller: true },
    schema: {
      operationId: 'webhook_events.redeliver',
      tags: ['reseller'],
      summary: 'Send a callback again now (same webhook-id, fresh retry schedule)',
      security: [{ bearer: [] }, { signature: [] }],
      params: WebhookEventIdParam,
      response: { 202: WebhookEventSchema }
    }
  }, async (request, reply) => {
    const event = await redeliver(sql, request.params.id, { resellerId: buyer(request).id })
    if (!event) throw new GatewayError('not_found', { detail: `no webhook event ${request.params.id}` })
    return reply.code(202).send(event)
  })
}
