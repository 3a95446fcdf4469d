import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { writeAuditSql } from '../../../../db/repositories/audit-log.js'
import { getCardKey, markRevealed, openCardKey } from '../../../../db/repositories/card-keys.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CardKeyIdParam, RevealedCardKeySchema } from '../../../schemas/card-keys.js'

export default async function revealCardKey (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/card-keys/:id/reveal', {
    config: { roles: ['ops', 'support'] },
    schema: {
      operationId: 'admin.card_keys.reveal',
      tags: ['admin'],
      summary: 'Decrypt a key that left the shelf (sold, redeemed or voided), for a dispute',
      description: 'Every reveal writes an audit entry. Keys still on sale cannot be revealed: a code an operator ' +
        'has seen must never be sold. Void it first if it really has to be read.',
      security: [{ operatorToken: [] }],
      params: CardKeyIdParam,
      response: { 200: RevealedCardKeySchema }
    }
  }, async (request, reply) => {
    const sealed = await app.deps.database.sql.begin(async (tx) => {
      const key = await getCardKey(tx, request.params.id, { forUpdate: true })
      if (!key) throw new GatewayError('not_found', { detail: `no card key ${request.params.id}` })
      if (key.status === 'available') {
        throw new GatewayError('invalid_state', { detail: 'this key is on sale; only sold, redeemed or voided keys can be revealed' })
      }
      const row = await markRevealed(tx, key.id)
      if (!row) throw new Error(`card key ${key.id} vanished while locked`)
      await writeAuditSql(tx, auditActor(request), { action: 'card_key.reveal', targetType: 'card_key', targetId: key.id, details: { status: key.status } })
      return row
    })
    const plain = openCardKey(app.deps.keyring, sealed)
    // A decrypted code must not sit in a shared cache or a browser history.
    reply.header('cache-control', 'no-store')
    return { id: sealed.id, code: plain.code, pin: plain.pin, serial: plain.serial }
  })
}
