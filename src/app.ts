import { randomBytes } from 'node:crypto'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import {
  jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler
} from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import type { Keyring } from './crypto/keyring.js'
import type { Database } from './db/client.js'
import { GatewayError } from './errors/gateway-error.js'
import { registerAdminAuth } from './http/plugins/admin-auth.js'
import { registerErrorHandling, sendProblem } from './http/plugins/errors.js'
import { registerResellerAuth } from './http/plugins/reseller-auth.js'
import { registerHttpMetrics } from './http/plugins/observability.js'
import { registerRoutes } from './http/routes/index.js'
import { ProblemSchema } from './http/schemas/common.js'
import type { Metrics } from './observability/metrics.js'
import { FulfilmentEngine } from './orders/fulfil.js'
import { createSupplierHttp } from './suppliers/http.js'
import { createSupplierMetrics } from './suppliers/metrics.js'
import { SupplierRegistry } from './suppliers/registry.js'
import { registerPoolMetrics } from './pool/metrics.js'
import { createOps, type Ops } from './ops/index.js'
import { CredentialCache } from './db/repositories/credential-cache.js'
import { CatalogCache } from './orders/catalog-cache.js'

export interface AppDeps {
  config: Config
  database: Database
  keyring: Keyring
  metrics: Metrics
  logger: Logger
  /** Build the routes only (OpenAPI generation): no database work, no supplier instances loaded. */
  describeOnly?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps
    /** Supplier instances this process runs, with their breakers. */
    suppliers: SupplierRegistry
    fulfilment: FulfilmentEngine
    /** Credentials as authentication reads them, cached until a change is announced. */
    credentials: CredentialCache
    /** Order terms (prices, rules) as orders read them, checked against catalog_version. */
    catalog: CatalogCache
    /** Alerts and operational metrics; its periodic checks are started where WORKERS is on. */
    ops: Ops
    /** Set when shutdown begins: readiness fails and new requests get 503 while in-flight ones finish. */
    draining: boolean
  }
}

export const BODY_LIMIT_BYTES = 1024 * 1024
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const ERROR_STATUSES = [400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 503] as const

export const API_VERSION = '2026-11-25'

export async function buildApp (deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify's defaults leave requestTimeout at 0 (never); every timeout is explicit here.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs + 5000,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { headersTimeout: Math.min(config.requestTimeoutMs, 20_000) },
    forceCloseConnections: 'idle',
    // Our own draining hook answers with problem+json instead of Fastify's plain 503 body.
    return503OnClosing: false,
    // A hop count means: believe that many proxies in front of us (proxy-addr's numeric form).
    trustProxy: typeof config.trustProxy === 'number' ? (_address: string, hop: number) => hop < (config.trustProxy as number) : config.trustProxy,
    requestIdHeader: false,
    // One line per request (onResponse in plugins/observability.ts), not Fastify's two.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : `req_${randomBytes(12).toString('base64url')}`
    },
    // A URL Fastify cannot route (bad percent-encoding, an over-long parameter) is refused
    // before any hook runs: answer it as every other error, request id included.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id)
      const refused = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      if (!refused) request.log.error({ err: error }, 'request failed')
      sendProblem(reply, refused
        ? new GatewayError('invalid_request', { detail: 'the URL is not valid: a malformed percent-encoding or an over-long path segment' })
        : new GatewayError('internal_error', { cause: error }))
    }
  })

  app.decorate('deps', deps)
  const supplierHttp = createSupplierHttp()
  const ops = createOps({
    sql: deps.database.sql, registry: deps.metrics.registry, log: deps.logger, suppliers: { loaded: () => suppliers.loaded() },
    supplierBalanceIntervalMs: config.supplierBalanceIntervalMs, callbackAlertAttempts: config.callbackAlertAttempts,
    ordersMetricsWindowMs: config.ordersMetricsWindowMs
  })
  const suppliers = new SupplierRegistry({
    sql: deps.database.sql, keyring: deps.keyring, http: supplierHttp.http, metrics: createSupplierMetrics(deps.metrics.registry),
    log: deps.logger, publicBaseUrl: config.publicBaseUrl, breakerObserver: ops.breakerObserver
  })
  const credentials = new CredentialCache(deps.database.sql)
  const catalog = new CatalogCache(deps.database.sql)
  if (deps.describeOnly !== true) await Promise.all([suppliers.start(), credentials.start(), catalog.start()])
  app.decorate('credentials', credentials)
  app.decorate('catalog', catalog)
  app.addHook('onClose', async () => { await Promise.all([credentials.close(), catalog.close()]) })
  const fulfilment = new FulfilmentEngine({
    sql: deps.database.sql, keyring: deps.keyring, suppliers, log: deps.logger, pollIntervalMs: config.supplierPollIntervalMs,
    reconcileAfterMs: config.reconcileAfterMs, firstCallbackDelayMs: config.webhookRetryScheduleMs[0] ?? 0
  })
  app.decorate('suppliers', suppliers)
  app.decorate('fulfilment', fulfilment)
  app.decorate('ops', ops)
  // After in-flight requests: orders they accepted may still be at a supplier.
  app.addHook('onClose', async () => {
    await fulfilment.drain()
    await suppliers.close()
    await ops.drain()
    await supplierHttp.close()
  })
  app.decorate('draining', false)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (app.draining) {
      reply.header('connection', 'close')
      throw new GatewayError('unavailable', { detail: 'the gateway is shutting down; retry on another instance' })
    }
  })

  // Every route documents the problem+json answers it can give, without copy-paste.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return
    const response = (route.schema.response ?? {}) as Record<number, unknown>
    for (const status of ERROR_STATUSES) response[status] ??= ProblemSchema
    route.schema.response = response
  })

  registerPoolMetrics(deps.metrics.registry, deps.database.sql, deps.logger)
  registerErrorHandling(app)
  registerHttpMetrics(app)
  registerAdminAuth(app)
  await registerResellerAuth(app)

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'entitlement-gateway',
        version: API_VERSION,
        description: 'Buy digital entitlements (memberships, top-ups, airtime, gift-card codes) through one API. ' +
          'Errors are RFC 9457 problem details; their codes are listed in openapi/errors.md.'
      },
      tags: [
        { name: 'operations', description: 'Health, readiness and metrics' },
        { name: 'reseller', description: 'Reseller API: `authorization: Bearer sk_…` or a signed request (x-egw-key, x-egw-timestamp, x-egw-nonce, x-egw-signature)' },
        { name: 'admin', description: 'Operator API (`authorization: Bearer adm_…`)' },
        { name: 'callbacks', description: 'Supplier callbacks: each verified by its adapter with the supplier\'s own signature' }
      ],
      components: {
        securitySchemes: {
          operatorToken: { type: 'http', scheme: 'bearer', description: 'Operator token `adm_…`' },
          bearer: { type: 'http', scheme: 'bearer', description: 'Reseller API secret `sk_…` (unless the account is signature_only)' },
          signature: {
            type: 'apiKey', in: 'header', name: 'x-egw-signature',
            description: 'v1=hex(HMAC-SHA256(secret, METHOD\\nPATH_WITH_QUERY\\nTIMESTAMP\\nNONCE\\nhex(SHA-256(body)))) with x-egw-key, x-egw-timestamp and x-egw-nonce'
          }
        }
      }
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { url: '/openapi.json' } })

  await app.register(registerRoutes)
  return app
}
