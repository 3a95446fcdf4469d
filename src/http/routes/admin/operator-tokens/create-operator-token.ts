import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { issueAdminToken } from '../../../../db/repositories/admin-tokens.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { CreateOperatorTokenBody, IssuedOperatorTokenSchema } from '../../../schemas/operator-tokens.js'
import { presentOperatorToken } from './present.js'

export default async function createOperatorToken (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/operator-tokens', {
    config: { roles: [] },
    schema: {
      operationId: 'admin.operator_tokens.create',
      tags: ['admin'],
      summary: 'Issue an operator token with one role',
      security: [{ operatorToken: [] }],
      body: CreateOperatorTokenBody,
      response: { 201: IssuedOperatorTokenSchema }
    }
  }, async (request, reply) => {
    const issued = await issueAdminToken(app.deps.database.db, { name: request.body.name, role: request.body.role, actor: auditActor(request) })
    return reply.code(201).send({ ...presentOperatorToken(issued.row), token: issued.token })
  })
}
