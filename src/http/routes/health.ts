import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { migrationsApplied } from '../../db/migrate.js'
import { GatewayError } from '../../errors/gateway-error.js'

const READINESS_QUERY_TIMEOUT_MS = 2000

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>()
  // Once the newest migration is seen it stays applied for this build; skip re-checking.
  let migrated = false

  r.get('/healthz', {
    schema: {
      operationId: 'health.live',
      tags: ['operations'],
      summary: 'Process is alive',
      response: { 200: z.object({ status: z.literal('ok') }) }
    }
  }, async () => ({ status: 'ok' as const }))

  r.get('/readyz', {
    schema: {
      operationId: 'health.ready',
      tags: ['operations'],
      summary: 'Ready for traffic: database reachable, migrations applied, not shutting down',
      response: { 200: z.object({ status: z.literal('ready') }) }
    }
  }, async (request) => {
    if (app.draining) throw new GatewayError('unavailable', { detail: 'shutting down' })
    try {
      const { sql } = app.deps.database
      await withTimeout(sql`select 1`, READINESS_QUERY_TIMEOUT_MS)
      migrated ||= await withTimeout(migrationsApplied(sql), READINESS_QUERY_TIMEOUT_MS)
    } catch (err) {
      request.log.warn({ err }, 'readiness: database unreachable')
      throw new GatewayError('unavailable', { detail: 'database unreachable' })
    }
    if (!migrated) throw new GatewayError('unavailable', { detail: 'database migrations not applied' })
    return { status: 'ready' as const }
  })

  r.get('/metrics', {
    schema: {
      operationId: 'metrics.scrape',
      tags: ['operations'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      response: { 200: z.string().describe('Prometheus text exposition format') }
    }
  }, async (_request, reply) => {
    const { registry } = app.deps.metrics
    reply.type(registry.contentType)
    return await registry.metrics()
  })

  r.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
