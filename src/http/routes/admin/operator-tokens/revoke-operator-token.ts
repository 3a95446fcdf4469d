import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { revokeAdminToken } from '../../../../db/repositories/admin-tokens.js'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { OperatorTokenSchema } from '../../../schemas/operator-tokens.js'
import { presentOperatorToken } from './present.js'

export default async function revokeOperatorToken (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().delete('/admin/v1/operator-tokens/:id', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.operator_tokens.revoke',
      tags: ['admin'],
      summary: 'Revoke an operator token (idempotent)',
      security: [{ operatorToken: [] }],
      params: z.object({ id: z.string().max(64) }),
      response: { 200: OperatorTokenSchema }
    }
  }, async (request) => {
    const row = await app.deps.database.db.transaction(async (tx) => {
      const revoked = await revokeAdminToken(tx, request.params.id)
      if (!revoked) throw new GatewayError('not_found', { detail: `no operator token ${request.params.id}` })
      await writeAudit(tx, auditActor(request), { action: 'operator_token.revoke', targetType: 'operator_token', targetId: revoked.id })
      return revoked
    })
    return presentOperatorToken(row)
  })
}
