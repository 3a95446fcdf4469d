import type { AdapterFactory, CallContext, HttpCall, PurchaseRequest, SupplierAdapter, SupplierResult } from '../../src/domain/supplier.js'
import { FuluConfigSchema, type FuluConfig } from './config.js'
import { fromFuluOrder, fromFuluRefusal, toCardAdd, toDirectAdd } from './map.js'
import { FuluEnvelope, FuluOrder, fuluSign, fuluTimestamp, type FuluRequest } from './wire.js'

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
    if (envelope.result && envelope.sign && fuluSign(envelope.result, config.app_secret) !== envelope.sign) {
      throw new Error('Fulu response signature does not match')
    }
    return { code: 0, message: envelope.message, result: envelope.result ? JSON.parse(envelope.result) : null }
  }

  const orderResult = async (method: string, biz: Record<string, unknown>, ctx: CallContext): Promise<SupplierResult> => {
    const answer = await call(method, biz, ctx)
    if (answer.code !== 0) return fromFuluRefusal(answer.code, answer.message)
    return fromFuluOrder(FuluOrder.parse(answer.result), config.app_secret)
  }

  return {
    name: 'fulu',
    capabilities: new Set(['purchase', 'query']),
    async purchase (request: PurchaseRequest, ctx: CallContext) {
      const cards = request.supplierParams.kind === 'card'
      return await orderResult(cards ? 'fulu.order.card.add' : 'fulu.order.direct.add', cards ? toCardAdd(request) : toDirectAdd(request), ctx)
    },
    async getOrder (reference: string, ctx: CallContext) {
      const answer = await call('fulu.order.info.get', { customer_order_no: reference }, ctx)
      // Fulu has no documented "not found" code; only a refusal that names the order's absence counts.
      if (answer.code !== 0) return /不存在|not exist|not found/i.test(answer.message) ? { status: 'not_found' } : { status: 'unknown', reason: `query refused: ${answer.code}` }
      return fromFuluOrder(FuluOrder.parse(answer.result), config.app_secret)
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
