import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { toPeriod } from '../../../../reports/period.js'
import { statementCsv, statementPage, statementSummary } from '../../../../reports/statement.js'
import { decodeCursor, encodeCursor } from '../../../schemas/common.js'
import { StatementQuery, StatementSchema } from '../../../schemas/reports.js'
import { ResellerIdParam } from '../../../schemas/resellers.js'
import { wantsCsv } from '../../../negotiate.js'
import { presentLedgerEntry } from './present.js'

export const statementResponse = {
  200: {
    description: 'The statement: JSON a page of movements at a time, or the whole period as CSV',
    content: { 'application/json': { schema: StatementSchema }, 'text/csv': { schema: z.string() } }
  }
}

export const STATEMENT_DESCRIPTION = 'Opening balance (the ledger before `from`), the movements written in [from, to) in ledger ' +
  'order with the balance after each, and the closing balance (opening plus movements). Send `accept: text/csv` for the ' +
  'whole period as CSV: a header, an opening_balance line, one line per movement, a closing_balance line.'

/** Answers a statement request for one reseller, as JSON (paginated) or CSV (complete, streamed). */
export async function replyStatement (app: FastifyInstance, reply: FastifyReply, resellerId: string, query: z.output<typeof StatementQuery>, accept: string | undefined): Promise<FastifyReply> {
  const { sql } = app.deps.database
  const period = toPeriod(query.from, query.to)
  const summary = await statementSummary(sql, resellerId, period)
  if (!summary) throw new GatewayError('not_found', { detail: `no reseller ${resellerId}` })
  reply.header('vary', 'accept')
  if (wantsCsv(accept)) {
    return await reply.type('text/csv; charset=utf-8').send(Readable.from(statementCsv(sql, summary, period)))
  }
  const afterId = decodeCursor(query.cursor, z.number().int().min(0)) ?? 0
  const rows = await statementPage(sql, summary, period, afterId, query.limit + 1)
  const data = rows.slice(0, query.limit)
  return await reply.type('application/json; charset=utf-8').send({
    reseller_id: summary.resellerId,
    currency: summary.currency,
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    opening_balance: summary.opening,
    closing_balance: summary.closing,
    movement_count: summary.movements,
    data: data.map((m) => ({ ...presentLedgerEntry({ ...m, resellerId, actorId: null, idempotencyKey: null }), balance_after: m.balanceAfter })),
    next_cursor: rows.length > query.limit ? encodeCursor(data.at(-1)?.id) : null
  })
}

export default async function statementRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/resellers/:id/statement', {
    config: { roles: ['finance'] },
    schema: {
      operationId: 'admin.resellers.statement',
      tags: ['admin'],
      summary: 'A reseller\'s statement for a period, from its ledger',
      description: STATEMENT_DESCRIPTION,
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      querystring: StatementQuery,
      response: statementResponse
    }
  }, async (request, reply) => await replyStatement(app, reply, request.params.id, request.query, request.headers.accept))
}
