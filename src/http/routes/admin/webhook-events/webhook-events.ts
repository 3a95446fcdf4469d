import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { writeAuditSql } from '../../../../db/repositories/audit-log.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { listWebhookEvents, redeliver, rotateWebhookSecret } from '../../../../webhooks/events.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { ResellerIdParam } from '../../../schemas/resellers.js'
import { WebhookEventIdParam, WebhookEventQuery, WebhookEventSchema } from '../../../schemas/webhooks.js'

export default async function adminWebhookRoutes (app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const { sql } = app.deps.database
  r.get('/admin/v1/webhook-events', {
    config: { roles: ['support', 'ops'] },
    schema: {
      operationId: 'admin.webhook_events.list',
      tags: ['admin'],
      summary: 'All callbacks, newest first',
      security: [{ operatorToken: [] }],
      querystring: WebhookEventQuery.extend({ reseller_id: z.string().max(64).optional(), limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(WebhookEventSchema) }
    }
  }, async (request) => {
    const q = request.query
    const rows = await listWebhookEvents(sql, 'operator', { resellerId: q.reseller_id, status: q.status, beforeId: decodeCursor(q.cursor, z.string()) }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    return { data, next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null }
  })

  r.post('/admin/v1/webhook-events/:id/redeliver', {
    config: { roles: ['support'] },
    schema: {
      operationId: 'admin.webhook_events.redeliver',
      tags: ['admin'],
      summary: 'Send a callback again now',
      security: [{ operatorToken: [] }],
      params: WebhookEventIdParam,
      response: { 202: WebhookEventSchema }
    }
  }, async (request, reply) => {
    const event = await sql.begin(async (tx) => {
      const found = await redeliver(tx, request.params.id, 'operator')
      if (found) await writeAuditSql(tx, auditActor(request), { action: 'webhook_event.redeliver', targetType: 'webhook_event', targetId: found.id })
      return found
    })
    if (!event) throw new GatewayError('not_found', { detail: `no webhook event ${request.params.id}` })
    return reply.code(202).send(event)
  })

  r.post('/admin/v1/resellers/:id/webhook-secret/rotate', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.resellers.webhook_secret.rotate',
      tags: ['admin'],
      summary: 'New webhook secret; the old one keeps signing beside it during the overlap',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      body: z.object({ overlap_seconds: z.number().int().min(0).max(30 * 86_400).default(86_400) }),
      response: { 200: z.object({ webhook_secret: z.string().describe('`whsec_…`, shown once'), previous_valid_until: z.string() }) }
    }
  }, async (request, reply) => {
    const secret = await rotateWebhookSecret(sql, app.deps.keyring, request.params.id, request.body.overlap_seconds, auditActor(request))
    if (!secret) throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    if (secret === 'overlapping') throw new GatewayError('invalid_state', { detail: 'the previous rotation is still in its overlap period; rotate again after it ends' })
    return reply.header('cache-control', 'no-store')
      .send({ webhook_secret: secret, previous_valid_until: new Date(Date.now() + request.body.overlap_seconds * 1000).toISOString() })
  })
}
