import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listAudit } from '../../../../db/repositories/audit-log.js'
import { operatorRole } from '../../../../db/schema/index.js'
import { CursorQuery, LimitQuery, Timestamp, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { serialId } from '../../../../domain/ids.js'

const AuditEntrySchema = z.object({
  id: z.string(),
  occurred_at: Timestamp,
  actor_id: z.string().describe('Operator token id (`adt_…`)'),
  actor_role: z.enum(operatorRole.enumValues),
  action: z.string().describe('Dotted verb, e.g. `sku.create`'),
  target_type: z.string(),
  target_id: z.string(),
  request_id: z.string(),
  ip: z.string(),
  details: z.record(z.string(), z.unknown())
}).meta({ id: 'AuditEntry' })

export default async function listAuditLog (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/audit-log', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.audit_log.list',
      tags: ['admin'],
      summary: 'Who did what, when, from where; newest first',
      security: [{ operatorToken: [] }],
      querystring: z.object({
        actor_id: z.string().max(64).optional(),
        action: z.string().max(64).optional(),
        target_type: z.string().max(64).optional(),
        target_id: z.string().max(128).optional(),
        limit: LimitQuery,
        cursor: CursorQuery
      }),
      response: { 200: page(AuditEntrySchema) }
    }
  }, async (request) => {
    const q = request.query
    const beforeId = decodeCursor(q.cursor, z.number().int())
    const rows = await listAudit(app.deps.database.db,
      { actorId: q.actor_id, action: q.action, targetType: q.target_type, targetId: q.target_id, beforeId }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    return {
      data: data.map((r) => ({
        id: serialId('aud', r.id),
        occurred_at: r.occurredAt.toISOString(),
        actor_id: r.actorId,
        actor_role: r.actorRole,
        action: r.action,
        target_type: r.targetType,
        target_id: r.targetId,
        request_id: r.requestId,
        ip: r.ip,
        details: r.details
      })),
      next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null
    }
  })
}
