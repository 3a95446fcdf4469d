import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { issueApiKey, revokeApiKey } from '../../../../db/repositories/resellers.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { ApiKeySchema, IssuedApiKeySchema, ResellerIdParam } from '../../../schemas/resellers.js'

export default async function apiKeyRoutes (app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>()
  r.post('/admin/v1/resellers/:id/api-keys', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.resellers.api_keys.create',
      tags: ['admin'],
      summary: 'Issue another API credential (for rotation); the secret is returned once',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      response: { 201: IssuedApiKeySchema }
    }
  }, async (request, reply) => {
    const key = await issueApiKey(app.deps.database.sql, app.deps.keyring, request.params.id, auditActor(request))
    if (!key) throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    return reply.code(201).header('cache-control', 'no-store').send({ key_id: key.keyId, secret: key.secret })
  })

  r.delete('/admin/v1/resellers/:id/api-keys/:key_id', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.resellers.api_keys.revoke',
      tags: ['admin'],
      summary: 'Revoke an API credential (idempotent); it stops working at once',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam.extend({ key_id: z.string().max(64) }),
      response: { 200: ApiKeySchema }
    }
  }, async (request) => {
    const key = await revokeApiKey(app.deps.database.db, request.params.id, request.params.key_id, auditActor(request))
    if (!key) throw new GatewayError('not_found', { detail: `no API key ${request.params.key_id} on reseller ${request.params.id}` })
    app.credentials.clear()
    return { key_id: key.id, created_at: key.createdAt.toISOString(), revoked_at: key.revokedAt?.toISOString() ?? null }
  })
}
