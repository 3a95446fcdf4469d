import { createCipheriv } from 'node:crypto'
import { serveSimulator, simulatorBackground, type CallbackAnswer } from '../shared/simulator.js'
import { fuluSign, fuluTimestamp } from './wire.js'

/** Behaviour knobs, changeable while the simulator runs. */
export interface FuluKnobs {
  latencyMs: number
  /** Envelope code for every add call (e.g. 3001: product unavailable); 0 accepts. */
  refuseCode: number
  /** The message of those refusals. */
  refuseMessage: string
  /** Queries answer 订单不存在 for every order, as a look-up that has not caught up would. */
  lookupLag: boolean
  /** Answer every call with this HTTP status (e.g. 502) instead of an envelope. */
  httpStatus: number | null
  /** Accept orders, then keep them `processing` this long before the final state. */
  completeAfterMs: number
  /** The final state orders reach (fixed per order once reached). */
  finalState: 'success' | 'failed'
  /** Never answer (the client's deadline must cut it). */
  hang: boolean
  /** Answer with a body that is not JSON. */
  malformed: boolean
  /** Read each request, then destroy the socket without answering (every method). */
  reset: boolean
  /** Add calls create the order, then never answer; refusals and queries answer normally. */
  acceptThenHang: boolean
  /** Charge accounts an add refuses with 2003 充值账号格式不正确 (no order created). */
  badAccounts: string[]
  /** Where an order's final state is POSTed when it is reached; null sends none. */
  callbackUrl: string | null
  /** Pause between deliveries of one callback until one is answered `success`. */
  callbackRetryMs: number
  /** Deliveries of one callback at most (the first included). */
  callbackAttempts: number
  /** `fulu.user.info.get` balance in yuan, as Fulu writes it. */
  balance: string
}

/** One POST of a callback: the receiver's status (null: no HTTP answer) and body. */
export interface FuluCallbackDelivery extends CallbackAnswer {
  reference: string
}

interface SimOrder {
  order_id: string
  customer_order_no: string
  product_id: number
  buy_num: number
  kind: 'direct' | 'card'
  created: number
  final: 'success' | 'failed' | null
}

/**
 * A Fulu gateway over real HTTP (suppliers.md §10): one endpoint dispatching on `method`,
 * char-sort MD5 verification, `result` as a signed JSON string, unique customer_order_no,
 * orders that move from processing to a final state, AES-encrypted cards on success, signed
 * JSON callbacks retried until answered `success`, and a balance.
 */
