import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { existingSkus, getTierPrices, replaceTierPrices } from '../../../../db/repositories/skus.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { TierParam, TierPricesBody, TierPricesSchema } from '../../../schemas/skus.js'
import { presentTierPrices } from './present.js'

export default async function putTierPrices (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().put('/admin/v1/tiers/:tier/prices', {
    config: { roles: ['finance'] },
    schema: {
      operationId: 'admin.tiers.prices.put',
      tags: ['admin'],
      summary: 'Replace the price list of a tier',
      security: [{ operatorToken: [] }],
      params: z.object({ tier: TierParam }),
      body: TierPricesBody,
      response: { 200: TierPricesSchema }
    }
  }, async (request) => {
    const { tier } = request.params
    const prices = request.body
    const rows = await app.deps.database.db.transaction(async (tx) => {
      const known = await existingSkus(tx, prices.map((p) => p.sku))
      const errors = prices.flatMap((p, i) => known.has(p.sku) ? [] : [{ path: `body.${i}.sku`, message: `unknown SKU ${p.sku}` }])
      if (errors.length > 0) throw new GatewayError('invalid_request', { detail: `${errors.length} unknown SKU(s)`, errors })
      await replaceTierPrices(tx, tier, prices)
      await writeAudit(tx, auditActor(request), { action: 'tier.prices.replace', targetType: 'tier', targetId: tier, details: { count: prices.length } })
      return await getTierPrices(tx, tier)
    })
    return presentTierPrices(tier, rows)
  })
}
