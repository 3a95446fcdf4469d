import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { adjustBalance, getResellerPrices, replaceResellerPrices, resellerExists } from '../../../../db/repositories/resellers.js'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { BalanceAdjustmentBody, LedgerEntrySchema, ResellerIdParam, ResellerPricesBody, ResellerPricesSchema } from '../../../schemas/resellers.js'
import { existingSkus } from '../../../../db/repositories/skus.js'
import { balanceMismatches } from '../../../../reports/reconcile.js'
import { presentLedgerEntry } from './present.js'

export default async function moneyRoutes (app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const { db } = app.deps.database

  r.post('/admin/v1/resellers/:id/balance-adjustments', {
    config: { roles: ['finance'] },
    schema: {
      operationId: 'admin.resellers.balance_adjustments.create',
      tags: ['admin'],
      summary: 'Top up (positive) or correct (negative) a balance: one ledger entry',
      description: 'Send an `idempotency-key` header to make retries safe: the same key returns the first entry (200) ' +
        'instead of moving money again; the same key with another amount or reason is 409 idempotency_conflict.',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      headers: z.looseObject({ 'idempotency-key': z.string().regex(/^[\x21-\x7e]{1,255}$/, 'expected 1..255 printable ASCII characters').optional() }),
      body: BalanceAdjustmentBody,
      response: { 200: LedgerEntrySchema, 201: LedgerEntrySchema }
    }
  }, async (request, reply) => {
    const result = await adjustBalance(app.deps.database.sql, request.params.id, request.body.amount, request.body.reason, auditActor(request), request.headers['idempotency-key'])
    if (result === 'not_found') throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    if (result === 'below_limit') throw new GatewayError('insufficient_balance', { detail: 'the correction would take the balance below its credit limit' })
    if (result === 'conflict') throw new GatewayError('idempotency_conflict', { detail: 'this idempotency-key was used for a different adjustment' })
    return reply.code(result.replayed ? 200 : 201).send(presentLedgerEntry(result.entry))
  })

  const pricesResponse = async (id: string) => ({
    reseller_id: id,
    prices: (await getResellerPrices(db, id)).map((p) => ({ sku: p.sku, price: p.price, updated_at: p.updatedAt.toISOString() }))
  })

  r.put('/admin/v1/resellers/:id/prices', {
    config: { roles: ['finance'] },
    schema: {
      operationId: 'admin.resellers.prices.put',
      tags: ['admin'],
      summary: 'Replace a reseller\'s price overrides (they beat its tier\'s prices)',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      body: ResellerPricesBody,
      response: { 200: ResellerPricesSchema }
    }
  }, async (request) => {
    if (!await resellerExists(db, request.params.id)) throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    const known = await existingSkus(db, request.body.map((p) => p.sku))
    const errors = request.body.flatMap((p, i) => known.has(p.sku) ? [] : [{ path: `body.${i}.sku`, message: `unknown SKU ${p.sku}` }])
    if (errors.length > 0) throw new GatewayError('invalid_request', { detail: `${errors.length} unknown SKU(s)`, errors })
    await replaceResellerPrices(db, request.params.id, request.body, auditActor(request))
    return await pricesResponse(request.params.id)
  })

  r.get('/admin/v1/resellers/:id/prices', {
    config: { roles: ['finance', 'support'] },
    schema: {
      operationId: 'admin.resellers.prices.get',
      tags: ['admin'],
      summary: 'A reseller\'s price overrides',
      security: [{ operatorToken: [] }],
      params: ResellerIdParam,
      response: { 200: ResellerPricesSchema }
    }
  }, async (request) => {
    if (!await resellerExists(db, request.params.id)) throw new GatewayError('not_found', { detail: `no reseller ${request.params.id}` })
    return await pricesResponse(request.params.id)
  })

  r.get('/admin/v1/reconciliation/balances', {
    config: { roles: ['finance'] },
    schema: {
      operationId: 'admin.reconciliation.balances',
      tags: ['admin'],
      summary: 'Check that every balance equals the sum of its ledger',
      description: 'The first check of `GET /admin/v1/reconciliation`, on its own and listing every mismatch.',
      security: [{ operatorToken: [] }],
      response: {
        200: z.object({
          ok: z.boolean(),
          mismatches: z.array(z.object({ reseller_id: z.string(), balance: z.number().int(), ledger_sum: z.number().int() }))
        })
      }
    }
  }, async () => {
    const mismatches = await balanceMismatches(app.deps.database.sql)
    return { ok: mismatches.length === 0, mismatches: mismatches.map((m) => ({ reseller_id: m.resellerId, balance: m.balance, ledger_sum: m.ledgerSum })) }
  })
}
