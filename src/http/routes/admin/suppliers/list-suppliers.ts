import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listSuppliers } from '../../../../db/repositories/suppliers.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { SupplierSchema } from '../../../schemas/suppliers.js'
import { presentSupplier } from './present.js'

export default async function listSuppliersRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/suppliers', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.suppliers.list',
      tags: ['admin'],
      summary: 'List supplier instances by id, with their breakers as this process sees them',
      security: [{ operatorToken: [] }],
      querystring: z.object({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(SupplierSchema) }
    }
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, z.string())
    const rows = await listSuppliers(app.deps.database.db, request.query.limit + 1, after)
    const data = rows.slice(0, request.query.limit)
    return {
      data: data.map((row) => presentSupplier(row, app.suppliers)),
      next_cursor: rows.length > request.query.limit ? encodeCursor(data.at(-1)?.id) : null
    }
  })
}
