import { z } from 'zod'
import { ATTEMPT_STATUSES } from '../../domain/orders/attempts.js'
import { CATEGORIES, DELIVERIES, RECIPIENT_TYPES } from '../../domain/catalog.js'
import { Timestamp } from './common.js'
import { RiskEntrySchema } from './risk-rules.js'
import { MinorUnits } from './skus.js'

export const ClientOrderId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1..64 characters of [A-Za-z0-9._:-]')

export const ProductSchema = z.object({
  sku: z.string(),
  name: z.string(),
  category: z.enum(CATEGORIES),
  delivery: z.enum(DELIVERIES),
  recipient_type: z.enum(RECIPIENT_TYPES),
  face_value: z.number().int(),
  price: z.number().int().describe('What this reseller pays per unit, minor units'),
  currency: z.string(),
  max_quantity: z.number().int(),
  available: z.boolean().describe('Whether an order can be fulfilled now')
}).meta({ id: 'Product' })

export const CreateOrderBody = z.strictObject({
  client_order_id: ClientOrderId.describe('Your id for the order; retries with the same id and body return the same order'),
  sku: z.string().min(1).max(64),
  quantity: z.number().int().min(1).max(100).default(1),
  recipient: z.record(z.string(), z.string().max(128)).default({})
    .describe('`{account}`, `{phone}` (E.164), `{account, server}`, or `{}` for card keys'),
  max_unit_price: MinorUnits.optional().describe('Refuse the order (409 price_changed) if the unit price is higher'),
  callback_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).max(2048).optional()
}).meta({ id: 'CreateOrder' })

export const DeliverySchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('card_key'),
    code: z.string().optional().describe('Left out of callbacks unless the reseller opted in'),
    pin: z.string().nullable().optional(),
    serial: z.string().nullable().optional(),
    expires_at: Timestamp.nullable()
  }).meta({ id: 'CardKeyDelivery' }),
  z.object({
    type: z.literal('direct_recharge'),
    reference: z.string().describe('Our reference of the recharge, to quote in support requests')
  }).meta({ id: 'DirectRechargeDelivery' })
])

export const OrderSchema = z.object({
  id: z.string(),
  client_order_id: z.string(),
  sku: z.string(),
  quantity: z.number().int(),
  recipient: z.record(z.string(), z.string()),
  unit_price: z.number().int(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(['processing', 'succeeded', 'failed', 'pending_review']),
  failure: z.object({ code: z.string(), message: z.string() }).nullable(),
  deliveries: z.array(DeliverySchema),
  created_at: Timestamp,
  completed_at: Timestamp.nullable()
}).meta({ id: 'Order' })

export const AdminOrderSchema = OrderSchema.omit({ deliveries: true }).extend({
  reseller_id: z.string(),
  deliveries: z.array(z.object({
    type: z.enum(['card_key', 'direct_recharge']),
    source: z.enum(['pool', 'supplier']),
    card_key_id: z.string().nullable().describe('Pool keys: the key, for the audited reveal and look-up endpoints'),
    attempt_id: z.string().nullable().describe('Supplier deliveries: the attempt that delivered'),
    reference: z.string().nullable().describe('Direct recharges: our reference at the supplier'),
    expires_at: Timestamp.nullable()
  })).describe('Codes are not shown here; reveal a pool key through the audited card-key endpoint'),
  attempts: z.array(z.object({
    id: z.string().describe('Our reference at the supplier (its idempotency key there)'),
    supplier: z.string(),
    supplier_product_id: z.string(),
    outcome: z.enum(ATTEMPT_STATUSES),
    supplier_order_id: z.string().nullable(),
    failure_code: z.string().nullable(),
    failure_message: z.string().nullable(),
    latency_ms: z.number().int().nullable().describe('Of the submit call'),
    queries: z.number().int().describe('Status queries sent for this attempt'),
    cost: z.number().int(),
    created_at: Timestamp,
    completed_at: Timestamp.nullable()
  })).describe('Supplier attempts in the order they were made; failover adds one, never overwrites'),
  cost: z.number().int().describe('What fulfilment cost us, minor units: pool batch costs plus the succeeded supplier attempt'),
  client_ip: z.string().nullable().describe('The address that placed the order, as the gateway saw it'),
  risk: z.array(RiskEntrySchema).describe('Every risk rule that looked at the order (what it measured, whether it fired) and every review of it, in order')
}).meta({ id: 'AdminOrder' })

export const OrderIdParam = z.object({ id: z.string().regex(/^ord_[0-9a-z]{26}$/, 'expected an order id (ord_…)') })

export const OrderListQuery = z.object({
  client_order_id: ClientOrderId.optional(),
  status: z.enum(['processing', 'succeeded', 'failed', 'pending_review']).optional(),
  sku: z.string().max(64).optional(),
  created_from: z.iso.datetime({ offset: true }).optional(),
  created_to: z.iso.datetime({ offset: true }).optional()
})

export const BalanceSchema = z.object({
  available: z.number().int().describe('Balance in minor units (negative when using credit)'),
  credit_limit: z.number().int(),
  currency: z.string()
}).meta({ id: 'Balance' })
