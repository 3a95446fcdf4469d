import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { getSku } from '../../../../db/repositories/skus.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { SkuParam, SkuSchema } from '../../../schemas/skus.js'
import { presentSku } from './present.js'

export default async function getSkuRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/skus/:sku', {
    config: { roles: ['ops', 'support', 'finance'] },
    schema: {
      operationId: 'admin.skus.get',
      tags: ['admin'],
      summary: 'One catalog entry',
      security: [{ operatorToken: [] }],
      params: z.object({ sku: SkuParam }),
      response: { 200: SkuSchema }
    }
  }, async (request) => {
    const row = await getSku(app.deps.database.db, request.params.sku)
    if (!row) throw new GatewayError('not_found', { detail: `no SKU ${request.params.sku}` })
    return presentSku(row)
  })
}
