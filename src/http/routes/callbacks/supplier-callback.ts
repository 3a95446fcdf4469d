import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { GatewayError } from '../../../errors/gateway-error.js'

/** Supplier callbacks are small; anything bigger is not one. */
const MAX_CALLBACK_BYTES = 64 * 1024

/**
 * Where suppliers report an order's outcome. No reseller authentication: the adapter checks
 * the supplier's own signature and the answer is in the form that supplier expects. A
 * verified callback is only a hint: the engine queries the supplier before it finishes the
 * order, so a forged or stale callback can at most cause one extra query.
 */
export default async function supplierCallback (app: FastifyInstance): Promise<void> {
  // Signatures cover the bytes as sent, in whatever content type the supplier uses (JSON,
  // form-encoded), so this route takes every body raw and lets the adapter parse it.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_CALLBACK_BYTES }, (_request, body, done) => done(null, body))

  app.withTypeProvider<ZodTypeProvider>().post('/callbacks/suppliers/:supplier_id', {
    bodyLimit: MAX_CALLBACK_BYTES,
    schema: {
      operationId: 'callbacks.supplier',
      tags: ['callbacks'],
      summary: 'A supplier reports an order outcome (verified by the adapter, confirmed by a query)',
      params: z.object({ supplier_id: z.string().min(1).max(64) }),
      response: { 200: z.string().describe('The acknowledgement the supplier protocol expects, e.g. `success` or `ok`, as text/plain') }
    }
  }, async (request, reply) => {
    const supplierId = request.params.supplier_id
    const executor = app.suppliers.get(supplierId)
    const parse = executor?.adapter.parseCallback
    if (!executor || !parse) throw new GatewayError('not_found', { detail: `no supplier ${supplierId} that takes callbacks` })
    const headers: Record<string, string | undefined> = {}
    for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : ''
    const result = parse.call(executor.adapter, { headers, contentType: request.headers['content-type'] ?? '', rawBody: body })
    const log = request.log.child({ supplier: supplierId })
    if (!result.verified) {
      // The reason names what is wrong (bad signature, missing field), never the body.
      log.warn({ reason: result.reason }, 'supplier callback refused')
    } else {
      const [attempt] = await app.deps.database.sql<{ order_id: string, status: string }[]>`
        select order_id, status from supplier_attempts where id = ${result.reference} and supplier_id = ${supplierId}`
      if (!attempt) {
        log.warn({ reference: result.reference }, 'supplier callback for an attempt we do not know')
      } else {
        log.info({ reference: result.reference, order: attempt.order_id }, 'supplier callback received; confirming by query')
        // Answer the supplier at once; the look-up runs under the order's lease in the background.
        void app.fulfilment.nudge(attempt.order_id).catch((err: unknown) => log.error({ err, order: attempt.order_id }, 'callback follow-up failed; the poller will look'))
      }
    }
    // The status is the supplier protocol's (any the adapter picks), so the reply is untyped here.
    const raw: FastifyReply = reply
    return await raw.code(result.ack.status).type(result.ack.contentType).send(result.ack.body)
  })
}
