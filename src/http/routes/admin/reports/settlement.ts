import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { csvRecord, csvRow } from '../../../../reports/csv.js'
import { toPeriod } from '../../../../reports/period.js'
import { settlementReport } from '../../../../reports/settlement.js'
import { wantsCsv } from '../../../negotiate.js'
import { SETTLEMENT_CSV_COLUMNS, SettlementQuery, SettlementReportSchema } from '../../../schemas/reports.js'

export default async function settlementRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/reports/settlement', {
    config: { roles: ['finance'] },
    schema: {
      operationId: 'admin.reports.settlement',
      tags: ['admin'],
      summary: 'Orders, revenue, cost, margin and refunds of a period, per reseller, SKU or supplier and currency',
      description: 'Send `accept: text/csv` for CSV (a header row, then the columns of `rows`). `orders` counts orders ' +
        'placed in [from, to) (created_at); succeeded, failed, revenue, cost and margin count orders that reached their ' +
        'final state in the period (completed_at); refunds are order_refund ledger entries written in the period.',
      security: [{ operatorToken: [] }],
      querystring: SettlementQuery,
      response: {
        200: {
          description: 'The report',
          content: { 'application/json': { schema: SettlementReportSchema }, 'text/csv': { schema: z.string() } }
        }
      }
    }
  }, async (request, reply) => {
    const period = toPeriod(request.query.from, request.query.to)
    const report = await settlementReport(app.deps.database.sql, period, request.query.group_by)
    reply.header('vary', 'accept')
    if (wantsCsv(request.headers.accept)) {
      const csv = csvRecord(SETTLEMENT_CSV_COLUMNS) + report.rows.map((r) => csvRow(SETTLEMENT_CSV_COLUMNS, r)).join('')
      return await reply.type('text/csv; charset=utf-8').send(csv)
    }
    return await reply.type('application/json; charset=utf-8').send({
      from: period.from.toISOString(),
      to: period.to.toISOString(),
      group_by: request.query.group_by,
      rows: report.rows,
      totals: report.totals
    })
  })
}
