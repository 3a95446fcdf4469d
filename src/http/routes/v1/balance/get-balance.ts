import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { getBalance } from '../../../../db/repositories/resellers.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { BalanceSchema } from '../../../schemas/orders.js'

export default async function getBalanceRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/balance', {
    config: { reseller: true },
    schema: {
      operationId: 'balance.get',
      tags: ['reseller'],
      summary: 'Your prepaid balance and credit limit',
      security: [{ bearer: [] }, { signature: [] }],
      response: { 200: BalanceSchema }
    }
  }, async (request) => {
    const balance = await getBalance(app.deps.database, buyer(request).id)
    if (!balance) throw new Error('authenticated reseller without a balance row')
    return { available: balance.balance, credit_limit: balance.creditLimit, currency: balance.currency }
  })
}
