import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { availableNow, pricedSkus } from '../../../../orders/catalog.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { ProductSchema } from '../../../schemas/orders.js'
import { presentProduct } from '../present.js'

export default async function listProducts (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/products', {
    config: { reseller: true },
    schema: {
      operationId: 'products.list',
      tags: ['reseller'],
      summary: 'The catalog visible to you, with your price and availability',
      security: [{ bearer: [] }, { signature: [] }],
      querystring: z.object({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(ProductSchema) }
    }
  }, async (request) => {
    const after = decodeCursor(request.query.cursor, z.string())
    const rows = await pricedSkus(app.deps.database.sql, buyer(request), request.query.limit + 1, after)
    const data = rows.slice(0, request.query.limit)
    const health = app.suppliers.health()
    return { data: data.map((p) => presentProduct(p, availableNow(p, health))), next_cursor: rows.length > request.query.limit ? encodeCursor(data.at(-1)?.sku) : null }
  })
}
