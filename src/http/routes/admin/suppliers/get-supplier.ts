import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { getSupplier } from '../../../../db/repositories/suppliers.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { SupplierIdParam, SupplierSchema } from '../../../schemas/suppliers.js'
import { presentSupplier } from './present.js'

export default async function getSupplierRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/suppliers/:id', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.suppliers.get',
      tags: ['admin'],
      summary: 'One supplier instance, with its breaker as this process sees it',
      security: [{ operatorToken: [] }],
      params: SupplierIdParam,
      response: { 200: SupplierSchema }
    }
  }, async (request) => {
    const row = await getSupplier(app.deps.database.db, request.params.id)
    if (!row) throw new GatewayError('not_found', { detail: `no supplier ${request.params.id}` })
    return presentSupplier(row, app.suppliers)
  })
}
