import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { patchReseller } from '../../../../db/repositories/resellers.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { normaliseCallbackUrl } from '../../../callback-url.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { PatchResellerBody, ResellerIdParam, ResellerSchema } from '../../../schemas/resellers.js'
import { presentReseller } from './present.js'

export default async function patchResellerRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().patch('/admin/v1/resellers/:id', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.resellers.update',
      tags: ['admin'],
      summary: 'Change a reseller (suspend, limits, allowlist, tier…)',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      body: PatchResellerBody,
      response: { 200: ResellerSchema }
    }
  }, async (request) => {
    const b = request.body
    const callbackUrl = normaliseCallbackUrl(b.callback_url, app.deps.config.callbackAllowPrivate, 'body.callback_url')
    let view
    try {
      view = await patchReseller(app.deps.database, request.params.id, {
        name: b.name, tier: b.tier, callbackUrl, callbackIncludesCodes: b.callback_includes_codes, authMode: b.auth_mode,
        ipAllowlist: b.ip_allowlist, rateLimitPerMinute: b.rate_limit_per_minute, creditLimit: b.credit_limit, status: b.status
      }, auditActor(request))
    } catch (err) {
      if ((err as { constraint_name?: string }).constraint_name === 'reseller_balance_buckets_within_floor') {
        throw new GatewayError('invalid_state', { detail: 'the balance is already below zero by more than this credit limit' })
      }
      throw err
    }
    if (!view) throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    app.credentials.clear()
    return presentReseller(view)
  })
}
