import type { AdapterFactory, CallbackRequest, CallbackResult, CallContext, HttpCall, PurchaseRequest, SupplierAdapter, SupplierResult } from '../../src/domain/supplier.js'
import { yuanToFen } from '../shared/yuan.js'
import { KashangwlConfigSchema, KashangwlRouteParamsSchema, type KashangwlConfig } from './config.js'
import { fromBuy, fromOrder, fromRefusal, isDuplicateReference, isOrderMissing, toBuy } from './map.js'
import {
  KashangwlBuy, KashangwlCustomer, KashangwlEnvelope, KashangwlNotify, KashangwlOrder, PATHS,
  kashangwlSign, kashangwlSignMatches, kashangwlUrl, notifySigned, readParams, unixSeconds
} from './wire.js'

const ACCEPTED = { status: 200, contentType: 'text/plain', body: 'ok' }
const REJECTED = { status: 400, contentType: 'text/plain', body: 'fail' }

export interface KashangwlAdapterOptions {
  /** The API root, e.g. `http://www.kashangwl.com/`. */
  baseUrl: string
  http: HttpCall
  /** Where the platform notifies this instance's orders: our supplier callback route. */
  notifyUrl: string
  now?: () => Date
}

/** 卡商网 kashangwl (game top-ups, card keys, coupons), spoken from its wire protocol (suppliers.md §4). */
export function createKashangwlAdapter (config: KashangwlConfig, options: KashangwlAdapterOptions): SupplierAdapter {
  const { baseUrl, http, notifyUrl, now = () => new Date() } = options
  const call = async (path: string, params: Record<string, string>, ctx: CallContext): Promise<{ ok: boolean, code: string, message: string, data: unknown }> => {
    const signed: Record<string, string> = { ...params, customer_id: config.customer_id, timestamp: unixSeconds(now()) }
    signed.sign = kashangwlSign(signed, config.customer_key)
    const res = await http({
      url: kashangwlUrl(baseUrl, path), method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(signed).toString(), signal: ctx.signal
    })
    if (res.status >= 500) throw new KashangwlUnavailable(`HTTP ${res.status}`)
    const envelope = KashangwlEnvelope.parse(JSON.parse(res.body))
    return { ok: envelope.code.toLowerCase() === 'ok', code: envelope.code, message: envelope.message, data: envelope.data }
  }

  const getOrder = async (reference: string, ctx: CallContext): Promise<SupplierResult> => {
    const answer = await call(PATHS.outerOrder, { outer_order_id: reference }, ctx)
    if (answer.ok) return fromOrder(KashangwlOrder.parse(answer.data), reference)
    // Only a refusal that names the order's absence is definite; anything else is asked again.
    return isOrderMissing(answer.message) ? { status: 'not_found' } : { status: 'unknown', reason: `query refused: ${answer.code.slice(0, 40)}` }
  }

  return {
    name: 'kashangwl',
    capabilities: new Set(['purchase', 'query', 'balance', 'callback']),
    // "频率限制：6秒内下单不超过20次" (official buy doc); the engine keeps all our processes under it.
    purchaseLimit: { max: 20, windowMs: 6000 },
    async purchase (request: PurchaseRequest, ctx: CallContext) {
      const route = KashangwlRouteParamsSchema.safeParse(request.supplierParams)
      const problems = route.success ? [] : route.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
      if (!/^\d{1,18}$/.test(request.supplierProductId)) problems.push('supplier_product_id: kashangwl product ids are numeric')
      // Nothing is sent on a route we cannot read, so another route may serve the order.
      if (!route.success || problems.length > 0) return { status: 'failed', retryable: true, code: 'route_params_invalid', message: problems.join('; ') }
      const answer = await call(PATHS.buy, toBuy(request, route.data, notifyUrl), ctx)
      if (answer.ok) return fromBuy(KashangwlBuy.parse(answer.data), request.quantity)
      if (!isDuplicateReference(answer.message)) return fromRefusal(answer.code, answer.message)
      const existing = await getOrder(request.reference, ctx)
      // Refused as a duplicate yet not found: money may be spent, so it stays to be resolved by querying.
      return existing.status === 'not_found' ? { status: 'unknown', reason: 'reference refused as a duplicate but not found' } : existing
    },
    getOrder,
    async balance (ctx: CallContext) {
      const answer = await call(PATHS.customer, {}, ctx)
      if (!answer.ok) throw new Error(`kashangwl balance query refused: ${answer.code.slice(0, 40)}`)
      return { amount: yuanToFen(KashangwlCustomer.parse(answer.data).balance), currency: 'CNY' }
    },
    parseCallback (request: CallbackRequest): CallbackResult {
      // Reasons are logged: they name what is wrong, never the body or the key.
      const reject = (reason: string): CallbackResult => ({ verified: false, reason, ack: { ...REJECTED } })
      // The doc says form-encoded; a JSON body is read too, since one client library decodes JSON.
      const params = readParams(request.rawBody, request.contentType)
      if (params === null) return reject('callback body is neither form-encoded nor a JSON object')
      const fields = KashangwlNotify.safeParse(params)
      if (!fields.success) return reject('callback lacks outer_order_id, customer_id or sign')
      if (fields.data.customer_id !== config.customer_id) return reject('callback names another customer_id')
      // cards and tickets are outside the signature, so nothing is taken from them: the query delivers codes.
      if (!kashangwlSignMatches(notifySigned(params), fields.data.sign, config.customer_key)) return reject('callback signature does not match')
      return { verified: true, reference: fields.data.outer_order_id, ack: { ...ACCEPTED } }
    }
  }
}

/** A 5xx from the platform: it is down, and whether the order went in is unknown. */
export class KashangwlUnavailable extends Error {
  override name = 'KashangwlUnavailable'
}

export const kashangwlFactory: AdapterFactory<KashangwlConfig> = {
  name: 'kashangwl',
  credentials: KashangwlConfigSchema,
  create: ({ credentials, baseUrl, http, supplierId, publicBaseUrl }) =>
    createKashangwlAdapter(credentials, { baseUrl, http, notifyUrl: `${publicBaseUrl}/callbacks/suppliers/${encodeURIComponent(supplierId)}` })
}
