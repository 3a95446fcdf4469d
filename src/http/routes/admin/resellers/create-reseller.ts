import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { createReseller } from '../../../../db/repositories/resellers.js'
import { normaliseCallbackUrl } from '../../../callback-url.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CreatedResellerSchema, CreateResellerBody } from '../../../schemas/resellers.js'
import { presentReseller } from './present.js'

export default async function createResellerRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/resellers', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.resellers.create',
      tags: ['admin'],
      summary: 'Create a reseller; its first API credential and webhook secret are returned once',
      security: [{ operatorToken: [] }],
      body: CreateResellerBody,
      response: { 201: CreatedResellerSchema }
    }
  }, async (request, reply) => {
    const b = request.body
    const callbackUrl = normaliseCallbackUrl(b.callback_url, app.deps.config.callbackAllowPrivate, 'body.callback_url')
    const { view, apiKey, webhookSecret } = await createReseller(app.deps.database, app.deps.keyring, {
      name: b.name,
      tier: b.tier,
      currency: b.currency,
      callbackUrl: callbackUrl ?? null,
      callbackIncludesCodes: b.callback_includes_codes ?? false,
      authMode: b.auth_mode ?? 'bearer_or_signature',
      ipAllowlist: b.ip_allowlist ?? [],
      rateLimitPerMinute: b.rate_limit_per_minute ?? 600,
      creditLimit: b.credit_limit ?? 0
    }, auditActor(request))
    return reply.code(201).header('cache-control', 'no-store')
      .send({ ...presentReseller(view), api_key: { key_id: apiKey.keyId, secret: apiKey.secret }, webhook_secret: webhookSecret })
  })
}
