import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listOpsEvents } from '../../../../db/repositories/ops-events.js'
import type { AlertKind } from '../../../../ops/alerts.js'
import { AlertListQuery, OpsEventSchema } from '../../../schemas/alerts.js'
import { decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { serialId } from '../../../../domain/ids.js'

export default async function listAlerts (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/alerts', {
    config: { roles: ['ops', 'support'] },
    schema: {
      operationId: 'admin.alerts.list',
      tags: ['admin'],
      summary: 'Operational alerts (supplier low balance, low stock, breaker open, callback failures), newest first; firing=true for what is firing now',
      security: [{ operatorToken: [] }],
      querystring: AlertListQuery,
      response: { 200: page(OpsEventSchema) }
    }
  }, async (request) => {
    const q = request.query
    const beforeId = decodeCursor(q.cursor, z.number().int())
    const rows = await listOpsEvents(app.deps.database.sql,
      { kind: q.kind, subject: q.subject, since: q.since, firingOnly: q.firing === 'true', beforeId }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    return {
      data: data.map((r) => ({
        id: serialId('alr', r.id),
        kind: r.kind as AlertKind,
        subject: r.subject,
        severity: r.severity,
        message: r.message,
        details: r.details,
        firing: r.firing,
        created_at: r.createdAt.toISOString()
      })),
      next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null
    }
  })
}
