import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { writeAudit } from '../../../../db/repositories/audit-log.js'
import { isPriced, lockSku, replaceSku } from '../../../../db/repositories/skus.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { ReplaceSkuBody, SkuParam, SkuSchema } from '../../../schemas/skus.js'
import { assertKnownSuppliers } from './known-suppliers.js'
import { presentSku } from './present.js'

export default async function replaceSkuRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().put('/admin/v1/skus/:sku', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.skus.replace',
      tags: ['admin'],
      summary: 'Replace a catalog entry',
      security: [{ operatorToken: [] }],
      params: z.object({ sku: SkuParam }),
      body: ReplaceSkuBody,
      response: { 200: SkuSchema }
    }
  }, async (request) => {
    const b = request.body
    const sku = request.params.sku
    if (b.sku !== undefined && b.sku !== sku) {
      throw new GatewayError('invalid_request', { detail: 'the SKU cannot be renamed', errors: [{ path: 'body.sku', message: `must be ${sku}, the SKU in the path` }] })
    }
    const row = await app.deps.database.db.transaction(async (tx) => {
      const current = await lockSku(tx, sku)
      if (!current) throw new GatewayError('not_found', { detail: `no SKU ${sku}` })
      await assertKnownSuppliers(tx, b.fulfilment, 'body.fulfilment.routes')
      if (current.currency !== b.currency && await isPriced(tx, sku)) {
        throw new GatewayError('invalid_state', {
          detail: `SKU ${sku} has prices or card-key batches in ${current.currency}; create a new SKU for ${b.currency}`
        })
      }
      const updated = await replaceSku(tx, sku, {
        name: b.name, category: b.category, delivery: b.delivery, recipientType: b.recipient_type,
        faceValue: b.face_value, currency: b.currency, maxQuantity: b.max_quantity, status: b.status, lowStockThreshold: b.low_stock_threshold, fulfilment: b.fulfilment
      })
      if (!updated) throw new GatewayError('not_found', { detail: `no SKU ${sku}` })
      await writeAudit(tx, auditActor(request), {
        action: 'sku.replace', targetType: 'sku', targetId: sku, details: { status: b.status, fulfilment_changed: b.fulfilment !== undefined }
      })
      return updated
    })
    return presentSku(row)
  })
}
