import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'
import ipaddr from 'ipaddr.js'
import { NonceClaim, rememberNonce, replayedRequest, apiSecretAad, type Credential } from '../../db/repositories/resellers.js'
import { allowlistMatcher } from '../../domain/cidr.js'
import { GatewayError } from '../../errors/gateway-error.js'

export interface AuthenticatedReseller {
  id: string
  keyId: string
  tier: string
  currency: string
  rateLimitPerMinute: number
  callbackUrl: string | null
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reseller API route: authenticated, allowlisted, rate-limited per reseller. */
    reseller?: boolean
    /**
     * The handler records a signed request's nonce itself, with its first statements
     * (request.nonce); one it did not reach is recorded before the answer goes out.
     */
    nonceInHandler?: boolean
  }
  interface FastifyRequest {
    reseller: AuthenticatedReseller | null
    rawBody: Buffer | undefined
    /** A signed request's nonce, not yet recorded (routes with config.nonceInHandler). */
    nonce: NonceClaim | undefined
  }
  interface FastifyInstance {
    /** Every reseller route as registered (for the authorization tests and docs). */
    resellerRoutes: { method: string, url: string }[]
  }
}

/** ±300 s, as api.md says; nonces are kept a little longer than the window they guard. */
export const SIGNATURE_WINDOW_S = 300
const NONCE = /^[A-Za-z0-9_-]{16,64}$/
const SIGNATURE = /^v1=([0-9a-f]{64})$/
const BEARER = /^Bearer\s+(\S+)$/i
const EMPTY_BODY_SHA256 = createHash('sha256').digest('hex')

function header (request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * The key failed authentication is counted under. One IPv6 subscriber is routinely handed a
 * whole /64, so single addresses would let a guesser rotate through billions of them:
 * IPv6 callers share their /64 (as @fastify/rate-limit's own key does, which a custom
 * keyGenerator replaces). An IPv4-mapped IPv6 caller is the IPv4 address it carries.
 */
function failedAuthKey (ip: string): string {
  if (!ipaddr.isValid(ip)) return `ip:${ip}`
  const address = ipaddr.process(ip)
  if (address.kind() === 'ipv4') return `ip:${address.toString()}`
  return `ip6:${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/64`).toString()}/64`
}

/** The canonical string of api.md: METHOD, path with query as sent, timestamp, nonce, body hash. */
export function stringToSign (method: string, pathWithQuery: string, timestamp: string, nonce: string, body: Buffer | undefined): string {
  const bodyHash = body && body.length > 0 ? createHash('sha256').update(body).digest('hex') : EMPTY_BODY_SHA256
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${bodyHash}`
}

async function authenticate (app: FastifyInstance, request: FastifyRequest): Promise<Credential> {
  const { sql } = app.deps.database
  const keyId = header(request, 'x-egw-key')
  const timestamp = header(request, 'x-egw-timestamp')
  const nonce = header(request, 'x-egw-nonce')
  const signature = header(request, 'x-egw-signature')
  if (keyId !== undefined || timestamp !== undefined || nonce !== undefined || signature !== undefined) {
    if (!keyId || !timestamp || !nonce || !signature) {
      throw new GatewayError('unauthorized', { detail: 'signed requests need x-egw-key, x-egw-timestamp, x-egw-nonce and x-egw-signature' })
    }
    // The window is checked before the key is looked up, so the answer never tells whether
    // a key id exists.
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_S) {
      throw new GatewayError('timestamp_out_of_window', { detail: `x-egw-timestamp must be unix seconds within ${SIGNATURE_WINDOW_S} s of server time` })
    }
    const credential = keyId.startsWith('ak_') ? await app.credentials.byKeyId(keyId) : undefined
    if (!credential) throw new GatewayError('unauthorized', { detail: 'unknown or revoked API key' })
    if (!NONCE.test(nonce)) throw new GatewayError('unauthorized', { detail: 'x-egw-nonce must be 16..64 characters of [A-Za-z0-9_-]' })
    const given = SIGNATURE.exec(signature)?.[1]
    const secret = app.deps.keyring.decryptString({ keyId: credential.secretKeyId, ciphertext: credential.secretCiphertext }, apiSecretAad(credential.keyId))
    const expected = createHmac('sha256', secret).update(stringToSign(request.method, request.url, timestamp, nonce, request.rawBody)).digest()
    if (!given || !timingSafeEqual(Buffer.from(given, 'hex'), expected)) {
      throw new GatewayError('signature_invalid', { detail: 'x-egw-signature does not match the request' })
    }
    // Recorded only once the signature holds, so nobody can burn another client's nonces.
    const expiresAt = new Date((Number(timestamp) + SIGNATURE_WINDOW_S * 2) * 1000)
    if (request.routeOptions.config.nonceInHandler === true) {
      request.nonce = new NonceClaim(credential.keyId, nonce, expiresAt)
      return credential
    }
    if (!await rememberNonce(sql, credential.keyId, nonce, expiresAt)) throw replayedRequest()
    return credential
  }
  const token = BEARER.exec(header(request, 'authorization') ?? '')?.[1]
  if (!token) throw new GatewayError('unauthorized', { detail: 'send authorization: Bearer sk_… or a signed request' })
  const credential = token.startsWith('sk_') ? await app.credentials.bySecret(token) : undefined
  if (!credential) throw new GatewayError('unauthorized', { detail: 'unknown or revoked API key' })
  if (credential.authMode === 'signature_only') {
    // Valid credentials used in a way this account does not allow: 403, as api.md lists it.
    throw new GatewayError('forbidden', { detail: 'this account accepts signed requests only' })
  }
  return credential
}

