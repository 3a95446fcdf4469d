import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { deleteRiskRule } from '../../../../db/repositories/risk-rules.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { RiskRuleIdParam, RiskRuleSchema } from '../../../schemas/risk-rules.js'
import { presentRiskRule } from './present.js'

export default async function deleteRiskRuleRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().delete('/admin/v1/risk-rules/:id', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.risk_rules.delete',
      tags: ['admin'],
      summary: 'Delete a risk rule with its quota counters; decisions it recorded on orders stay. Answers with the rule as it was',
      security: [{ operatorToken: [] }],
      params: RiskRuleIdParam,
      response: { 200: RiskRuleSchema }
    }
  }, async (request) => {
    const row = await app.deps.database.db.transaction(async (tx) => {
      const deleted = await deleteRiskRule(tx, request.params.id)
      if (!deleted) throw new GatewayError('not_found', { detail: `no risk rule ${request.params.id}` })
      await writeAudit(tx, auditActor(request), {
        action: 'risk_rule.delete', targetType: 'risk_rule', targetId: deleted.id, details: { kind: deleted.kind, action: deleted.action }
      })
      return deleted
    })
    return presentRiskRule(row)
  })
}
