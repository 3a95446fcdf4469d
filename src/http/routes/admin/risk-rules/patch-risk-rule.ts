import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { getRiskRule, updateRiskRule } from '../../../../db/repositories/risk-rules.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { PatchRiskRuleBody, RiskRuleIdParam, RiskRuleSchema, parseRiskParams } from '../../../schemas/risk-rules.js'
import { presentRiskRule } from './present.js'
import { assertRiskScope } from './scope.js'

export default async function patchRiskRuleRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().patch('/admin/v1/risk-rules/:id', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.risk_rules.update',
      tags: ['admin'],
      summary: 'Change a risk rule (action, scope, params, enabled); the next order sees the change',
      security: [{ operatorToken: [] }],
      params: RiskRuleIdParam,
      body: PatchRiskRuleBody,
      response: { 200: RiskRuleSchema }
    }
  }, async (request) => {
    const { id } = request.params
    const b = request.body
    const row = await app.deps.database.db.transaction(async (tx) => {
      const current = await getRiskRule(tx, id, { forUpdate: true })
      if (!current) throw new GatewayError('not_found', { detail: `no risk rule ${id}` })
      const params = b.params === undefined ? undefined : parseRiskParams(current.kind, b.params)
      await assertRiskScope(tx, { sku: b.sku, resellerId: b.reseller_id })
      const updated = await updateRiskRule(tx, id, { action: b.action, sku: b.sku, resellerId: b.reseller_id, enabled: b.enabled, params })
      if (!updated) throw new GatewayError('not_found', { detail: `no risk rule ${id}` })
      await writeAudit(tx, auditActor(request), {
        action: 'risk_rule.update', targetType: 'risk_rule', targetId: id,
        details: {
          changed: Object.keys(b),
          ...(b.action !== undefined ? { action: b.action } : {}),
          ...(b.enabled !== undefined ? { enabled: b.enabled } : {})
        }
      })
      return updated
    })
    return presentRiskRule(row)
  })
}
