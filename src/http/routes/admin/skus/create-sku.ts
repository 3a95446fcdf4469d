import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { insertSku } from '../../../../db/repositories/skus.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CreateSkuBody, SkuSchema } from '../../../schemas/skus.js'
import { assertKnownSuppliers } from './known-suppliers.js'
import { presentSku } from './present.js'

export default async function createSku (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/skus', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.skus.create',
      tags: ['admin'],
      summary: 'Create a catalog entry',
      security: [{ operatorToken: [] }],
      body: CreateSkuBody,
      response: { 201: SkuSchema }
    }
  }, async (request, reply) => {
    const b = request.body
    const row = await app.deps.database.db.transaction(async (tx) => {
      await assertKnownSuppliers(tx, b.fulfilment, 'body.fulfilment.routes')
      const created = await insertSku(tx, {
        sku: b.sku, name: b.name, category: b.category, delivery: b.delivery, recipientType: b.recipient_type,
        faceValue: b.face_value, currency: b.currency, maxQuantity: b.max_quantity, status: b.status, lowStockThreshold: b.low_stock_threshold, fulfilment: b.fulfilment
      })
      if (!created) throw new GatewayError('already_exists', { detail: `SKU ${b.sku} already exists` })
      await writeAudit(tx, auditActor(request), { action: 'sku.create', targetType: 'sku', targetId: b.sku })
      return created
    })
    return reply.code(201).send(presentSku(row))
  })
}
