import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAuditSql } from '../../../../db/repositories/audit-log.js'
import { getCardKey, voidCardKey } from '../../../../db/repositories/card-keys.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CardKeyIdParam, CardKeyRecordSchema, VoidCardKeyBody } from '../../../schemas/card-keys.js'
import { presentCardKey } from './present.js'

export default async function voidCardKeyRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/card-keys/:id/void', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.card_keys.void',
      tags: ['admin'],
      summary: 'Withdraw a key from sale, or record a sold one as void (idempotent)',
      security: [{ operatorToken: [] }],
      params: CardKeyIdParam,
      body: VoidCardKeyBody.nullish(),
      response: { 200: CardKeyRecordSchema }
    }
  }, async (request) => {
    const record = await app.deps.database.sql.begin(async (tx) => {
      const before = await getCardKey(tx, request.params.id, { forUpdate: true })
      if (!before) throw new GatewayError('not_found', { detail: `no card key ${request.params.id}` })
      if (before.status === 'voided') return before
      const reason = request.body?.reason ?? null
      const after = await voidCardKey(tx, before.id, reason)
      await writeAuditSql(tx, auditActor(request), {
        action: 'card_key.void', targetType: 'card_key', targetId: before.id, details: { from: before.status, reason }
      })
      return after ?? before
    })
    return presentCardKey(record)
  })
}
