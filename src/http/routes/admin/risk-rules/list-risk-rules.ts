import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listRiskRules } from '../../../../db/repositories/risk-rules.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { RiskRuleListQuery, RiskRuleSchema } from '../../../schemas/risk-rules.js'
import { presentRiskRule } from './present.js'

export default async function listRiskRulesRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/risk-rules', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.risk_rules.list',
      tags: ['admin'],
      summary: 'Risk rules, oldest first (filters: kind, sku, reseller_id)',
      security: [{ operatorToken: [] }],
      querystring: RiskRuleListQuery.extend({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(RiskRuleSchema) }
    }
  }, async (request) => {
    const q = request.query
    const rows = await listRiskRules(app.deps.database.db, {
      kind: q.kind, sku: q.sku, resellerId: q.reseller_id, afterId: decodeCursor(q.cursor, z.string())
    }, q.limit + 1)
    const data = rows.slice(0, q.limit)
    return { data: data.map(presentRiskRule), next_cursor: rows.length > q.limit ? encodeCursor(data.at(-1)?.id) : null }
  })
}
