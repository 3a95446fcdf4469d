import { randomBytes } from 'node:crypto'
import { serveSimulator, simulatorBackground, type CallbackAnswer, type FaultKnobs } from '../shared/simulator.js'
import { PATHS, TEMPLATE_ITEMS, kashangwlSign, readParams, unixSeconds } from './wire.js'

/** A product the simulated platform sells: 1 充值 (direct), 2 卡密 (card keys), 3 卡券 (coupons). */
export interface KashangwlSimProduct {
  name: string
  type: 1 | 2 | 3
  /** Unit price in yuan, four decimals as the platform writes it. */
  price: string
}

/** Behaviour knobs, changeable while the simulator runs. */
export interface KashangwlKnobs extends FaultKnobs {
  /** Buys create the order, then never answer; refusals and queries answer normally. */
  acceptThenHang: boolean
  /** Orders stay 100/101 this long before their final state. */
  completeAfterMs: number
  finalState: 'success' | 'failed'
  /** Orders past completion report 501 未知状态 (not final) while this is on. */
  holdUnknown: boolean
  /** Every buy is refused with this envelope code and message (nothing is created). */
  refuse: { code: string, message: string } | null
  /** Recharge accounts refused as 充值账号格式不正确 (no order created). */
  badAccounts: string[]
  /** Card and coupon products answer a completed buy without their codes ("库存是异步的"). */
  omitCodesOnBuy: boolean
  /** At most `max` buys per sliding `windowMs`; the next is refused (频率限制). */
  rateLimit: { max: number, windowMs: number }
  /** Overrides every order's notify_url when set. */
  callbackUrl: string | null
  /** Whether notifications are sent at all. */
  notify: boolean
  /** Pause between notifications of one order until one is answered `ok` (the platform: 10 s). */
  notifyRetryMs: number
  /** Notifications of one order at most, the first included (the platform: 3). */
  notifyAttempts: number
  /** `api/customer` balance in yuan, as the platform writes it. */
  balance: string
  products: Record<string, KashangwlSimProduct>
}

/** One POST of a notification: the receiver's status (null: no HTTP answer) and body. */
export interface KashangwlNotifyDelivery extends CallbackAnswer {
  reference: string
}

export const SIM_PRODUCTS: Readonly<Record<string, KashangwlSimProduct>> = {
  41847: { name: '测试游戏点券 60', type: 1, price: '3.0000' },
  41848: { name: '测试卡密 10 元', type: 2, price: '9.5000' },
  41849: { name: '测试卡券', type: 3, price: '5.0000' }
}

interface SimOrder {
  id: string
  outer_order_id: string
  product_id: string
  product: KashangwlSimProduct
  quantity: number
  recharge_account: string
  template: Record<string, string>
  notify_url: string
  created: number
  final: 'success' | 'failed' | null
  cards: { card_no: string, card_password: string, expired_at: string }[]
  tickets: { no: string, ticket: string, expired_at: string }[]
}

const STATE_INFO: Readonly<Record<number, string>> = { 100: '等待发货', 101: '正在充值', 200: '交易成功', 500: '交易失败', 501: '未知状态' }

/** Decimal yuan to ten-thousandths, for exact price comparisons; null when it is not one. */
function tenThousandths (value: string): bigint | null {
  const match = /^(\d{1,12})(?:\.(\d{1,4}))?$/.exec(value)
  return match ? BigInt(match[1] as string) * 10000n + BigInt((match[2] ?? '').padEnd(4, '0')) : null
}

const chinaTime = (ms: number): string => new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')

/**
 * The kashangwl platform over real HTTP (suppliers.md §10): key-prefixed MD5 on form or JSON
 * bodies, the `code:"ok"` envelope, states 100/101/200/500/501, safe_cost refusals, unique
 * outer_order_id, card codes sometimes missing from the buy answer, form-encoded notifies
 * (cards and tickets unsigned) answered `ok` or re-sent up to 3 times, and 20 buys per 6 s.
 */
