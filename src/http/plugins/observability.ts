import type { FastifyInstance } from 'fastify'

export function registerHttpMetrics (app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    app.deps.metrics.httpDuration.observe({
      method: request.method,
      // The route template, never the raw URL: raw URLs would explode label cardinality.
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })
}
