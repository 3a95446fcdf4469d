import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { setFulfilment } from '../../../../db/repositories/skus.js'
import { FulfilmentSchema } from '../../../../domain/catalog.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { SkuParam, SkuSchema } from '../../../schemas/skus.js'
import { assertKnownSuppliers } from './known-suppliers.js'
import { presentSku } from './present.js'

export default async function putFulfilment (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().put('/admin/v1/skus/:sku/fulfilment', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.skus.fulfilment.put',
      tags: ['admin'],
      summary: 'Set the routing of a SKU: strategy, card-pool mode and supplier routes',
      security: [{ operatorToken: [] }],
      params: z.object({ sku: SkuParam }),
      body: FulfilmentSchema,
      response: { 200: SkuSchema }
    }
  }, async (request) => {
    const sku = request.params.sku
    const row = await app.deps.database.db.transaction(async (tx) => {
      const updated = await setFulfilment(tx, sku, request.body)
      if (!updated) throw new GatewayError('not_found', { detail: `no SKU ${sku}` })
      await assertKnownSuppliers(tx, request.body, 'body.routes')
      await writeAudit(tx, auditActor(request), {
        action: 'sku.fulfilment.set',
        targetType: 'sku',
        targetId: sku,
        details: { strategy: request.body.strategy, card_pool: request.body.card_pool, routes: request.body.routes.length }
      })
      return updated
    })
    return presentSku(row)
  })
}
