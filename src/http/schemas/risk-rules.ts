import { z } from 'zod'
import { RISK_ACTIONS, RISK_RULE_KINDS, type RiskParams, type RiskRuleKind } from '../../domain/risk/rules.js'
import { GatewayError } from '../../errors/gateway-error.js'
import { Timestamp } from './common.js'
import { Cidr } from './resellers.js'
import { MinorUnits, SkuParam } from './skus.js'

const VelocityParams = z.object({
  max_orders: z.number().int().min(1).max(100_000).describe('Orders one recipient may have within the window; the next one is hit'),
  window_seconds: z.number().int().min(1).max(31 * 86_400)
}).strict().meta({ id: 'RecipientVelocityParams' })

const DailyQuotaParams = z.object({
  max_orders: z.number().int().min(1).max(100_000_000).optional().describe('Orders per reseller per UTC day'),
  max_amount: MinorUnits.optional().describe('Sum of order amounts per reseller per UTC day, minor units')
}).strict()
  .refine((p) => p.max_orders !== undefined || p.max_amount !== undefined, 'set max_orders, max_amount or both')
  .meta({ id: 'DailyQuotaParams' })

const AmountCeilingParams = z.object({
  max_amount: MinorUnits.describe('Largest order amount (quantity × unit price) accepted, minor units')
}).strict().meta({ id: 'AmountCeilingParams' })

const RecipientBlocklistParams = z.object({
  recipients: z.array(z.string().trim().toLowerCase().min(1).max(128)).min(1).max(10_000)
    .describe('Accounts or phone numbers (E.164), compared trimmed and lower-cased')
}).strict().meta({ id: 'RecipientBlocklistParams' })

const IpBlocklistParams = z.object({
  cidrs: z.array(Cidr).min(1).max(1_000).describe('Addresses or CIDRs (IPv4 or IPv6) of callers whose orders are not accepted')
}).strict().meta({ id: 'IpBlocklistParams' })

/** The params of each kind; `satisfies` keeps them in step with the domain's types. */
export const RISK_PARAMS = {
  recipient_velocity: VelocityParams,
  daily_quota: DailyQuotaParams,
  amount_ceiling: AmountCeilingParams,
  recipient_blocklist: RecipientBlocklistParams,
  ip_blocklist: IpBlocklistParams
} satisfies { [K in RiskRuleKind]: z.ZodType<RiskParams[K]> }

const Action = z.enum(RISK_ACTIONS)
  .describe('refuse: the order is refused (403 risk_refused; 429 quota_exceeded for daily quotas) and nothing is charged; ' +
    'review: the order is accepted `pending_review`, charged, and fulfilled only once an operator approves it')
const RuleSku = SkuParam.nullable().describe('The SKU the rule watches; null: every SKU')
const RuleResellerId = z.string().min(1).max(64).nullable()
  .describe('The reseller the rule watches; null: every reseller (a daily quota then counts each reseller separately)')

const createFields = {
  action: Action,
  sku: RuleSku.default(null),
  reseller_id: RuleResellerId.default(null),
  enabled: z.boolean().default(true)
}

/**
 * One object per kind, discriminated by `kind`, each with its own params and these fields.
 * Requests are strict (a misspelt field is an error, not a rule without it); answers are
 * not, so fields can be added to them later.
 */
const perKind = <F extends z.ZodRawShape>(fields: F, object: typeof z.object | typeof z.strictObject) => z.discriminatedUnion('kind', [
  object({ kind: z.literal('recipient_velocity'), params: VelocityParams, ...fields }),
  object({ kind: z.literal('daily_quota'), params: DailyQuotaParams, ...fields }),
  object({ kind: z.literal('amount_ceiling'), params: AmountCeilingParams, ...fields }),
  object({ kind: z.literal('recipient_blocklist'), params: RecipientBlocklistParams, ...fields }),
  object({ kind: z.literal('ip_blocklist'), params: IpBlocklistParams, ...fields })
])

export const CreateRiskRuleBody = perKind(createFields, z.strictObject).meta({ id: 'CreateRiskRule' })

export const PatchRiskRuleBody = z.object({
  action: Action,
  sku: RuleSku,
  reseller_id: RuleResellerId,
  enabled: z.boolean(),
  params: z.record(z.string(), z.unknown()).describe('The whole params object, validated against the rule\'s kind (see CreateRiskRule)')
}).partial().strict()
  .refine((v) => Object.keys(v).length > 0, 'nothing to change')
  .meta({ id: 'PatchRiskRule', description: 'Changes the given fields; `kind` cannot change' })

const ruleFields = {
  id: z.string(),
  action: Action,
  sku: z.string().nullable(),
  reseller_id: z.string().nullable(),
  enabled: z.boolean(),
  created_at: Timestamp,
  updated_at: Timestamp
}

export const RiskRuleSchema = perKind(ruleFields, z.object).meta({ id: 'RiskRule' })

export const RiskRuleIdParam = z.object({ id: z.string().regex(/^rsk_[0-9a-z]{26}$/, 'expected a risk rule id (rsk_…)') })

export const RiskRuleListQuery = z.object({
  kind: z.enum(RISK_RULE_KINDS).optional(),
  sku: SkuParam.optional(),
  reseller_id: z.string().max(64).optional()
})

/** Validates a PATCH's params against the rule's kind; field errors point into `body.params`. */
export function parseRiskParams (kind: RiskRuleKind, params: unknown): RiskParams[RiskRuleKind] {
  const parsed = RISK_PARAMS[kind].safeParse(params)
  if (parsed.success) return parsed.data
  const errors = parsed.error.issues.map((issue) => ({ path: ['body', 'params', ...issue.path.map(String)].join('.'), message: issue.message }))
  throw new GatewayError('invalid_request', { detail: `${errors.length} invalid field(s) in params of a ${kind} rule`, errors })
}

/** What `orders.risk` holds, as the admin order view shows it. */
export const RiskEntrySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('rule'),
    rule_id: z.string(),
    kind: z.enum(RISK_RULE_KINDS),
    action: Action,
    hit: z.boolean().describe('Whether the rule fired; then `action` is what it did (refused orders are not kept, so a kept hit is a review)'),
    measured: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .describe('What the rule saw, e.g. orders_in_window, max_orders, window_seconds'),
    at: Timestamp
  }).meta({ id: 'RiskDecision' }),
  z.object({
    type: z.literal('review'),
    decision: z.enum(['approved', 'rejected']),
    by: z.string().describe('Operator token id'),
    role: z.string(),
    reason: z.string().nullable(),
    at: Timestamp
  }).meta({ id: 'RiskReview' })
])

export const ReviewBody = z.object({
  reason: z.string().trim().min(1).max(500).optional().describe('Kept on the order and in the audit log; never shown to the reseller')
}).strict().meta({ id: 'OrderReview' })
