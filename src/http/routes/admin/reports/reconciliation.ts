import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { reconcile } from '../../../../reports/reconcile.js'
import { ReconciliationQuery, ReconciliationSchema } from '../../../schemas/reports.js'

export default async function reconciliationRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/reconciliation', {
    config: { roles: ['finance', 'ops'] },
    schema: {
      operationId: 'admin.reconciliation.run',
      tags: ['admin'],
      summary: 'Run the reconciliation checks now: balances against ledgers, orders past their SLA, money or keys left on final orders, supplier spend per day',
      security: [{ operatorToken: [] }],
      querystring: ReconciliationQuery,
      response: { 200: ReconciliationSchema }
    }
  }, async (request) => {
    const result = await reconcile(app.deps.database.sql, { slaMs: app.deps.config.orderSlaMs, spendDays: request.query.days, listPerKind: 100 })
    return {
      ok: result.ok,
      checked_at: result.checkedAt.toISOString(),
      counts: result.counts,
      findings: result.findings,
      findings_truncated: result.truncated,
      supplier_spend: result.supplierSpend
    }
  })
}
