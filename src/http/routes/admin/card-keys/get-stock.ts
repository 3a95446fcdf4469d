import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { stockOf } from '../../../../db/repositories/card-keys.js'
import { getSku } from '../../../../db/repositories/skus.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { StockSchema } from '../../../schemas/card-keys.js'
import { SkuParam } from '../../../schemas/skus.js'

export default async function getStock (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/skus/:sku/stock', {
    config: { roles: ['ops', 'support', 'finance'] },
    schema: {
      operationId: 'admin.skus.stock.get',
      tags: ['admin'],
      summary: 'Card-key pool stock of a SKU',
      security: [{ operatorToken: [] }],
      params: z.object({ sku: SkuParam }),
      response: { 200: StockSchema }
    }
  }, async (request) => {
    const sku = await getSku(app.deps.database.db, request.params.sku)
    if (!sku) throw new GatewayError('not_found', { detail: `no SKU ${request.params.sku}` })
    const stock = await stockOf(app.deps.database.sql, sku.sku)
    return { sku: sku.sku, ...stock, low_stock_threshold: sku.lowStockThreshold }
  })
}
