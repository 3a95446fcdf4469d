import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'
import { request } from 'undici'
import { reloadlyDateTime, reloadlySignature } from './wire.js'

/** Behaviour knobs, changeable while the simulator runs. Faults hit the product APIs, not the token endpoint. */
export interface ReloadlyKnobs {
  latencyMs: number
  /** Answer every product call with this HTTP status (e.g. 503) instead of the API's answer. */
  httpStatus: number | null
  /** Never answer product calls (the client's deadline must cut them). */
  hang: boolean
  /** Read each product request, then destroy the socket without answering. */
  reset: boolean
  /** Answer product calls with a body that is not JSON. */
  malformed: boolean
  /** Purchases create the transaction, then never answer; everything else answers. */
  acceptThenHang: boolean
  /** Transactions stay PROCESSING (gift cards: PENDING, then PROCESSING) this long. */
  completeAfterMs: number
  finalState: 'success' | 'failed'
  /** How a failure ends: FAILED (never debited) or REFUNDED (debited, then refunded). */
  failAs: 'FAILED' | 'REFUNDED'
  /** Where the signed webhook of each final state is POSTed; null sends none. */
  callbackUrl: string | null
  /** Pause between deliveries of one webhook until one is answered 2xx (compressed). */
  callbackRetryMs: number
  /** Deliveries of one webhook at most (the first included). */
  callbackAttempts: number
  /** `expires_in` of issued tokens, seconds. */
  tokenTtlSeconds: number
  /** Answer the token endpoint with this status instead (a fault knob for the auth host). */
  authHttpStatus: number | null
  /** Refuse every purchase with this error (e.g. 400 OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE). */
  refusal: { status: number, errorCode: string | null, message: string } | null
  /** E.164 numbers a top-up refuses with INVALID_RECIPIENT_PHONE. */
  badRecipients: string[]
  /** PHONE_RECENTLY_RECHARGED for a number topped up this recently; 0 turns the check off. */
  recentRechargeMs: number
  /** Account balance (USD), debited per purchase; INSUFFICIENT_BALANCE below the cost. */
  balance: number
  /** `/topups/{id}/status` answers the wrapped `{status, transaction}` shape or the flat one. */
  statusShape: 'wrapped' | 'flat'
  /** `…/cards` answers a single object (the doc example) for one-card orders, not an array. */
  cardsAsObject: boolean
  /** Largest report page served, whatever `size` asks. */
  maxPageSize: number
}

/** One delivery of a webhook: the receiver's status (null: no HTTP answer) and the body sent. */
export interface ReloadlyWebhookDelivery {
  reference: string
  status: number | null
  body: string
}

export interface ReloadlySimulator {
  /** The root; the products live under it. */
  url: string
  authUrl: string
  /** Base URL (and token audience) of the airtime API. */
  airtimeUrl: string
  /** Base URL (and token audience) of the gift-card API. */
  giftcardsUrl: string
  knobs: ReloadlyKnobs
  /** Credentials of a supplier instance on this simulator (reloadly/config.ts). */
  credentials: () => { client_id: string, client_secret: string, auth_url: string, webhook_secret: string }
  submits: string[]
  queries: string[]
  callbacks: ReloadlyWebhookDelivery[]
  tokensIssued: () => number
  /** Every token issued so far answers 401 TOKEN_EXPIRED from now on. */
  expireTokens: () => void
  close: () => Promise<void>
}

type Final = 'SUCCESSFUL' | 'FAILED' | 'REFUNDED'

interface Transaction {
  id: number
  product: 'airtime' | 'giftcards'
  ref: string
  created: number
  final: Final | null
  cost: number
  /** Airtime: operator, amount, phone. Gift cards: product, unit price, quantity. */
  itemId: number
  amount: number
  quantity: number
  phone: string
  countryCode: string
  number: string
}

interface Operator { name: string, country: string, fixed: number[] | null, min: number, max: number, pin: boolean }
interface Product { name: string, country: string, fixed: number[] | null, min: number, max: number }

