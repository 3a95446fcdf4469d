import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { createSupplier } from '../../../../db/repositories/suppliers.js'
import { newId } from '../../../../domain/ids.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { credentialsAad } from '../../../../suppliers/registry.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CreateSupplierBody, SupplierSchema, parseCredentials } from '../../../schemas/suppliers.js'
import { presentSupplier } from './present.js'

export default async function createSupplierRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/suppliers', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.suppliers.create',
      tags: ['admin'],
      summary: 'Create a supplier instance: one account at one upstream supplier, served by one adapter',
      security: [{ operatorToken: [] }],
      body: CreateSupplierBody,
      response: { 201: SupplierSchema }
    }
  }, async (request, reply) => {
    const b = request.body
    const id = b.id ?? newId('sup')
    const credentials = parseCredentials(b.adapter, b.credentials)
    const sealed = app.deps.keyring.encrypt(JSON.stringify(credentials), credentialsAad(id))
    const row = await createSupplier(app.deps.database.db, {
      id, adapter: b.adapter, baseUrl: b.base_url, credentialsKeyId: sealed.keyId, credentialsCiphertext: sealed.ciphertext,
      timeoutMs: b.timeout_ms, errorThresholdPercentage: b.breaker.error_threshold_percentage, resetTimeoutMs: b.breaker.reset_timeout_ms,
      volumeThreshold: b.breaker.volume_threshold, enabled: b.enabled, forceState: b.force_state, lowBalanceThreshold: b.low_balance_threshold
    }, auditActor(request))
    if (!row) throw new GatewayError('already_exists', { detail: `supplier ${id} already exists` })
    // The NOTIFY reaches this process too, but only eventually: reads right after this one must see it.
    await app.suppliers.reload()
    return reply.code(201).send(presentSupplier(row, app.suppliers))
  })
}
