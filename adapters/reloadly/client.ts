import type { HttpCall } from '../../src/domain/supplier.js'
import type { ReloadlyConfig } from './config.js'
import { toMinorUnits } from './map.js'
import { Balance, readError, TokenResponse, type TokenRequest } from './wire.js'

/**
 * A cached token is renewed this long before Reloadly says it expires (at most half its
 * life): our clock, Reloadly's and the time a request spends in flight may disagree by a few
 * seconds, and tokens live 24 h to 60 days, so five minutes costs nothing.
 */
export const TOKEN_MARGIN_SECONDS = 300

/** 401 codes that mean "this token", not "these credentials" (suppliers.md §1.6). */
const STALE_TOKEN = new Set(['TOKEN_EXPIRED', 'INVALID_TOKEN'])

/** A 5xx: the product API is in trouble, and whether it acted on the request is unknown. */
export class ReloadlyUnavailable extends Error {
  override name = 'ReloadlyUnavailable'
}

/** A 2xx (or an ambiguous status) whose body is not what Reloadly sends. */
export class ReloadlyBadResponse extends Error {
  override name = 'ReloadlyBadResponse'
}

/**
 * No token could be had (refused, down, or no answer in time). Thrown before anything was
 * sent to the product API, so a purchase that meets it certainly bought nothing.
 */
export class ReloadlyAuthFailed extends Error {
  override name = 'ReloadlyAuthFailed'
}

export interface ReloadlyAnswer {
  status: number
  /** The parsed JSON body; null for an empty body, or a non-JSON body on a definite 4xx. */
  body: unknown
}

export interface ReloadlyClient {
  get (path: string, signal: AbortSignal): Promise<ReloadlyAnswer>
  post (path: string, body: object, signal: AbortSignal): Promise<ReloadlyAnswer>
  /** `GET /accounts/balance` (same in both products), in minor units of its currency. */
  balance (signal: AbortSignal): Promise<{ amount: number, currency: string }>
}

interface Token { value: string, renewAt: number }

const parseJson = (text: string): unknown => text.trim() === '' ? null : JSON.parse(text) as unknown

/**
 * Authenticated JSON calls to one Reloadly product. The token is fetched on first use and
 * cached per audience inside this client (so per supplier instance) until its margin; one
 * fetch at a time per audience. A 401 naming the token, or a bare 401, drops the token and
 * retries the call once with a fresh one: the 401 means the call was not acted on.
 *
 * Throws ReloadlyUnavailable on 5xx and ReloadlyBadResponse on unparseable success bodies
 * (the outcome is unknown); returns 4xx answers for the adapter to classify.
 */
export function createReloadlyClient (options: { config: ReloadlyConfig, baseUrl: string, http: HttpCall, accept: string, now?: () => number }): ReloadlyClient {
  const { config, http, accept } = options
  const now = options.now ?? Date.now
  // The audience is the product host as configured, without a trailing slash (§1.1).
  const audience = options.baseUrl.replace(/\/+$/, '')
  const tokens = new Map<string, Token>()
  const fetching = new Map<string, Promise<Token>>()

  const fetchToken = async (signal: AbortSignal): Promise<Token> => {
    const request: TokenRequest = { client_id: config.client_id, client_secret: config.client_secret, grant_type: 'client_credentials', audience }
    let res: { status: number, body: string }
    try {
      res = await http({ url: config.auth_url, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(request), signal })
    } catch (err) {
      throw new ReloadlyAuthFailed('the token endpoint did not answer', { cause: err })
    }
    let body: unknown = null
    try {
      body = parseJson(res.body)
    } catch {}
    if (res.status !== 200) {
      const { errorCode } = readError(body)
      throw new ReloadlyAuthFailed(`the token endpoint answered HTTP ${res.status}${errorCode ? ` ${errorCode}` : ''}`)
    }
    const token = TokenResponse.safeParse(body)
    if (!token.success) throw new ReloadlyAuthFailed('the token endpoint answered without a token')
    const lifetime = token.data.expires_in
    return { value: token.data.access_token, renewAt: now() + (lifetime - Math.min(TOKEN_MARGIN_SECONDS, lifetime / 2)) * 1000 }
  }

  const token = async (signal: AbortSignal): Promise<string> => {
    const cached = tokens.get(audience)
    if (cached && cached.renewAt > now()) return cached.value
    let pending = fetching.get(audience)
    if (!pending) {
      // Callers arriving meanwhile share this fetch (and its caller's deadline).
      pending = fetchToken(signal)
        .then((t) => { tokens.set(audience, t); return t })
        .finally(() => fetching.delete(audience))
      fetching.set(audience, pending)
    }
    return (await pending).value
  }

  /** Drops the token a 401 refused, unless a caller has already replaced it. */
  const drop = (value: string): void => {
    if (tokens.get(audience)?.value === value) tokens.delete(audience)
  }

  const send = async (method: 'GET' | 'POST', path: string, body: object | undefined, signal: AbortSignal): Promise<ReloadlyAnswer> => {
    const once = async (bearer: string): Promise<{ status: number, body: string }> => await http({
      url: `${audience}${path}`,
      method,
      headers: { authorization: `Bearer ${bearer}`, accept, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal
    })
    let bearer = await token(signal)
    let res = await once(bearer)
    if (res.status === 401) {
      let errorCode: string | null = null
      try {
        errorCode = readError(parseJson(res.body)).errorCode
      } catch {}
      // A bare 401 (Spring Security's default, no envelope) is taken as a token problem too.
      if (errorCode === null || STALE_TOKEN.has(errorCode)) {
        drop(bearer)
        bearer = await token(signal)
        res = await once(bearer)
      }
    }
    // 408: a proxy gave up reading or forwarding; whether Reloadly got the request is unknown.
    if (res.status >= 500 || res.status === 408) throw new ReloadlyUnavailable(`HTTP ${res.status}`)
    try {
      return { status: res.status, body: parseJson(res.body) }
    } catch {
      // A 4xx is a refusal whatever its body says (a proxy's HTML 404, say); a 2xx must parse.
      if (res.status >= 400) return { status: res.status, body: null }
      throw new ReloadlyBadResponse(`HTTP ${res.status} with a body that is not JSON`)
    }
  }

  return {
    get: async (path, signal) => await send('GET', path, undefined, signal),
    post: async (path, body, signal) => await send('POST', path, body, signal),
    async balance (signal) {
      const answer = await send('GET', '/accounts/balance', undefined, signal)
      const balance = Balance.safeParse(answer.body)
      if (answer.status !== 200 || !balance.success) throw new ReloadlyBadResponse(`balance query answered HTTP ${answer.status} without a balance`)
      return { amount: toMinorUnits(balance.data.balance, balance.data.currencyCode), currency: balance.data.currencyCode }
    }
  }
}
