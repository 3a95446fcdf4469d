import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { getSupplier, updateSupplier } from '../../../../db/repositories/suppliers.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { judgeBalance } from '../../../../ops/balances.js'
import { credentialsAad } from '../../../../suppliers/registry.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { PatchSupplierBody, SupplierIdParam, SupplierSchema, parseCredentials } from '../../../schemas/suppliers.js'
import { presentSupplier } from './present.js'

export default async function patchSupplierRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().patch('/admin/v1/suppliers/:id', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.suppliers.update',
      tags: ['admin'],
      summary: 'Change a supplier instance (credentials, deadline, breaker, enabled, forced breaker state); every process follows within moments',
      security: [{ operatorToken: [] }],
      params: SupplierIdParam,
      body: PatchSupplierBody,
      response: { 200: SupplierSchema }
    }
  }, async (request) => {
    const { id } = request.params
    const b = request.body
    const current = await getSupplier(app.deps.database.db, id)
    if (!current) throw new GatewayError('not_found', { detail: `no supplier ${id}` })
    const sealed = b.credentials === undefined
      ? undefined
      : app.deps.keyring.encrypt(JSON.stringify(parseCredentials(current.adapter, b.credentials)), credentialsAad(id))
    // Field names only: values of credentials (and of a base_url that may carry a token) stay out of the audit log.
    const changed = Object.keys(b).flatMap((k) => k === 'breaker' ? Object.keys(b.breaker ?? {}).map((f) => `breaker.${f}`) : [k])
    const row = await updateSupplier(app.deps.database.db, id, {
      baseUrl: b.base_url,
      credentialsKeyId: sealed?.keyId,
      credentialsCiphertext: sealed?.ciphertext,
      timeoutMs: b.timeout_ms,
      errorThresholdPercentage: b.breaker?.error_threshold_percentage,
      resetTimeoutMs: b.breaker?.reset_timeout_ms,
      volumeThreshold: b.breaker?.volume_threshold,
      enabled: b.enabled,
      forceState: b.force_state,
      lowBalanceThreshold: b.low_balance_threshold
    }, auditActor(request), {
      changed,
      ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
      ...(b.force_state !== undefined ? { force_state: b.force_state } : {}),
      ...(b.low_balance_threshold !== undefined ? { low_balance_threshold: b.low_balance_threshold } : {})
    })
    if (!row) throw new GatewayError('not_found', { detail: `no supplier ${id}` })
    // A new threshold is judged against the balance already known; the next poll confirms it.
    if (b.low_balance_threshold !== undefined && row.balance !== null && row.balanceCurrency !== null) {
      await judgeBalance(app.ops.alerts, id, { amount: row.balance, currency: row.balanceCurrency, threshold: row.lowBalanceThreshold })
    }
    await app.suppliers.reload()
    return presentSupplier(row, app.suppliers)
  })
}
