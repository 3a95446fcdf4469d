import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { insertRiskRule } from '../../../../db/repositories/risk-rules.js'
import { newId } from '../../../../domain/ids.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CreateRiskRuleBody, RiskRuleSchema } from '../../../schemas/risk-rules.js'
import { presentRiskRule } from './present.js'
import { assertRiskScope } from './scope.js'

export default async function createRiskRule (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/risk-rules', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.risk_rules.create',
      tags: ['admin'],
      summary: 'Create a risk rule: what it checks, for which SKU and reseller, and whether a hit refuses or holds the order for review',
      security: [{ operatorToken: [] }],
      body: CreateRiskRuleBody,
      response: { 201: RiskRuleSchema }
    }
  }, async (request, reply) => {
    const b = request.body
    const row = await app.deps.database.db.transaction(async (tx) => {
      await assertRiskScope(tx, { sku: b.sku, resellerId: b.reseller_id })
      const created = await insertRiskRule(tx, { id: newId('rsk'), kind: b.kind, action: b.action, sku: b.sku, resellerId: b.reseller_id, params: b.params, enabled: b.enabled })
      await writeAudit(tx, auditActor(request), {
        action: 'risk_rule.create', targetType: 'risk_rule', targetId: created.id,
        details: { kind: b.kind, action: b.action, sku: b.sku, reseller_id: b.reseller_id, enabled: b.enabled }
      })
      return created
    })
    return reply.code(201).send(presentRiskRule(row))
  })
}
