import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { listLedger } from '../../../../db/repositories/resellers.js'
import { buyer } from '../../../plugins/reseller-auth.js'
import { CursorQuery, LimitQuery, decodeCursor, encodeCursor, page } from '../../../schemas/common.js'
import { LedgerEntrySchema } from '../../../schemas/resellers.js'
import { presentLedgerEntry } from '../../admin/resellers/present.js'

export default async function listLedgerRoute (app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/ledger', {
    config: { reseller: true },
    schema: {
      operationId: 'ledger.list',
      tags: ['reseller'],
      summary: 'Every movement of your balance, newest first',
      security: [{ bearer: [] }, { signature: [] }],
      querystring: z.object({ limit: LimitQuery, cursor: CursorQuery }),
      response: { 200: page(LedgerEntrySchema) }
    }
  }, async (request) => {
    const beforeId = decodeCursor(request.query.cursor, z.number().int())
    const rows = await listLedger(app.deps.database.db, buyer(request).id, request.query.limit + 1, beforeId)
    const data = rows.slice(0, request.query.limit)
    return { data: data.map(presentLedgerEntry), next_cursor: rows.length > request.query.limit ? encodeCursor(data.at(-1)?.id) : null }
  })
}
