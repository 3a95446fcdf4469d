import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { buyer } from '../../../plugins/reseller-auth.js'
import { StatementQuery } from '../../../schemas/reports.js'
import { replyStatement, STATEMENT_DESCRIPTION, statementResponse } from '../../admin/resellers/statement.js'

export default async function getStatementRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/statement', {
    config: { reseller: true },
    schema: {
      operationId: 'statement.get',
      tags: ['reseller'],
      summary: 'Your statement for a period: opening balance, movements, closing balance',
      description: STATEMENT_DESCRIPTION,
      security: [{ bearer: [] }, { signature: [] }],
      querystring: StatementQuery,
      response: statementResponse
    }
  }, async (request, reply) => await replyStatement(app, reply, buyer(request).id, request.query, request.headers.accept))
}
