import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { getResellerView } from '../../../../db/repositories/resellers.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { ResellerIdParam, ResellerSchema } from '../../../schemas/resellers.js'
import { presentReseller } from './present.js'

export default async function getResellerRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/resellers/:id', {
    config: { roles: ['support', 'finance'] },
    schema: {
      operationId: 'admin.resellers.get',
      tags: ['admin'],
      summary: 'One reseller with its balance and API keys (never secrets)',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      response: { 200: ResellerSchema }
    }
  }, async (request) => {
    const view = await getResellerView(app.deps.database.db, request.params.id)
    if (!view) throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    return presentReseller(view)
  })
}
