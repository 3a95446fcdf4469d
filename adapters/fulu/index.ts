import type { AdapterFactory, CallbackRequest, CallbackResult, CallContext, HttpCall, PurchaseRequest, SupplierAdapter, SupplierResult } from '../../src/domain/supplier.js'
import { yuanToFen } from '../shared/yuan.js'
import { FuluConfigSchema, type FuluConfig } from './config.js'
import { fromFuluOrder, fromFuluRefusal, isDuplicateReference, isOrderMissing, toCardAdd, toDirectAdd } from './map.js'
import { FuluCallback, FuluEnvelope, FuluOrder, FuluUserInfo, fuluSign, fuluSignMatches, fuluTimestamp, type FuluRequest } from './wire.js'

const ACCEPTED = { status: 200, contentType: 'text/plain', body: 'success' }
const REJECTED = { status: 400, contentType: 'text/plain', body: 'fail' }

/** Fulu open platform (video memberships, game and mobile direct recharge, card codes). */
export function createFuluAdapter (config: FuluConfig, gatewayUrl: string, http: HttpCall, now: () => Date = () => new Date()): SupplierAdapter {
  const call = async (method: string, biz: Record<string, unknown>, ctx: CallContext): Promise<{ code: number, message: string, result: unknown }> => {
    const request: FuluRequest = {
      app_key: config.app_key, method, timestamp: fuluTimestamp(now()), version: '2.0', format: 'json', charset: 'utf-8',
      sign_type: 'md5', app_auth_token: '', biz_content: JSON.stringify(biz)
    }
    request.sign = fuluSign(request, config.app_secret)
    const res = await http({ url: gatewayUrl, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: ctx.signal })
    if (res.status >= 500) throw new FuluUnavailable(`HTTP ${res.status}`)
    const envelope = FuluEnvelope.parse(JSON.parse(res.body))
    if (envelope.code !== 0) return { code: envelope.code, message: envelope.message, result: null }
    if (envelope.result && envelope.sign && !fuluSignMatches(envelope.result, envelope.sign, config.app_secret)) {
      throw new Error('Fulu response signature does not match')
    }
    return { code: 0, message: envelope.message, result: envelope.result ? JSON.parse(envelope.result) : null }
  }

  const getOrder = async (reference: string, ctx: CallContext): Promise<SupplierResult> => {
    const answer = await call('fulu.order.info.get', { customer_order_no: reference }, ctx)
    if (answer.code !== 0) return isOrderMissing(answer.message) ? { status: 'not_found' } : { status: 'unknown', reason: `query refused: ${answer.code}` }
    return fromFuluOrder(FuluOrder.parse(answer.result), config.app_secret)
  }

  return {
    name: 'fulu',
    capabilities: new Set(['purchase', 'query', 'balance', 'callback']),
    async purchase (request: PurchaseRequest, ctx: CallContext) {
      const cards = request.supplierParams.kind === 'card'
      const answer = await call(cards ? 'fulu.order.card.add' : 'fulu.order.direct.add', cards ? toCardAdd(request) : toDirectAdd(request), ctx)
      if (answer.code === 0) {
        const placed = fromFuluOrder(FuluOrder.parse(answer.result), config.app_secret)
        // fulu.order.card.add never returns the codes themselves: a card order that is already
        // a success is read back with fulu.order.info.get, which does.
        return cards && placed.status === 'succeeded' && placed.codes.length < request.quantity ? await getOrder(request.reference, ctx) : placed
      }
      if (!isDuplicateReference(answer.code, answer.message)) return fromFuluRefusal(answer.code, answer.message)
      const existing = await getOrder(request.reference, ctx)
      // Refused as a duplicate yet not found: money may be spent, so it stays to be resolved by querying.
      return existing.status === 'not_found' ? { status: 'unknown', reason: 'reference refused as a duplicate but not found' } : existing
    },
    getOrder,
    async balance (ctx: CallContext) {
      const answer = await call('fulu.user.info.get', {}, ctx)
      if (answer.code !== 0) throw new Error(`Fulu balance query refused: ${answer.code}`)
      return { amount: yuanToFen(FuluUserInfo.parse(answer.result).balance), currency: 'CNY' }
    },
    parseCallback (request: CallbackRequest): CallbackResult {
      // Reasons are logged: they name what is wrong, never the body or the secret.
      const reject = (reason: string): CallbackResult => ({ verified: false, reason, ack: { ...REJECTED } })
      let body: unknown
      try {
        body = JSON.parse(request.rawBody)
      } catch {
        return reject('callback body is not JSON')
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return reject('callback body is not a JSON object')
      const fields = FuluCallback.safeParse(body)
      if (!fields.success) return reject('callback lacks customer_order_no, order_status or sign as strings')
      // Same char-sorted MD5 as requests, over the object without `sign` (suppliers.md §3.4, L).
      const { sign: _sign, ...unsigned } = body as Record<string, unknown>
      if (!fuluSignMatches(unsigned, fields.data.sign, config.app_secret)) return reject('callback signature does not match')
      return { verified: true, reference: fields.data.customer_order_no, ack: { ...ACCEPTED } }
    }
  }
}

/** A 5xx from the gateway: the supplier is down, whether the order went in is unknown. */
export class FuluUnavailable extends Error {
  override name = 'FuluUnavailable'
}

export const fuluFactory: AdapterFactory<FuluConfig> = {
  name: 'fulu',
  credentials: FuluConfigSchema,
  create: ({ credentials, baseUrl, http }) => createFuluAdapter(credentials, baseUrl, http)
}
