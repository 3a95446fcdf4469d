import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'

/*
 * kashangwl / 卡商网 (cqmeihu platform, suppliers.md §4): form-encoded POSTs to `api/<name>`
 * under the API root, each carrying customer_id, timestamp and an MD5 of the customer key
 * followed by every other parameter as key+value, keys in byte order, no separators.
 */

export const PATHS = { buy: 'api/buy', outerOrder: 'api/outer-order', customer: 'api/customer' } as const

/** Template fields travel as `recharge_template_input_items[<name>]` and are signed under that key. */
export const TEMPLATE_ITEMS = 'recharge_template_input_items'
export const templateKey = (name: string): string => `${TEMPLATE_ITEMS}[${name}]`

/** The notify's card and ticket lists are left out of its signature (official doc). */
const NOTIFY_UNSIGNED = new Set(['sign', 'cards', 'tickets'])

/**
 * The notify parameters its signature covers: all but `sign`, `cards` and `tickets`, the
 * lists also when they come PHP-style as bracketed keys (`cards[0][card_no]`).
 */
export function notifySigned (params: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !NOTIFY_UNSIGNED.has(key.split('[', 1)[0] as string)))
}

/** `path` under the API root, whether or not the root ends with `/` or has a path of its own. */
export function kashangwlUrl (base: string, path: string): string {
  return new URL(path, base.endsWith('/') ? base : `${base}/`).toString()
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))

/** `lower(md5(key + k1 + v1 + k2 + v2 …))` over every parameter but `sign`. */
export function kashangwlSign (params: Readonly<Record<string, string>>, key: string): string {
  const source = Object.keys(params).filter((k) => k !== 'sign').sort(byBytes).map((k) => `${k}${params[k]}`).join('')
  return createHash('md5').update(key + source, 'utf8').digest('hex')
}

/** Whether `sign` signs `params`, compared in constant time. */
export function kashangwlSignMatches (params: Readonly<Record<string, string>>, sign: string, key: string): boolean {
  const expected = Buffer.from(kashangwlSign(params, key), 'utf8')
  const given = Buffer.from(sign.toLowerCase(), 'utf8')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export const unixSeconds = (now: Date): string => String(Math.floor(now.getTime() / 1000))

/**
 * Parameters as signed, from a JSON body (which the platform also accepts): scalars as text,
 * a nested `recharge_template_input_items` object as its bracketed keys, anything else as
 * JSON text (only unsigned lists such as `cards` are expected there).
 */
export function flattenJsonParams (body: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(body)) {
    if (key === TEMPLATE_ITEMS && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [name, item] of Object.entries(value)) out[templateKey(name)] = String(item)
    } else if (value !== null && typeof value === 'object') {
      out[key] = JSON.stringify(value)
    } else {
      out[key] = value === null || value === undefined ? '' : String(value)
    }
  }
  return out
}

/** Parameters from a form-encoded or JSON body; null when it is neither. */
export function readParams (rawBody: string, contentType: string): Record<string, string> | null {
  if (/json/i.test(contentType) || rawBody.trimStart().startsWith('{')) {
    try {
      const body: unknown = JSON.parse(rawBody)
      return typeof body === 'object' && body !== null && !Array.isArray(body) ? flattenJsonParams(body as Record<string, unknown>) : null
    } catch {
      return null
    }
  }
  return Object.fromEntries(new URLSearchParams(rawBody))
}

const text = z.union([z.string(), z.number().transform(String)])

export const KashangwlEnvelope = z.object({
  code: text,
  message: z.string().nullish().transform((m) => m ?? ''),
  data: z.unknown().optional()
})

/** Order states by name; an unrecognised one parses to `unrecognised` rather than failing. */
const STATES: Readonly<Record<string, 'waiting' | 'recharging' | 'success' | 'failed' | 'indeterminate'>> =
  { 100: 'waiting', 101: 'recharging', 200: 'success', 500: 'failed', 501: 'indeterminate' }

export const KashangwlState = text.transform((v) => STATES[v.trim()] ?? 'unrecognised' as const)
export type KashangwlStateName = z.infer<typeof KashangwlState>

/** Buy responses say `card_no`/`card_password`; order details may say `no`/`password` (M). */
export const KashangwlCard = z.object({
  card_no: text.nullish(),
  no: text.nullish(),
  card_password: text.nullish(),
  password: text.nullish(),
  expired_at: z.string().nullish()
})

export type KashangwlCardItem = z.infer<typeof KashangwlCard>

/** A coupon: `ticket` is an image URL (base64 in notifies), `no` its number if any. */
export const KashangwlTicket = z.object({
  no: text.nullish(),
  ticket: z.string().nullish(),
  expired_at: z.string().nullish()
})

export type KashangwlTicketItem = z.infer<typeof KashangwlTicket>

const list = <T extends z.ZodType>(item: T) => z.array(item).nullish()

/** `api/buy` data. `order_id` is a number in one doc copy and a string in another. */
export const KashangwlBuy = z.object({
  order_id: text,
  state: KashangwlState,
  product_price: text.nullish(),
  cards: list(KashangwlCard),
  tickets: list(KashangwlTicket)
})

export type KashangwlBuyResult = z.infer<typeof KashangwlBuy>

/** `api/outer-order` data: the order detail (M; only what the gateway reads). */
export const KashangwlOrder = z.object({
  id: text,
  outer_order_id: text.nullish(),
  state: KashangwlState,
  /** 1 充值 (direct), 2 卡密 (card), 3 卡券 (coupon), 4 人工 (manual). */
  product_type: text.nullish(),
  quantity: text.nullish(),
  recharge_account: text.nullish(),
  cards: list(KashangwlCard),
  tickets: list(KashangwlTicket)
})

export type KashangwlOrderDetail = z.infer<typeof KashangwlOrder>

/** `api/customer`: our prepaid balance, a decimal string of yuan. */
export const KashangwlCustomer = z.object({
  balance: text
})

/** The notify fields the gateway needs; the signature covers the body as sent, not this parse. */
export const KashangwlNotify = z.object({
  outer_order_id: z.string().min(1),
  customer_id: z.string().min(1),
  sign: z.string().min(1)
})
