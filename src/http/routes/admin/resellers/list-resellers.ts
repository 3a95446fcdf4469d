import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listResellers } from '../../../../db/repositories/resellers.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { ResellerSchema } from '../../../schemas/resellers.js'
import { presentReseller } from './present.js'

export default async function listResellersRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/resellers', {
    config: { roles: ['support', 'finance'] },
    schema: {
      operationId: 'admin.resellers.list',
      tags: ['admin'],
      summary: 'List resellers',
      security: [{ operatorToken: [] }],
      querystring: z.object({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(ResellerSchema) }
    }
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, z.string())
    const rows = await listResellers(app.deps.database.db, request.query.limit + 1, after)
    const data = rows.slice(0, request.query.limit)
    return { data: data.map(presentReseller), next_cursor: rows.length > request.query.limit ? encodeCursor(data.at(-1)?.id) : null }
  })
}
