import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAuditSql } from '../../../../db/repositories/audit-log.js'
import { findByCode } from '../../../../db/repositories/card-keys.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CardKeyLookupBody, CardKeyRecordSchema } from '../../../schemas/card-keys.js'
import { presentCardKey } from './present.js'

export default async function lookupCardKey (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/card-keys/lookup', {
    config: { roles: ['ops', 'support'] },
    schema: {
      operationId: 'admin.card_keys.lookup',
      tags: ['admin'],
      summary: 'Find a key by its code, for after-sales disputes',
      description: 'Matched by keyed fingerprint: no other code is decrypted. Every look-up is audited (without the code).',
      security: [{ operatorToken: [] }],
      body: CardKeyLookupBody,
      response: { 200: CardKeyRecordSchema }
    }
  }, async (request) => {
    const record = await app.deps.database.sql.begin(async (tx) => {
      const found = await findByCode(tx, app.deps.keyring, request.body.code)
      await writeAuditSql(tx, auditActor(request), {
        action: 'card_key.lookup', targetType: 'card_key', targetId: found?.id ?? 'none', details: { found: found !== undefined }
      })
      return found
    })
    if (!record) throw new GatewayError('not_found', { detail: 'no card key with this code' })
    return presentCardKey(record)
  })
}
