import type { FastifyInstance } from 'fastify'

export function registerHttpMetrics (app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url, status_code: reply.statusCode, response_time_ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed')
    app.deps.metrics.httpDuration.observe({
      method: request.method,
      // The route template, never the raw URL: raw URLs would explode label cardinality.
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode)
    }, reply.elapsedTime / 1000)
  })
}
