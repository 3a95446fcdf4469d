import type { PurchaseRequest, SupplierCode, SupplierResult } from '../../src/domain/supplier.js'
import type { KashangwlRouteParams } from './config.js'
import { templateKey, type KashangwlBuyResult, type KashangwlCardItem, type KashangwlOrderDetail, type KashangwlStateName, type KashangwlTicketItem } from './wire.js'

/** A safe_cost the route gave (validated by its schema) as kashangwl writes prices: "3.00", "2.5000". */
export function formatSafeCost (value: string): string {
  const [whole = '0', fraction = ''] = value.split('.')
  return `${BigInt(whole).toString()}.${fraction.padEnd(2, '0')}`
}

/** Chinese mobile numbers go without the +86 prefix (E.164 on our side); anything else as given. */
function rechargeAccount (recipient: Readonly<Record<string, string>>): string | undefined {
  if (recipient.account !== undefined) return recipient.account
  if (recipient.phone !== undefined) return recipient.phone.replace(/^\+86(?=1\d{10}$)/, '')
  return undefined
}

/**
 * `api/buy` parameters (suppliers.md §4.2). A game account's server goes into the product's
 * recharge template under the route's field name; client_ip is left out (we are not the
 * buyer's browser), and card products simply have no recharge account.
 */
export function toBuy (request: PurchaseRequest, route: KashangwlRouteParams, notifyUrl: string): Record<string, string> {
  const params: Record<string, string> = {
    product_id: request.supplierProductId,
    quantity: String(request.quantity),
    outer_order_id: request.reference,
    notify_url: notifyUrl
  }
  const account = rechargeAccount(request.recipient)
  if (account !== undefined) params.recharge_account = account
  if (request.recipient.server !== undefined) params[templateKey(route.server_field)] = request.recipient.server
  if (route.safe_cost !== undefined) params.safe_cost = formatSafeCost(route.safe_cost)
  return params
}

const CHINA_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/

/** kashangwl times are China time without a zone; anything else is an unknown expiry. */
function expiry (value: string | null | undefined): string | null {
  const match = CHINA_TIME.exec(value?.trim() ?? '')
  return match ? `${match[1]}T${match[2]}+08:00` : null
}

/** Card keys (number and password, plaintext) and coupons (image URL, optional number). */
export function toCodes (cards: KashangwlCardItem[] | null | undefined, tickets: KashangwlTicketItem[] | null | undefined): SupplierCode[] {
  const codes: SupplierCode[] = []
  for (const card of cards ?? []) {
    const number = card.card_no ?? card.no ?? ''
    const password = card.card_password ?? card.password ?? ''
    if (number === '' && password === '') continue
    codes.push({ code: number || password, pin: number && password ? password : null, serial: null, expiresAt: expiry(card.expired_at) })
  }
  for (const ticket of tickets ?? []) {
    if (!ticket.ticket) continue
    codes.push({ code: ticket.ticket, pin: null, serial: ticket.no || null, expiresAt: expiry(ticket.expired_at) })
  }
  return codes
}

/** 501 未知状态 is not final: the platform settles it by hand, so it is polled like any pending state. */
const STATE: Record<KashangwlStateName, 'pending' | 'succeeded' | 'failed' | 'unknown'> = {
  waiting: 'pending',
  recharging: 'pending',
  indeterminate: 'pending',
  success: 'succeeded',
  failed: 'failed',
  unrecognised: 'unknown'
}

const FAILED: SupplierResult = { status: 'failed', retryable: false, code: 'supplier_failed', message: 'kashangwl reports the order failed' }

function unsettled (state: KashangwlStateName, orderId: string): SupplierResult | null {
  switch (STATE[state]) {
    case 'pending': return { status: 'pending', supplierOrderId: orderId }
    case 'failed': return { ...FAILED }
    case 'unknown': return { status: 'unknown', reason: 'unrecognised kashangwl order state' }
    case 'succeeded': return null
  }
}

/**
 * The buy answer. It does not say what kind of product was bought, and card stock is issued
 * asynchronously ("库存是异步的"): a success without every code is left pending for the
 * order query, which names the product type, to settle.
 */
export function fromBuy (data: KashangwlBuyResult, quantity: number): SupplierResult {
  const early = unsettled(data.state, data.order_id)
  if (early) return early
  const codes = toCodes(data.cards, data.tickets)
  return codes.length >= quantity ? { status: 'succeeded', supplierOrderId: data.order_id, codes } : { status: 'pending', supplierOrderId: data.order_id }
}

/** Whether the product delivers codes (卡密, 卡券) or tops up an account (充值, 人工); null when it cannot be told. */
function deliversCodes (order: KashangwlOrderDetail, codes: number): boolean | null {
  switch (order.product_type?.trim()) {
    case '1': case '4': return false
    case '2': case '3': return true
  }
  if (codes > 0) return true
  return order.recharge_account ? false : null
}

