import { cidrMatcher } from '../cidr.js'

export const RISK_RULE_KINDS = ['recipient_velocity', 'daily_quota', 'amount_ceiling', 'recipient_blocklist', 'ip_blocklist'] as const
export const RISK_ACTIONS = ['refuse', 'review'] as const

export type RiskRuleKind = typeof RISK_RULE_KINDS[number]
export type RiskAction = typeof RISK_ACTIONS[number]

/** What each kind of rule is configured with (validated by the admin API, per kind). */
export interface RiskParams {
  /** At most `max_orders` orders for one recipient within the last `window_seconds`. */
  recipient_velocity: { max_orders: number, window_seconds: number }
  /** Per reseller per UTC day; at least one of the two. */
  daily_quota: { max_orders?: number | undefined, max_amount?: number | undefined }
  /** The order's amount (quantity × unit price), minor units. */
  amount_ceiling: { max_amount: number }
  /** Normalised like recipientKey. */
  recipient_blocklist: { recipients: string[] }
  ip_blocklist: { cidrs: string[] }
}

export type RiskRule = {
  [K in RiskRuleKind]: {
    id: string
    kind: K
    action: RiskAction
    /** null: every SKU. */
    sku: string | null
    /** null: every reseller (a daily quota then applies to each reseller separately). */
    resellerId: string | null
    params: RiskParams[K]
  }
}[RiskRuleKind]

export type RuleOf<K extends RiskRuleKind> = Extract<RiskRule, { kind: K }>

/** One rule's verdict on one order, as `orders.risk` keeps it. */
export interface RuleDecision {
  type: 'rule'
  rule_id: string
  kind: RiskRuleKind
  action: RiskAction
  /** Whether the rule fired; then `action` says what it did to the order. */
  hit: boolean
  /** What the rule saw, e.g. `{ orders_in_window: 3, max_orders: 3, window_seconds: 600 }`. */
  measured: Record<string, string | number | boolean | null>
  at: string
}

/** An operator's review of an order a rule held. */
export interface ReviewRecord {
  type: 'review'
  decision: 'approved' | 'rejected'
  /** Operator token id and its role. */
  by: string
  role: string
  reason: string | null
  at: string
}

export type RiskEntry = RuleDecision | ReviewRecord

/** The facts about an order that the rules look at. */
export interface OrderFacts {
  amount: number
  recipientKey: string | null
  clientIp: string | null
}

/** How blocklists and recipient keys compare recipients: trimmed, lower-cased. */
export function normaliseRecipient (text: string): string {
  return text.trim().toLowerCase()
}

/**
 * The recipient as risk rules see it: the phone, else the account (a game account's
 * server does not make it another person). null for card keys, which have no recipient.
 */
export function recipientKey (recipient: Record<string, string>): string | null {
  const value = recipient.phone ?? recipient.account
  if (value === undefined) return null
  const key = normaliseRecipient(value)
  return key === '' ? null : key
}

const decision = (rule: RiskRule, hit: boolean, measured: RuleDecision['measured'], now: Date): RuleDecision =>
  ({ type: 'rule', rule_id: rule.id, kind: rule.kind, action: rule.action, hit, measured, at: now.toISOString() })

/**
 * Rules decided from the order alone: amount ceilings and blocklists. Undefined when the
 * rule has nothing to look at (a recipient rule on a card-key order without recipient,
 * an IP rule without a known caller address) or needs the database (velocity, quota).
 */
export function screenFacts (rule: RiskRule, facts: OrderFacts, now: Date): RuleDecision | undefined {
  switch (rule.kind) {
    case 'amount_ceiling':
      return decision(rule, facts.amount > rule.params.max_amount, { amount: facts.amount, max_amount: rule.params.max_amount }, now)
    case 'recipient_blocklist': {
      if (facts.recipientKey === null) return undefined
      const key = facts.recipientKey
      const listed = rule.params.recipients.some((r) => normaliseRecipient(r) === key)
      return decision(rule, listed, { recipient_key: key, listed }, now)
    }
    case 'ip_blocklist': {
      if (facts.clientIp === null) return undefined
      const listed = cidrMatcher(rule.params.cidrs)(facts.clientIp)
      return decision(rule, listed, { client_ip: facts.clientIp, listed }, now)
    }
    case 'recipient_velocity':
    case 'daily_quota':
      return undefined
  }
}

/** `ordersInWindow`: the recipient's orders in the rule's scope and window, before this one. */
export function velocityDecision (rule: RuleOf<'recipient_velocity'>, ordersInWindow: number, now: Date): RuleDecision {
  return decision(rule, ordersInWindow >= rule.params.max_orders, {
    orders_in_window: ordersInWindow, max_orders: rule.params.max_orders, window_seconds: rule.params.window_seconds
  }, now)
}

/**
 * `usage`: the reseller's day with this order counted, or, when counting it would pass the
 * quota (hit), the day as it stands.
 */
export function quotaDecision (rule: RuleOf<'daily_quota'>, hit: boolean, usage: { day: string, orders: number, amount: number }, now: Date): RuleDecision {
  return decision(rule, hit, {
    day: usage.day, orders: usage.orders, amount: usage.amount, max_orders: rule.params.max_orders ?? null, max_amount: rule.params.max_amount ?? null
  }, now)
}

/** Whether the first order of a day alone would pass the quota. */
export function fitsEmptyQuota (params: RiskParams['daily_quota'], amount: number): boolean {
  return (params.max_orders === undefined || params.max_orders >= 1) && (params.max_amount === undefined || amount <= params.max_amount)
}

/** The refusal a reseller is shown: the kind of rule, never its settings. */
export function refusalOf (d: RuleDecision): { code: 'risk_refused' | 'quota_exceeded', detail: string } {
  switch (d.kind) {
    case 'daily_quota': return { code: 'quota_exceeded', detail: 'the daily order quota of this account is used up' }
    case 'recipient_velocity': return { code: 'risk_refused', detail: 'refused by risk rule recipient_velocity: too many recent orders for this recipient' }
    case 'amount_ceiling': return { code: 'risk_refused', detail: 'refused by risk rule amount_ceiling: the order amount is above the allowed ceiling' }
    case 'recipient_blocklist': return { code: 'risk_refused', detail: 'refused by risk rule recipient_blocklist: this recipient is not accepted' }
    case 'ip_blocklist': return { code: 'risk_refused', detail: 'refused by risk rule ip_blocklist: orders from this address are not accepted' }
  }
}

/** Seconds until the next UTC midnight, when daily quotas start again. */
export function secondsToNextUtcDay (now: Date): number {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000))
}
