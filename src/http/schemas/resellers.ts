import { z } from 'zod'
import { parseCidr } from '../../domain/cidr.js'
import { Timestamp } from './common.js'
import { Currency, MAX_MINOR_UNITS, MinorUnits, TierParam } from './skus.js'

export const Cidr = z.string().refine((v) => parseCidr(v) !== undefined, 'expected an IP address or CIDR, e.g. 203.0.113.0/24')
const CallbackUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).max(2048)
  .describe('Where order callbacks go; https unless the operator allows private/plain-http targets')

const ResellerFields = z.strictObject({
  name: z.string().trim().min(1).max(200),
  tier: TierParam,
  callback_url: CallbackUrl.nullable(),
  callback_includes_codes: z.boolean(),
  auth_mode: z.enum(['bearer_or_signature', 'signature_only']),
  ip_allowlist: z.array(Cidr).max(100).describe('CIDRs the reseller may call from; empty: any'),
  rate_limit_per_minute: z.number().int().min(1).max(1_000_000),
  credit_limit: MinorUnits.describe('How far below zero the balance may go, minor units'),
  status: z.enum(['active', 'suspended'])
})

export const CreateResellerBody = ResellerFields.omit({ status: true }).partial({
  callback_url: true, callback_includes_codes: true, auth_mode: true, ip_allowlist: true, rate_limit_per_minute: true, credit_limit: true
}).extend({ currency: Currency }).meta({ id: 'CreateReseller' })

export const PatchResellerBody = ResellerFields.partial().refine((v) => Object.keys(v).length > 0, 'nothing to change')
  .meta({ id: 'PatchReseller', description: 'Changes the given fields; currency cannot change' })

export const ApiKeySchema = z.object({ key_id: z.string(), created_at: Timestamp, revoked_at: Timestamp.nullable() })

export const ResellerSchema = z.object({
  id: z.string(),
  name: z.string(),
  tier: z.string(),
  currency: z.string(),
  callback_url: z.string().nullable(),
  callback_includes_codes: z.boolean(),
  auth_mode: z.enum(['bearer_or_signature', 'signature_only']),
  ip_allowlist: z.array(z.string()),
  rate_limit_per_minute: z.number().int(),
  credit_limit: z.number().int(),
  balance: z.number().int(),
  status: z.enum(['active', 'suspended']),
  api_keys: z.array(ApiKeySchema),
  created_at: Timestamp,
  updated_at: Timestamp
}).meta({ id: 'Reseller' })

export const IssuedApiKeySchema = z.object({
  key_id: z.string().describe('Public key id `ak_…`, sent as x-egw-key'),
  secret: z.string().describe('`sk_…`: shown once; bearer token and signing secret')
}).meta({ id: 'IssuedApiKey' })

export const CreatedResellerSchema = ResellerSchema.extend({
  api_key: IssuedApiKeySchema,
  webhook_secret: z.string().describe('`whsec_…` for verifying callbacks; shown once')
}).meta({ id: 'CreatedReseller' })

export const BalanceAdjustmentBody = z.strictObject({
  amount: z.number().int().min(-MAX_MINOR_UNITS).max(MAX_MINOR_UNITS).refine((v) => v !== 0, 'must not be zero')
    .describe('Minor units: positive tops up, negative corrects'),
  reason: z.string().trim().min(1).max(500)
}).meta({ id: 'BalanceAdjustment' })

export const LedgerEntrySchema = z.object({
  id: z.string().describe('`led_…`'),
  kind: z.enum(['adjustment', 'order_debit', 'order_refund']),
  amount: z.number().int(),
  currency: z.string(),
  order_id: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: Timestamp
}).meta({ id: 'LedgerEntry' })

export const ResellerPricesBody = z.array(z.strictObject({ sku: z.string().min(1).max(64), price: MinorUnits })).max(5000)
  .superRefine((items, ctx) => {
    const seen = new Set<string>()
    items.forEach((item, i) => {
      if (seen.has(item.sku)) ctx.addIssue({ code: 'custom', path: [i, 'sku'], message: 'SKU listed twice' })
      seen.add(item.sku)
    })
  }).meta({ id: 'ResellerPriceList', description: 'The full override list: SKUs left out fall back to the tier price' })

export const ResellerPricesSchema = z.object({
  reseller_id: z.string(),
  prices: z.array(z.object({ sku: z.string(), price: z.number().int(), updated_at: Timestamp }))
}).meta({ id: 'ResellerPrices' })

export const ResellerIdParam = z.object({ id: z.string().regex(/^rsl_[0-9a-z]{26}$/, 'expected a reseller id (rsl_…)') })