/** `api/outer-order` data for our `reference`. */
export function fromOrder (order: KashangwlOrderDetail, reference: string): SupplierResult {
  if (order.outer_order_id && order.outer_order_id !== reference) return { status: 'unknown', reason: 'kashangwl answered with another order' }
  const early = unsettled(order.state, order.id)
  if (early) return early
  const codes = toCodes(order.cards, order.tickets)
  const withCodes = deliversCodes(order, codes.length)
  // A success we cannot read is held (and asked again) rather than delivered empty.
  if (withCodes === null) return { status: 'unknown', reason: 'kashangwl reports success without codes for a product of unknown type' }
  if (withCodes && codes.length < Math.max(1, Number(order.quantity) || 1)) return { status: 'pending', supplierOrderId: order.id }
  return { status: 'succeeded', supplierOrderId: order.id, codes }
}

// Refusals carry Chinese messages and unpublished codes (suppliers.md §4.1), so they are read
// by message, conservatively: anything unclear stays retryable on another route.
const PRODUCT = /商品.{0,8}(不存在|下架|维护|断货|缺货|库存|无货|禁售|禁止|暂停|不可)|已下架|断货|缺货|库存不足|暂无库存|维护中/
const PRICE = /safe_cost|安全成本|安全价|成本|进价|价格.{0,12}(高于|超过|大于|变动|调整)/i
const RATE = /频率|频繁|太快|过快|限流|rate.?limit/i
// The charge account as such: not a missing one (a route/product mismatch), not ours (商家, 余额, 签名).
const RECIPIENT = /(充值|游戏)?(账号|帐号|号码|手机号码?|QQ号?)[^，,。]{0,4}(格式|错误|不正确|有误|不存在|无效|非法)|recharge_account/i
const NOT_RECIPIENT = /商家|商户|余额|签名|订单|不能为空|必填|缺少|customer|sign/i
const DUPLICATE = /订单号?.{0,8}(重复|已存在|已被使用|已使用)|outer_order_id.{0,16}(exist|used|repeat|重复|已存在)/i
const ORDER_MISSING = /订单.{0,8}不存在|不存在.{0,4}订单|(查无|未找到|找不到).{0,4}订单|order.{0,16}not (exist|found)/i

const OUR_BALANCE = /余额|balance/i
// A request refused by validation (a field missing or malformed): checked before any order exists.
const MALFORMED = /不能为空|必填|缺少|参数(错误|有误|不正确)|missing|required/i
const OUR_CREDENTIALS = /签名|sign|商家.{0,6}(不存在|无效|禁用|冻结)|customer_id/i

/**
 * A refusal of a buy, classified only where the message says what it is (kashangwl
 * publishes no error table). Those are definite: a refused recipient stops the order (every
 * route would charge the same account); price, product, rate limit, our balance and our
 * credentials, a request refused by validation let another route serve it. Anything else may have been said after the order
 * was taken, so it is unknown and resolved by asking for the order, never by buying elsewhere.
 */
export function fromRefusal (code: string, message: string): SupplierResult {
  const text = message.slice(0, 200)
  if (PRICE.test(message)) return { status: 'failed', retryable: true, code: 'price_above_safe_cost', message: text }
  if (PRODUCT.test(message)) return { status: 'failed', retryable: true, code: 'product_unavailable', message: text }
  if (RATE.test(message)) return { status: 'failed', retryable: true, code: 'rate_limited', message: text }
  if (RECIPIENT.test(message) && !NOT_RECIPIENT.test(message)) return { status: 'failed', retryable: false, code: 'recipient_invalid', message: text }
  if (OUR_BALANCE.test(message)) return { status: 'failed', retryable: true, code: 'supplier_insufficient_balance', message: `ALERT: the kashangwl account balance is too low: ${text}` }
  if (OUR_CREDENTIALS.test(message)) return { status: 'failed', retryable: true, code: 'supplier_auth_failed', message: `kashangwl refused our credentials: ${text}` }
  if (MALFORMED.test(message)) return { status: 'failed', retryable: true, code: 'route_params_invalid', message: text }
  const tag = code.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 40) || 'refused'
  return { status: 'unknown', reason: `unrecognised kashangwl refusal ${tag}` }
}

/**
 * Our outer_order_id refused as already used: an earlier attempt's order exists (its answer
 * was lost), so it is looked up, never failed. A false match costs one query.
 */
export const isDuplicateReference = (message: string): boolean => DUPLICATE.test(message)

/** A query refused because the platform has no order under our reference. */
export const isOrderMissing = (message: string): boolean => ORDER_MISSING.test(message)