export async function startFuluSimulator (options: { appKey: string, appSecret: string, knobs?: Partial<FuluKnobs>, callbackUrl?: string }): Promise<{ url: string, knobs: FuluKnobs, submits: string[], queries: string[], callbacks: FuluCallbackDelivery[], close: () => Promise<void> }> {
  const knobs: FuluKnobs = {
    latencyMs: 0, refuseCode: 0, refuseMessage: '商品暂不可购买', lookupLag: false, httpStatus: null, completeAfterMs: 0, finalState: 'success', hang: false, malformed: false,
    reset: false, acceptThenHang: false, badAccounts: [], callbackUrl: options.callbackUrl ?? null, callbackRetryMs: 1000, callbackAttempts: 3,
    balance: '100000.00', ...options.knobs
  }
  const orders = new Map<string, SimOrder>()
  const submits: string[] = []
  const queries: string[] = []
  const callbacks: FuluCallbackDelivery[] = []
  const background = simulatorBackground()
  let seq = 22113000000000000000n
  const encrypt = (text: string): string => {
    const cipher = createCipheriv('aes-256-ecb', Buffer.from(options.appSecret, 'utf8'), null)
    return Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]).toString('base64')
  }
  const stateOf = (o: SimOrder): 'processing' | 'success' | 'failed' => {
    if (o.final === null && Date.now() - o.created >= knobs.completeAfterMs) o.final = knobs.finalState
    return o.final ?? 'processing'
  }
  const view = (o: SimOrder) => {
    const state = stateOf(o)
    return {
      order_id: o.order_id, customer_order_no: o.customer_order_no, product_id: o.product_id, buy_num: o.buy_num, order_state: state,
      cards: state === 'success' && o.kind === 'card'
        ? Array.from({ length: o.buy_num }, (_, i) => ({ card_number: encrypt(`FULU-${o.customer_order_no}-${i}`), card_pwd: encrypt(`PWD-${i}`), card_type: '0', card_deadline: '2030-12-31' }))
        : null
    }
  }
  const envelope = (code: number, message: string, result?: object) => {
    const text = result ? JSON.stringify(result) : ''
    return JSON.stringify({ code, message, result: text, sign: text ? fuluSign(text, options.appSecret) : '' })
  }

  const callbackBody = (o: SimOrder, state: 'success' | 'failed'): string => {
    const unsigned = {
      order_id: o.order_id, charge_finish_time: fuluTimestamp(new Date()), customer_order_no: o.customer_order_no, order_status: state,
      recharge_description: state === 'success' ? '充值成功' : '充值失败', product_id: String(o.product_id), price: `${10 * o.buy_num}.0000`,
      buy_num: String(o.buy_num), operator_serial_number: state === 'success' && o.kind === 'direct' ? `SIM${o.order_id}` : ''
    }
    return JSON.stringify({ ...unsigned, sign: fuluSign(unsigned, options.appSecret) })
  }
  // Fixes the order's final state when it is due, then delivers the callback if one is set then.
  const complete = async (o: SimOrder): Promise<void> => {
    await background.until(o.created + knobs.completeAfterMs)
    o.final ??= knobs.finalState
    const url = knobs.callbackUrl
    if (url === null) return
    await background.deliver({
      url, contentType: 'application/json', body: callbackBody(o, o.final), attempts: knobs.callbackAttempts, pauseMs: knobs.callbackRetryMs,
      accepted: (answer) => answer.body === 'success', record: (answer) => callbacks.push({ reference: o.customer_order_no, ...answer })
    })
  }

  const server = await serveSimulator(knobs, background, (_req, raw, res) => {
    let body: Record<string, string>
    try { body = JSON.parse(raw) as Record<string, string> } catch { res.end(envelope(1001, '参数错误')); return }
    const { sign, ...unsigned } = body
    if (body.app_key !== options.appKey || fuluSign(unsigned, options.appSecret) !== sign) { res.end(envelope(1005, '签名错误')); return }
    const biz = JSON.parse(body.biz_content ?? '{}') as Record<string, unknown>
    const ref = String(biz.customer_order_no ?? '')
    if (body.method === 'fulu.order.direct.add' || body.method === 'fulu.order.card.add') {
      submits.push(ref)
      if (knobs.refuseCode !== 0) { res.end(envelope(knobs.refuseCode, knobs.refuseMessage)); return }
      if (knobs.badAccounts.includes(String(biz.charge_account ?? ''))) { res.end(envelope(2003, '充值账号格式不正确')); return }
      if (orders.has(ref)) { res.end(envelope(2001, '外部订单号重复')); return }
      seq += 1n
      const order: SimOrder = { order_id: seq.toString(), customer_order_no: ref, product_id: Number(biz.product_id), buy_num: Number(biz.buy_num ?? 1), kind: body.method === 'fulu.order.card.add' ? 'card' : 'direct', created: Date.now(), final: null }
      orders.set(ref, order)
      background.run(complete(order))
      if (knobs.acceptThenHang) return
      res.end(envelope(0, '接口调用成功', view(order)))
    } else if (body.method === 'fulu.order.info.get') {
      queries.push(ref)
      const order = orders.get(ref)
      res.end(order && !knobs.lookupLag ? envelope(0, '接口调用成功', view(order)) : envelope(2002, '订单不存在'))
    } else if (body.method === 'fulu.user.info.get') {
      res.end(envelope(0, '接口调用成功', { name: 'simulator', balance: knobs.balance, is_open: 1 }))
    } else {
      res.end(envelope(1002, '方法不存在'))
    }
  })
  return { url: `${server.origin}/api/getway`, knobs, submits, queries, callbacks, close: server.close }
}