/** A small catalog (§1.3, §2): FIXED and RANGE denominations, one PIN operator. */
export const SIM_OPERATORS: Record<number, Operator> = {
  341: { name: 'MTN Nigeria', country: 'NG', fixed: null, min: 0.5, max: 100, pin: false },
  1066: { name: 'China Mobile', country: 'CN', fixed: null, min: 1, max: 200, pin: false },
  535: { name: 'EE PIN England', country: 'GB', fixed: [5, 10, 20], min: 5, max: 20, pin: true }
}

export const SIM_PRODUCTS: Record<number, Product> = {
  10: { name: 'Amazon US', country: 'US', fixed: [25, 50, 100], min: 25, max: 100 },
  20: { name: 'Steam Wallet', country: 'US', fixed: null, min: 5, max: 500 }
}

const DAY = 86_400_000

/** The two headers of a webhook signed with `secret` (§1.7), timestamped now unless told. */
export function webhookHeaders (secret: string, body: string, timestamp = String(Math.floor(Date.now() / 1000))): Record<string, string> {
  return { 'content-type': 'application/json', 'x-reloadly-signature': reloadlySignature(secret, body, timestamp), 'x-reloadly-request-timestamp': timestamp }
}
const parseDate = (text: string | null): number | null => text && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text) ? Date.parse(`${text.replace(' ', 'T')}Z`) : null

/**
 * Reloadly over real HTTP (suppliers.md §10): the token endpoint (per-audience tokens with
 * `expires_in`, 401 TOKEN_EXPIRED once expired), the airtime API (sync and async top-ups,
 * FIXED/RANGE amounts, unique customIdentifier, PHONE_RECENTLY_RECHARGED, PROCESSING then a
 * final state, list filtered by customIdentifier, the status endpoint, PIN operators) and the
 * gift-card API (orders, cards only after SUCCESSFUL, reports by date only), one balance
 * debited by both, and signed webhooks retried until answered 2xx.
 */
