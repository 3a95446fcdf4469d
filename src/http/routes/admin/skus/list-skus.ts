import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listSkus } from '../../../../db/repositories/skus.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { SkuSchema } from '../../../schemas/skus.js'
import { presentSku } from './present.js'

export default async function listSkusRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/skus', {
    config: { roles: ['ops', 'support', 'finance'] },
    schema: {
      operationId: 'admin.skus.list',
      tags: ['admin'],
      summary: 'List catalog entries by SKU',
      security: [{ operatorToken: [] }],
      querystring: z.object({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(SkuSchema) }
    }
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, z.string())
    const rows = await listSkus(app.deps.database.db, request.query.limit + 1, after)
    const more = rows.length > request.query.limit
    const data = rows.slice(0, request.query.limit)
    return { data: data.map(presentSku), next_cursor: more ? encodeCursor(data.at(-1)?.sku) : null }
  })
}