/**
 * Reseller routes (`/v1/…`) declare `config.reseller`. Order of checks: authentication,
 * status, IP allowlist, then the reseller's own rate limit; failed authentication counts
 * against the caller's IP instead, so guessing credentials is limited too.
 */
export async function registerResellerAuth (app: FastifyInstance): Promise<void> {
  app.decorateRequest('reseller', null)
  app.decorateRequest('rawBody', undefined)

  // The signature covers the raw body bytes, so keep them beside the parsed JSON.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer
    parseJson(request, (body as Buffer).toString('utf8'), done)
  })

  const { config } = app.deps
  // A slow or absent Redis must cost a request milliseconds, not seconds: no offline queue,
  // a short command timeout, and the limiter lets requests through on error.
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 200, connectTimeout: 2000 })
    : undefined
  if (redis) {
    // Without a listener ioredis prints errors to stderr outside our logs; the limiter skips on error.
    redis.on('error', (err: Error) => app.log.warn({ err }, 'rate-limit Redis unavailable; limits are not enforced meanwhile'))
    app.addHook('onClose', async () => {
      const timer = setTimeout(() => redis.disconnect(), 1000)
      await redis.quit().catch(() => redis.disconnect())
      clearTimeout(timer)
    })
  }
  await app.register(fastifyRateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'egw-rate-limit-' } : {}),
    // A Redis outage must not turn into an outage of the API.
    skipOnError: true
  })
  const window = config.rateLimitWindowMs
  const byReseller = app.createRateLimit({
    keyGenerator: (req) => `rsl:${req.reseller?.id ?? ''}`,
    max: (req) => req.reseller?.rateLimitPerMinute ?? 1,
    timeWindow: window
  })
  const byIp = app.createRateLimit({ keyGenerator: (req) => failedAuthKey(req.ip), max: config.unauthenticatedRateLimit, timeWindow: window })

  const enforce = async (limit: typeof byIp, request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const result = await limit(request)
    if (result.isAllowed) return
    reply.header('ratelimit-limit', result.max)
    reply.header('ratelimit-remaining', Math.max(0, result.remaining))
    reply.header('ratelimit-reset', result.ttlInSeconds)
    if (result.isExceeded) {
      throw new GatewayError('rate_limited', {
        detail: `more than ${result.max} requests in ${Math.round(window / 1000)} s`,
        headers: { 'retry-after': String(result.ttlInSeconds) }
      })
    }
  }

  app.decorate('resellerRoutes', [])
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1/')) return
    if (!route.config?.reseller) throw new Error(`reseller route ${String(route.method)} ${route.url} does not declare config.reseller`)
    for (const method of [route.method].flat()) if (method !== 'HEAD') app.resellerRoutes.push({ method, url: route.url })
  })

  app.decorateRequest('nonce', undefined)
  // A signed request answered without its handler recording the nonce (refusals record it
  // in the error handler): recorded now, so that the nonce still works only once.
  app.addHook('onSend', async (request) => {
    if (request.nonce && !request.nonce.sent) await request.nonce.claim(app.deps.database.sql)
  })

  app.addHook('preValidation', async (request, reply) => {
    if (!request.routeOptions.config.reseller) return
    // Only JSON bodies keep their raw bytes (above); any other body (Fastify's own text/plain
    // parser, say) would be signature-checked as if it were empty. Refused before anything
    // is authenticated, so the nonce stays unused.
    if (request.body !== undefined && request.rawBody === undefined) {
      throw new GatewayError('unsupported_media_type', { detail: 'reseller routes take application/json bodies only' })
    }
    let credential: Credential
    try {
      credential = await authenticate(app, request)
    } catch (err) {
      await enforce(byIp, request, reply)
      throw err
    }
    request.reseller = {
      id: credential.resellerId, keyId: credential.keyId, tier: credential.tier, currency: credential.currency, rateLimitPerMinute: credential.rateLimitPerMinute,
      callbackUrl: credential.callbackUrl
    }
    // Refused callers with valid credentials (a leaked key used from elsewhere, a suspended
    // account) count against their IP like failed logins, so they cannot hammer us either.
    if (credential.status !== 'active') {
      await enforce(byIp, request, reply)
      throw new GatewayError('forbidden', { detail: 'this reseller account is suspended' })
    }
    if (!allowlistMatcher(credential.ipAllowlist)(request.ip)) {
      await enforce(byIp, request, reply)
      throw new GatewayError('ip_not_allowed', { detail: 'the calling address is not in this account\'s IP allowlist' })
    }
    await enforce(byReseller, request, reply)
  })
}

/** The authenticated reseller of a `config.reseller` route. */
export function buyer (request: FastifyRequest): AuthenticatedReseller {
  if (!request.reseller) throw new Error('buyer() on a route without reseller authentication')
  return request.reseller
}
