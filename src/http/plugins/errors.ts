import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { catalogue, type ErrorCode } from '../../errors/catalogue.js'
import { replayedRequest } from '../../db/repositories/resellers.js'
import { GatewayError, loggableCause, type FieldError } from '../../errors/gateway-error.js'
import type { Problem } from '../schemas/common.js'

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_VALIDATION: 'invalid_request'
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  413: 'payload_too_large', 415: 'unsupported_media_type', 429: 'rate_limited', 503: 'unavailable'
}

function jsonPath (context: string | undefined, instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  return [context ?? 'body', ...parts].join('.')
}

/** PostgreSQL gave up waiting (deadlock, lock or statement timeout): safe to retry, not a bug. */
const TRANSIENT_SQLSTATES = new Set(['40P01', '40001', '55P03', '57014'])

/**
 * The database cannot be reached or is refusing work: postgres.js's connection errors, the
 * socket's own, and the server's connection-exception class (08), too_many_connections and
 * shutdown states. A 503 the client may retry (orders and adjustments are idempotent by
 * their keys), not a 500 that reads as our bug. The socket codes cannot tell the database
 * from another service, so the answer does not insist it was the database.
 */
const UNREACHABLE_CODES = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '53300', '57P01', '57P02', '57P03'
])
const unreachable = (code: string): boolean => UNREACHABLE_CODES.has(code) || code.startsWith('08')

/** The first string `code` down the cause chain: drivers' errors arrive wrapped, sometimes twice. */
function causeCode (err: unknown): string | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

/** Everything that fails becomes a GatewayError; the rest of the handler only renders. */
function toGatewayError (err: FastifyError): GatewayError {
  if (err instanceof GatewayError) return err
  const code = causeCode(err)
  if (code !== undefined && TRANSIENT_SQLSTATES.has(code)) {
    return new GatewayError('unavailable', { detail: 'the request conflicted with concurrent work; retry it', internal: `sqlstate ${code}`, cause: err })
  }
  if (code !== undefined && unreachable(code)) {
    return new GatewayError('unavailable', { detail: 'a service the gateway depends on (such as its database) is unreachable; retry the request', internal: code, cause: err })
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const errors: FieldError[] = err.validation.flatMap((v) => {
      const path = jsonPath(err.validationContext, v.instancePath)
      // One entry per field the request should not have sent, at that field's path.
      const unknown = v.keyword === 'unrecognized_keys' ? (v.params as { keys?: unknown }).keys : undefined
      if (Array.isArray(unknown)) return unknown.map((key) => ({ path: `${path}.${String(key)}`, message: 'unknown field' }))
      return [{ path, message: v.message ?? 'invalid' }]
    })
    return new GatewayError('invalid_request', { detail: `${errors.length} invalid field(s)`, errors })
  }
  if (isResponseSerializationError(err)) {
    return new GatewayError('internal_error', { internal: 'response did not match its schema', cause: err })
  }
  const byCode = err.code ? FASTIFY_CODES[err.code] : undefined
  if (byCode) return new GatewayError(byCode, { detail: err.message, cause: err })
  const status = err.statusCode ?? 500
  const byStatus = status < 500 || status === 503 ? STATUS_CODES[status] : undefined
  if (byStatus) return new GatewayError(byStatus, { detail: status < 500 ? err.message : undefined, cause: err })
  return new GatewayError('internal_error', { cause: err })
}

export function problemBody (error: GatewayError, requestId: string): Problem {
  return {
    type: 'about:blank',
    title: catalogue[error.code].title,
    status: error.status,
    code: error.code,
    ...(error.detail !== undefined ? { detail: error.detail } : {}),
    request_id: requestId,
    ...(error.errors ? { errors: error.errors } : {})
  }
}

export function sendProblem (reply: FastifyReply, error: GatewayError): FastifyReply {
  if (error.headers) reply.headers(error.headers)
  return reply.code(error.status).type('application/problem+json').send(problemBody(error, String(reply.request.id)))
}

export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler(async (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // A signed request refused before its handler recorded the nonce (config.nonceInHandler;
    // its body failed validation, say) records it now: a replay is answered as one.
    const replayed = request.nonce && !request.nonce.sent && !await request.nonce.claim(app.deps.database.sql)
    const error = replayed ? replayedRequest() : toGatewayError(err)
    if (error.status >= 500) {
      request.log.error({ err: loggableCause(error.cause ?? err), internal: error.internal, error_code: error.code }, 'request failed')
    } else {
      request.log.info({ error_code: error.code, internal: error.internal }, 'request refused')
    }
    return sendProblem(reply, error)
  })
  app.setNotFoundHandler((request, reply) => sendProblem(reply,
    new GatewayError('not_found', { detail: `no route for ${request.method} ${request.url.split('?')[0]}` })))
}
