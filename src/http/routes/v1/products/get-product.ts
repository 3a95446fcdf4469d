import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { availableNow, pricedSku } from '../../../../orders/catalog.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { ProductSchema } from '../../../schemas/orders.js'
import { presentProduct } from '../present.js'

export default async function getProduct (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/products/:sku', {
    config: { reseller: true },
    schema: {
      operationId: 'products.get',
      tags: ['reseller'],
      summary: 'One product with your price and availability',
      security: [{ bearer: [] }, { signature: [] }],
      params: z.object({ sku: z.string().min(1).max(64) }),
      response: { 200: ProductSchema }
    }
  }, async (request) => {
    const product = await pricedSku(app.deps.database.sql, buyer(request), request.params.sku)
    if (!product) throw new GatewayError('not_found', { detail: `no product ${request.params.sku}` })
    return presentProduct(product, availableNow(product, app.suppliers.health()))
  })
}
