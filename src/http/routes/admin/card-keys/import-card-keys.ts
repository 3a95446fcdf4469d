import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { GatewayError } from '../../../../errors/gateway-error.js'
import { csvCardKeys, type ImportLine } from '../../../../pool/csv.js'
import { importBatch, type ImportIssue } from '../../../../pool/import-batch.js'
import { auditActor } from '../../../plugins/admin-auth.js'
import { ImportCardKeysBody, ImportCsvQuery, ImportResultSchema } from '../../../schemas/card-keys.js'
import { SkuParam } from '../../../schemas/skus.js'

const MAX_REPORTED_ISSUES = 1000

export default async function importCardKeys (app: FastifyInstance): Promise<void> {
  // Registered in this plugin only: every other route keeps answering text/csv with 415.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body))

  app.withTypeProvider<ZodTypeProvider>().post('/admin/v1/skus/:sku/card-keys', {
    config: { roles: ['ops'] },
    schema: {
      operationId: 'admin.card_keys.import',
      tags: ['admin'],
      summary: 'Import a batch of card keys (JSON, or text/csv with unit_cost in the query)',
      description: 'One transaction per batch. Codes already in the pool (any SKU) or repeated in the batch are refused ' +
        'and counted as duplicates; malformed lines are counted as rejected. Both are listed by line, never by code.',
      security: [{ operatorToken: [] }],
      consumes: ['application/json', 'text/csv'],
      params: z.object({ sku: SkuParam }),
      querystring: ImportCsvQuery,
      body: ImportCardKeysBody,
      response: { 201: ImportResultSchema }
    }
  }, async (request, reply) => {
    const body = request.body
    let meta: { unitCost: number, expiresAt: string | undefined, source: string | undefined }
    let lines: Iterable<ImportLine> | AsyncIterable<ImportLine>
    if (typeof body === 'string') {
      if (!request.headers['content-type']?.startsWith('text/csv')) {
        throw new GatewayError('invalid_request', { detail: 'expected a JSON object, or a text/csv body' })
      }
      const { unit_cost: unitCost, expires_at: expiresAt, source } = request.query
      if (unitCost === undefined) {
        throw new GatewayError('invalid_request', { detail: 'unit_cost is required for CSV imports', errors: [{ path: 'querystring.unit_cost', message: 'required for text/csv' }] })
      }
      meta = { unitCost, expiresAt, source }
      const text = body.endsWith('\n') ? body.slice(0, -1) : body
      lines = csvCardKeys(text === '' ? [] : text.split('\n'))
    } else {
      meta = { unitCost: body.unit_cost, expiresAt: body.expires_at, source: body.source }
      lines = body.codes.map((key, i) => ({ line: i + 1, key }))
    }
    const issues: ImportIssue[] = []
    const summary = await importBatch(app.deps.database.sql, app.deps.keyring, {
      sku: request.params.sku,
      unitCost: meta.unitCost,
      expiresAt: meta.expiresAt ? new Date(meta.expiresAt) : null,
      source: meta.source ?? null,
      actor: auditActor(request)
    }, lines, { onIssue: (issue) => { if (issues.length <= MAX_REPORTED_ISSUES) issues.push(issue) } })
    return reply.code(201).send({
      batch_id: summary.batchId,
      sku: summary.sku,
      imported: summary.imported,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
      issues: issues.slice(0, MAX_REPORTED_ISSUES),
      issues_truncated: issues.length > MAX_REPORTED_ISSUES
    })
  })
}