export async function startReloadlySimulator (options: { clientId: string, clientSecret: string, webhookSecret: string, knobs?: Partial<ReloadlyKnobs> }): Promise<ReloadlySimulator> {
  const knobs: ReloadlyKnobs = {
    latencyMs: 0, httpStatus: null, hang: false, reset: false, malformed: false, acceptThenHang: false, completeAfterMs: 0,
    finalState: 'success', failAs: 'FAILED', callbackUrl: null, callbackRetryMs: 100, callbackAttempts: 5, tokenTtlSeconds: 5_184_000,
    authHttpStatus: null, refusal: null, badRecipients: [], recentRechargeMs: 120_000, balance: 10_000, statusShape: 'wrapped',
    cardsAsObject: false, maxPageSize: 100, ...options.knobs
  }
  const submits: string[] = []
  const queries: string[] = []
  const callbacks: ReloadlyWebhookDelivery[] = []
  const tokens = new Map<string, { audience: string, expiresAt: number }>()
  let issued = 0
  const transactions: Transaction[] = []
  const byRef = new Map<string, Transaction>()
  let seq = 4_602_842
  let events = 0
  const closing = new AbortController()
  const running = new Set<Promise<void>>()

  const settle = (t: Transaction): void => {
    if (t.final !== null) return
    t.final = knobs.finalState === 'success' ? 'SUCCESSFUL' : knobs.failAs
    if (t.final !== 'SUCCESSFUL') knobs.balance += t.cost
  }
  const stateOf = (t: Transaction): 'PENDING' | 'PROCESSING' | Final => {
    if (Date.now() - t.created >= knobs.completeAfterMs) settle(t)
    if (t.final !== null) return t.final
    return t.product === 'giftcards' && Date.now() - t.created < knobs.completeAfterMs / 2 ? 'PENDING' : 'PROCESSING'
  }
  const cardsOf = (t: Transaction): { cardNumber: string, pinCode: string }[] =>
    Array.from({ length: t.quantity }, (_, i) => ({ cardNumber: `61202${String(t.id).padStart(10, '0')}${i}`, pinCode: String(1000 + ((t.id * 7 + i) % 9000)) }))

  const topupView = (t: Transaction) => {
    const status = stateOf(t)
    const op = SIM_OPERATORS[t.itemId]
    return {
      transactionId: t.id, status, operatorTransactionId: status === 'SUCCESSFUL' ? `${t.id}:OrderConfirmed` : null, customIdentifier: t.ref,
      recipientPhone: t.phone.slice(1), recipientEmail: null, senderPhone: null, countryCode: t.countryCode, operatorId: t.itemId,
      operatorName: op?.name ?? null, discount: 0, discountCurrencyCode: 'USD', requestedAmount: t.amount, requestedAmountCurrencyCode: 'USD',
      deliveredAmount: t.amount, deliveredAmountCurrencyCode: 'USD', transactionDate: reloadlyDateTime(t.created),
      pinDetail: status === 'SUCCESSFUL' && op?.pin
        ? { serial: `SN${t.id}`, info1: 'DIAL *611', info2: null, info3: null, value: null, code: `77${String(t.id).padStart(12, '0')}`, ivr: null, validity: '30 days' }
        : null,
      balanceInfo: { oldBalance: null, newBalance: knobs.balance, cost: t.cost, currencyCode: 'USD', currencyName: 'US Dollar', updatedAt: reloadlyDateTime(Date.now()) }
    }
  }
  const orderView = (t: Transaction) => {
    const product = SIM_PRODUCTS[t.itemId]
    return {
      transactionId: t.id, amount: t.cost, discount: 0, currencyCode: 'USD', fee: 0, smsFee: 0, recipientEmail: 'no-reply@example.com',
      recipientPhone: null, customIdentifier: t.ref, status: stateOf(t), transactionCreatedTime: reloadlyDateTime(t.created),
      product: { productId: t.itemId, productName: product?.name ?? null, countryCode: product?.country ?? null, quantity: t.quantity, unitPrice: t.amount, totalPrice: t.amount * t.quantity, currencyCode: 'USD', brand: null }
    }
  }
  const view = (t: Transaction) => t.product === 'airtime' ? topupView(t) : orderView(t)

  const post = async (url: string, body: string): Promise<{ status: number | null }> => {
    try {
      const res = await request(url, {
        method: 'POST',
        headers: webhookHeaders(options.webhookSecret, body),
        body,
        signal: AbortSignal.any([closing.signal, AbortSignal.timeout(3000)])
      })
      await res.body.dump()
      return { status: res.statusCode }
    } catch (err) {
      if (closing.signal.aborted) throw err
      return { status: null }
    }
  }
  // Fixes the final state when due, then delivers its webhook if a URL is set by then.
  const complete = async (t: Transaction): Promise<void> => {
    await sleep(Math.max(0, t.created + knobs.completeAfterMs - Date.now()), undefined, { signal: closing.signal })
    // Not stateOf: a timer may fire a millisecond before Date.now() says the time is up,
    // and the webhook would then report the transaction still PROCESSING.
    settle(t)
    const url = knobs.callbackUrl
    if (url === null) return
    // Airtime events carry the transaction at `data`, gift-card ones at `data.transaction`:
    // integrations have seen both (§1.7), and the adapters must read either.
    const body = JSON.stringify(t.product === 'airtime'
      ? { id: `evt-${++events}`, type: 'airtime_transaction.status', data: topupView(t) }
      : { id: `evt-${++events}`, type: 'giftcard_transaction.status', data: { transaction: orderView(t) } })
    for (let attempt = 1; attempt <= knobs.callbackAttempts; attempt++) {
      if (attempt > 1) await sleep(knobs.callbackRetryMs, undefined, { signal: closing.signal })
      const answer = await post(url, body)
      callbacks.push({ reference: t.ref, status: answer.status, body })
      if (answer.status !== null && answer.status >= 200 && answer.status < 300) return
    }
  }
  const track = (work: Promise<void>): void => {
    const settled = work.catch(() => {}).finally(() => running.delete(settled))
    running.add(settled)
  }
  const create = (fields: Omit<Transaction, 'id' | 'created' | 'final'>): Transaction => {
    const t: Transaction = { ...fields, id: ++seq, created: Date.now(), final: null }
    transactions.push(t)
    byRef.set(t.ref, t)
    knobs.balance -= t.cost
    track(complete(t))
    return t
  }

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.statusCode = status
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(body))
  }
  const fail = (res: ServerResponse, path: string, status: number, errorCode: string | null, message: string): void =>
    send(res, status, { timeStamp: reloadlyDateTime(Date.now()), message, path, errorCode, infoLink: null, details: [] })
  const page = (res: ServerResponse, items: Transaction[], params: URLSearchParams): void => {
    const size = Math.min(Math.max(1, Number(params.get('size') ?? 20) || 20), knobs.maxPageSize)
    // One-based `page` in, Spring's zero-based `number` out.
    const index = Math.max(1, Number(params.get('page') ?? 1) || 1) - 1
    const content = items.slice(index * size, (index + 1) * size).map(view)
    const totalPages = Math.ceil(items.length / size)
    send(res, 200, { content, totalElements: items.length, totalPages, size, number: index, numberOfElements: content.length, first: index === 0, last: index + 1 >= totalPages, empty: content.length === 0 })
  }
  const balance = (res: ServerResponse): void => send(res, 200, { balance: Math.round(knobs.balance * 100) / 100, currencyCode: 'USD', currencyName: 'US Dollar', updatedAt: reloadlyDateTime(Date.now()) })

  const token = (res: ServerResponse, raw: string, audiences: string[]): void => {
    if (knobs.authHttpStatus !== null) { send(res, knobs.authHttpStatus, { error: 'simulated' }); return }
    let body: Record<string, unknown>
    try { body = JSON.parse(raw) as Record<string, unknown> } catch { fail(res, '/oauth/token', 400, 'INVALID_REQUEST', 'Body is not JSON'); return }
    if (body.client_id !== options.clientId || body.client_secret !== options.clientSecret || body.grant_type !== 'client_credentials') {
      fail(res, '/oauth/token', 401, 'INVALID_CREDENTIALS', 'Access Denied'); return
    }
    if (typeof body.audience !== 'string' || !audiences.includes(body.audience)) { fail(res, '/oauth/token', 403, 'INVALID_AUDIENCE', 'Unknown audience'); return }
    const value = `sim.${randomBytes(18).toString('base64url')}`
    tokens.set(value, { audience: body.audience, expiresAt: Date.now() + knobs.tokenTtlSeconds * 1000 })
    issued++
    send(res, 200, { access_token: value, scope: 'developer', expires_in: knobs.tokenTtlSeconds, token_type: 'Bearer' })
  }

  const topup = (res: ServerResponse, path: string, body: Record<string, unknown>, async: boolean): void => {
    const ref = typeof body.customIdentifier === 'string' ? body.customIdentifier : ''
    submits.push(ref)
    if (ref && byRef.has(ref)) { fail(res, path, 400, 'CUSTOM_IDENTIFIER_ALREADY_USED', 'Custom identifier already used'); return }
    if (knobs.refusal) { fail(res, path, knobs.refusal.status, knobs.refusal.errorCode, knobs.refusal.message); return }
    const operatorId = Number(body.operatorId)
    const op = SIM_OPERATORS[operatorId]
    if (!op) { fail(res, path, 404, 'OPERATOR_NOT_FOUND', 'Operator not found'); return }
    const rp = body.recipientPhone as { countryCode?: unknown, number?: unknown } | undefined
    const phone = typeof rp?.number === 'string' && typeof rp.countryCode === 'string' ? parsePhoneNumberFromString(rp.number, rp.countryCode as CountryCode) : undefined
    if (!phone?.isValid() || phone.country !== op.country || knobs.badRecipients.includes(phone.number)) {
      fail(res, path, 400, 'INVALID_RECIPIENT_PHONE', 'Recipient phone number is not valid'); return
    }
    const amount = Number(body.amount)
    if (!(op.fixed ? op.fixed.includes(amount) : amount >= op.min && amount <= op.max)) {
      fail(res, path, 400, 'INVALID_AMOUNT_FOR_OPERATOR', `The amount must be ${op.fixed ? `one of ${op.fixed.join(', ')}` : `between ${op.min} and ${op.max}`}`); return
    }
    const recent = transactions.some((t) => t.product === 'airtime' && t.phone === phone.number && t.final !== 'FAILED' && t.final !== 'REFUNDED' && Date.now() - t.created < knobs.recentRechargeMs)
    if (recent) { fail(res, path, 400, 'PHONE_RECENTLY_RECHARGED', 'This number was topped up less than 2 minutes ago'); return }
    if (knobs.balance < amount) { fail(res, path, 400, 'INSUFFICIENT_BALANCE', 'Your balance is insufficient to complete this transaction'); return }
    const t = create({ product: 'airtime', ref, cost: amount, itemId: operatorId, amount, quantity: 1, phone: phone.number, countryCode: op.country, number: String(rp?.number) })
    if (knobs.acceptThenHang) return
    send(res, 200, async ? { transactionId: t.id } : topupView(t))
  }

  const order = (res: ServerResponse, path: string, body: Record<string, unknown>): void => {
    const ref = typeof body.customIdentifier === 'string' ? body.customIdentifier : ''
    submits.push(ref)
    // Gift-card errors mostly carry errorCode null (§2); the adapter must read the message.
    if (ref && byRef.has(ref)) { fail(res, path, 400, null, 'A transaction with this custom identifier already exists'); return }
    if (knobs.refusal) { fail(res, path, knobs.refusal.status, knobs.refusal.errorCode, knobs.refusal.message); return }
    const productId = Number(body.productId)
    const product = SIM_PRODUCTS[productId]
    if (!product) { fail(res, path, 400, null, 'The product was either not found or is no longer available, Please contact support'); return }
    const unitPrice = Number(body.unitPrice)
    if (!(product.fixed ? product.fixed.includes(unitPrice) : unitPrice >= product.min && unitPrice <= product.max)) {
      fail(res, path, 400, null, 'Invalid price, please ensure you selected the right price.'); return
    }
    const quantity = Number(body.quantity)
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 10) { fail(res, path, 400, null, 'Quantity must be between 1 and 10'); return }
    if (typeof body.senderName !== 'string' || !body.senderName) { fail(res, path, 400, null, 'senderName is required'); return }
    if (typeof body.recipientEmail !== 'string' || !body.recipientEmail.includes('@')) { fail(res, path, 400, null, 'recipientEmail must be a valid e-mail address'); return }
    if (knobs.balance < unitPrice * quantity) { fail(res, path, 400, null, 'Insufficient balance to place this order'); return }
    const t = create({ product: 'giftcards', ref, cost: unitPrice * quantity, itemId: productId, amount: unitPrice, quantity, phone: '', countryCode: product.country, number: '' })
    if (knobs.acceptThenHang) return
    send(res, 200, orderView(t))
  }

  /** One authenticated product request, after the fault knobs. */
  const api = (req: IncomingMessage, res: ServerResponse, product: 'airtime' | 'giftcards', path: string, params: URLSearchParams, raw: string): void => {
    let body: Record<string, unknown> = {}
    if (req.method === 'POST') {
      try { body = JSON.parse(raw) as Record<string, unknown> } catch { fail(res, path, 400, 'INVALID_REQUEST', 'Body is not JSON'); return }
    }
    const id = (pattern: RegExp): Transaction | undefined => {
      const match = pattern.exec(path)
      return match ? transactions.find((t) => t.product === product && t.id === Number(match[1])) : undefined
    }
    const mine = transactions.filter((t) => t.product === product)
    if (path === '/accounts/balance' && req.method === 'GET') return balance(res)
    if (product === 'airtime') {
      if (req.method === 'POST' && (path === '/topups' || path === '/topups-async')) return topup(res, path, body, path === '/topups-async')
      if (req.method === 'GET' && path === '/topups/reports/transactions') {
        const ref = params.get('customIdentifier')
        if (ref !== null) queries.push(ref)
        return page(res, ref === null ? mine : mine.filter((t) => t.ref === ref), params)
      }
      if (req.method === 'GET' && /^\/topups\/reports\/transactions\/\d+$/.test(path)) {
        const t = id(/(\d+)$/)
        if (!t) return fail(res, path, 404, 'TRANSACTION_NOT_FOUND', 'Transaction not found')
        queries.push(t.ref)
        return send(res, 200, topupView(t))
      }
      if (req.method === 'GET' && /^\/topups\/\d+\/status$/.test(path)) {
        const t = id(/^\/topups\/(\d+)\/status$/)
        if (!t) return fail(res, path, 404, 'TRANSACTION_NOT_FOUND', 'Transaction not found')
        queries.push(t.ref)
        const v = topupView(t)
        return send(res, 200, knobs.statusShape === 'wrapped' ? { code: null, message: null, status: v.status, transaction: v } : v)
      }
    } else {
      if (req.method === 'POST' && path === '/orders') return order(res, path, body)
      if (req.method === 'GET' && /^\/orders\/transactions\/\d+\/cards$/.test(path)) {
        const t = id(/^\/orders\/transactions\/(\d+)\/cards$/)
        if (!t) return fail(res, path, 404, null, 'Invalid transaction id')
        if (stateOf(t) !== 'SUCCESSFUL') return fail(res, path, 400, null, 'Cards are only available for successful transactions')
        const cards = cardsOf(t)
        return send(res, 200, knobs.cardsAsObject && cards.length === 1 ? cards[0] : cards)
      }
      if (req.method === 'GET' && path === '/reports/transactions') {
        // Documented filters are dates only (§2): customIdentifier is recorded, not applied.
        const ref = params.get('customIdentifier')
        if (ref !== null) queries.push(ref)
        const from = parseDate(params.get('startDate')) ?? Date.now() - 30 * DAY
        const to = parseDate(params.get('endDate')) ?? Date.now() + DAY
        // Whole seconds, as the dates are written.
        return page(res, mine.filter((t) => Math.floor(t.created / 1000) * 1000 >= from && t.created <= to + 999), params)
      }
      if (req.method === 'GET' && /^\/reports\/transactions\/\d+$/.test(path)) {
        const t = id(/(\d+)$/)
        if (!t) return fail(res, path, 404, null, 'Invalid transaction id')
        queries.push(t.ref)
        return send(res, 200, orderView(t))
      }
    }
    send(res, 404, { timestamp: new Date().toISOString(), status: 404, error: 'Not Found', message: 'No message available', path })
  }

  let root = ''
  const server: Server = createServer((req, res) => {
    let raw = ''
    req.on('data', (d: Buffer) => { raw += d.toString() })
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sim')
      if (url.pathname === '/oauth/token' && req.method === 'POST') { token(res, raw, [`${root}/airtime`, `${root}/giftcards`]); return }
      const match = /^\/(airtime|giftcards)(\/.*)$/.exec(url.pathname)
      if (!match) { send(res, 404, { status: 404, error: 'Not Found', path: url.pathname }); return }
      const product = match[1] as 'airtime' | 'giftcards'
      const path = match[2] as string
      if (knobs.reset) { req.socket.destroy(); return }
      if (knobs.hang) return
      setTimeout(() => {
        if (knobs.httpStatus !== null) { send(res, knobs.httpStatus, { timestamp: new Date().toISOString(), status: knobs.httpStatus, error: 'Service Unavailable', path }); return }
        if (knobs.malformed) { res.end('<html>oops'); return }
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
        const grant = bearer === undefined ? undefined : tokens.get(bearer)
        if (!grant || grant.audience !== `${root}/${product}`) { fail(res, path, 401, 'INVALID_TOKEN', 'Full authentication is required to access this resource'); return }
        if (grant.expiresAt <= Date.now()) { fail(res, path, 401, 'TOKEN_EXPIRED', 'The access token has expired'); return }
        api(req, res, product, path, url.searchParams, raw)
      }, knobs.latencyMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: root,
    authUrl: `${root}/oauth/token`,
    airtimeUrl: `${root}/airtime`,
    giftcardsUrl: `${root}/giftcards`,
    knobs,
    credentials: () => ({ client_id: options.clientId, client_secret: options.clientSecret, auth_url: `${root}/oauth/token`, webhook_secret: options.webhookSecret }),
    submits,
    queries,
    callbacks,
    tokensIssued: () => issued,
    expireTokens: () => { for (const grant of tokens.values()) grant.expiresAt = 0 },
    close: async () => {
      closing.abort()
      await Promise.allSettled(running)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
