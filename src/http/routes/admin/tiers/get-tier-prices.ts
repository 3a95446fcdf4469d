import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { getTierPrices } from '../../../../db/repositories/skus.js'
import { TierParam, TierPricesSchema } from '../../../schemas/skus.js'
import { presentTierPrices } from './present.js'

export default async function getTierPricesRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/admin/v1/tiers/:tier/prices', {
    config: { roles: ['finance', 'ops', 'support'] },
    schema: {
      operationId: 'admin.tiers.prices.get',
      tags: ['admin'],
      summary: 'The price list of a tier (empty for an unknown tier)',
      security: [{ operatorToken: [] }],
      params: z.object({ tier: TierParam }),
      response: { 200: TierPricesSchema }
    }
  }, async (request) => presentTierPrices(request.params.tier, await getTierPrices(app.deps.database.db, request.params.tier)))
}
