import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { getRiskRule } from '../../../../db/repositories/risk-rules.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { RiskRuleIdParam, RiskRuleSchema } from '../../../schemas/risk-rules.js'
import { presentRiskRule } from './present.js'

export default async function getRiskRuleRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/risk-rules/:id', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.risk_rules.get',
      tags: ['admin'],
      summary: 'One risk rule',
      security: [{ operatorToken: [] }],
      params: RiskRuleIdParam,
      response: { 200: RiskRuleSchema }
    }
  }, async (request) => {
    const row = await getRiskRule(app.deps.database.db, request.params.id)
    if (!row) throw new GatewayError('not_found', { detail: `no risk rule ${request.params.id}` })
    return presentRiskRule(row)
  })
}
