import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listAdminTokens } from '../../../../db/repositories/admin-tokens.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { OperatorTokenSchema } from '../../../schemas/operator-tokens.js'
import { presentOperatorToken } from './present.js'

export default async function listOperatorTokens (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/operator-tokens', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.operator_tokens.list',
      tags: ['admin'],
      summary: 'List operator tokens, newest first (never the tokens themselves)',
      security: [{ operatorToken: [] }],
      querystring: z.object({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(OperatorTokenSchema) }
    }
  }, async (request) => {
    const before = decodeCursor(request.query.cursor, z.string())
    const rows = await listAdminTokens(app.deps.database.db, request.query.limit + 1, before)
    const data = rows.slice(0, request.query.limit)
    return { data: data.map(presentOperatorToken), next_cursor: rows.length > request.query.limit ? encodeCursor(data.at(-1)?.id) : null }
  })
}