export async function startKashangwlSimulator (options: { customerId: string, customerKey: string, knobs?: Partial<KashangwlKnobs> }): Promise<{
  url: string
  knobs: KashangwlKnobs
  /** Our references, one per signed buy that arrived (refused or not). */
  submits: string[]
  /** Our references, one per `api/outer-order` query. */
  queries: string[]
  /** The parameters of every signed buy, as received. */
  buys: Record<string, string>[]
  /** References of buys refused by the rate limit. */
  rateLimited: string[]
  callbacks: KashangwlNotifyDelivery[]
  close: () => Promise<void>
}> {
  const knobs: KashangwlKnobs = {
    latencyMs: 0, httpStatus: null, hang: false, reset: false, malformed: false, acceptThenHang: false, completeAfterMs: 0,
    finalState: 'success', holdUnknown: false, refuse: null, badAccounts: [], omitCodesOnBuy: false,
    rateLimit: { max: 20, windowMs: 6000 }, callbackUrl: null, notify: true, notifyRetryMs: 10_000, notifyAttempts: 3,
    balance: '100000.0000', products: { ...SIM_PRODUCTS }, ...options.knobs
  }
  const orders = new Map<string, SimOrder>()
  const submits: string[] = []
  const queries: string[] = []
  const buys: Record<string, string>[] = []
  const rateLimited: string[] = []
  const callbacks: KashangwlNotifyDelivery[] = []
  const recentBuys: number[] = []
  const background = simulatorBackground()
  let seq = 557305089000

  const stateOf = (o: SimOrder): number => {
    if (o.final === null && Date.now() - o.created >= knobs.completeAfterMs) o.final = knobs.finalState
    if (o.final === null) return o.product.type === 1 ? 101 : 100
    if (knobs.holdUnknown) return 501
    return o.final === 'success' ? 200 : 500
  }
  const codesOf = (o: SimOrder, state: number): { cards?: SimOrder['cards'], tickets?: SimOrder['tickets'] } =>
    state !== 200 || o.product.type === 1 ? {} : o.product.type === 2 ? { cards: o.cards } : { tickets: o.tickets }
  const total = (o: SimOrder): string => {
    const units = (tenThousandths(o.product.price) ?? 0n) * BigInt(o.quantity)
    return `${units / 10000n}.${(units % 10000n).toString().padStart(4, '0')}`
  }
  const buyView = (o: SimOrder) => {
    const state = stateOf(o)
    return {
      order_id: o.id, product_price: o.product.price, total_price: total(o), recharge_url: '', state,
      ...(knobs.omitCodesOnBuy ? {} : codesOf(o, state))
    }
  }
  const detailView = (o: SimOrder) => {
    const state = stateOf(o)
    return {
      id: o.id, product_id: Number(o.product_id), product_name: o.product.name, product_type: o.product.type, product_price: o.product.price,
      quantity: o.quantity, total_price: total(o), refunded_amount: state === 500 ? total(o) : '0.0000', buyer_customer_id: Number(options.customerId),
      buyer_customer_name: 'simulator', seller_customer_id: 1, seller_customer_name: '卡商网', state, created_at: chinaTime(o.created),
      recharge_account: o.recharge_account, progress_init: 0, progress_now: 0, progress_target: 0, recharge_info: STATE_INFO[state] ?? '',
      recharge_url: '', recharge_params: JSON.stringify(o.template), outer_order_id: o.outer_order_id, ...codesOf(o, state)
    }
  }
  const ok = (data: object): string => JSON.stringify({ code: 'ok', message: '', data })
  const refusal = (code: string, message: string): string => JSON.stringify({ code, message, data: null })

  const notifyBody = (o: SimOrder): string => {
    const state = stateOf(o)
    const signed: Record<string, string> = {
      order_id: o.id, outer_order_id: o.outer_order_id, product_id: o.product_id, quantity: String(o.quantity), state: String(state),
      state_info: STATE_INFO[state] ?? '', created_at: chinaTime(o.created), timestamp: unixSeconds(new Date()), customer_id: options.customerId
    }
    const form = new URLSearchParams({ ...signed, sign: kashangwlSign(signed, options.customerKey) })
    // Outside the signature (official doc): card keys as JSON text, coupons base64-encoded.
    const codes = codesOf(o, state)
    if (codes.cards) form.set('cards', JSON.stringify(codes.cards))
    if (codes.tickets) form.set('tickets', Buffer.from(JSON.stringify(codes.tickets)).toString('base64'))
    return form.toString()
  }
  // Fixes the order's final state when it is due, then notifies until answered `ok`.
  const complete = async (o: SimOrder): Promise<void> => {
    await background.until(o.created + knobs.completeAfterMs)
    o.final ??= knobs.finalState
    const url = knobs.callbackUrl ?? o.notify_url
    if (!knobs.notify || url === '') return
    await background.deliver({
      url, contentType: 'application/x-www-form-urlencoded', body: notifyBody(o), attempts: knobs.notifyAttempts, pauseMs: knobs.notifyRetryMs,
      accepted: (answer) => answer.body.trim() === 'ok', record: (answer) => callbacks.push({ reference: o.outer_order_id, ...answer })
    })
  }

  /** `api/buy`: the answer, or null to leave the request unanswered (acceptThenHang). */
  const buy = (p: Record<string, string>): string | null => {
    const ref = p.outer_order_id ?? ''
    submits.push(ref)
    buys.push(p)
    const now = Date.now()
    while (recentBuys.length > 0 && (recentBuys[0] as number) <= now - knobs.rateLimit.windowMs) recentBuys.shift()
    if (recentBuys.length >= knobs.rateLimit.max) {
      rateLimited.push(ref)
      return refusal('frequency_limit', `频率限制：${knobs.rateLimit.windowMs / 1000}秒内下单不超过${knobs.rateLimit.max}次`)
    }
    recentBuys.push(now)
    if (knobs.refuse) return refusal(knobs.refuse.code, knobs.refuse.message)
    const product = knobs.products[p.product_id ?? '']
    if (!product) return refusal('product_not_found', '商品不存在')
    const quantity = Number(p.quantity)
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 100) return refusal('invalid_quantity', '购买数量不正确')
    if (ref !== '' && orders.has(ref)) return refusal('outer_order_id_exists', '外部订单号已存在')
    const account = p.recharge_account ?? ''
    if (product.type === 1 && account === '') return refusal('params_error', '充值账号不能为空')
    if (knobs.badAccounts.includes(account)) return refusal('recharge_account_error', '充值账号格式不正确')
    if (p.safe_cost !== undefined) {
      const limit = tenThousandths(p.safe_cost)
      if (limit === null) return refusal('params_error', 'safe_cost 格式不正确')
      if ((tenThousandths(product.price) ?? 0n) > limit) return refusal('safe_cost', '商品价格高于安全成本，下单失败')
    }
    const template: Record<string, string> = {}
    for (const [key, value] of Object.entries(p)) {
      const name = key.startsWith(`${TEMPLATE_ITEMS}[`) && key.endsWith(']') ? key.slice(TEMPLATE_ITEMS.length + 1, -1) : null
      if (name !== null) template[name] = value
    }
    const id = String(++seq)
    const expiredAt = '2030-12-31 23:59:59'
    const order: SimOrder = {
      id, outer_order_id: ref, product_id: p.product_id ?? '', product, quantity, recharge_account: account, template,
      notify_url: p.notify_url ?? '', created: now, final: null,
      cards: Array.from({ length: quantity }, (_, i) => ({ card_no: `KSW${id}${i}`, card_password: randomBytes(8).toString('hex'), expired_at: expiredAt })),
      tickets: Array.from({ length: quantity }, (_, i) => ({ no: `T${id}${i}`, ticket: `https://oss.example.invalid/tickets/${id}-${i}-${randomBytes(4).toString('hex')}.png`, expired_at: expiredAt }))
    }
    orders.set(ref !== '' ? ref : `#${id}`, order)
    background.run(complete(order))
    return knobs.acceptThenHang ? null : ok(buyView(order))
  }

  const server = await serveSimulator(knobs, background, (req, raw, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8')
    const p = readParams(raw, req.headers['content-type'] ?? '')
    if (p === null) { res.end(refusal('params_error', '参数错误')); return }
    if (p.customer_id !== options.customerId || !p.sign || kashangwlSign(p, options.customerKey) !== p.sign) {
      res.end(refusal('sign_error', '签名错误'))
      return
    }
    const path = new URL(req.url ?? '/', 'http://sim').pathname.replace(/^\/+/, '')
    if (path === PATHS.buy) {
      const answer = buy(p)
      if (answer !== null) res.end(answer)
    } else if (path === PATHS.outerOrder) {
      queries.push(p.outer_order_id ?? '')
      const order = orders.get(p.outer_order_id ?? '')
      res.end(order ? ok(detailView(order)) : refusal('order_not_found', '订单不存在'))
    } else if (path === PATHS.customer) {
      res.end(ok({ id: Number(options.customerId), name: 'simulator', balance: knobs.balance }))
    } else {
      res.statusCode = 404
      res.end(refusal('not_found', '接口不存在'))
    }
  })
  return { url: `${server.origin}/`, knobs, submits, queries, buys, rateLimited, callbacks, close: server.close }
}
