import { z } from 'zod'
import { ADAPTER_NAMES, ADAPTERS } from '../../../adapters/index.js'
import { GatewayError } from '../../errors/gateway-error.js'
import { Timestamp } from './common.js'

export const SUPPLIER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{1,63}$/
export const SupplierId = z.string().regex(SUPPLIER_ID_PATTERN, 'expected 2..64 characters of [a-z0-9_-], starting with a letter or digit')
export const SupplierIdParam = z.object({ id: SupplierId })

const FORCE_STATES = ['open', 'closed'] as const
const BREAKER_STATES = ['closed', 'open', 'half_open'] as const

const credentialFields = (name: string): string => {
  const schema = ADAPTERS[name]?.credentials
  return schema instanceof z.ZodObject ? Object.keys(schema.shape).join(', ') : 'see the adapter'
}

const Credentials = z.record(z.string(), z.unknown()).describe(
  'Secrets of the supplier account, validated by the adapter (' +
  ADAPTER_NAMES.map((name) => `${name}: ${credentialFields(name)}`).join('; ') +
  '). Stored encrypted; never returned'
)

const BreakerFields = z.strictObject({
  error_threshold_percentage: z.number().int().min(1).max(100)
    .describe('Failure percentage over the rolling window that opens the breaker'),
  reset_timeout_ms: z.number().int().min(100).max(3_600_000)
    .describe('How long an open breaker waits before letting one trial call through (half-open)'),
  volume_threshold: z.number().int().min(1).max(100_000)
    .describe('Calls in the window before the breaker may open at all')
})

const SupplierFields = z.strictObject({
  base_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).max(2048),
  credentials: Credentials,
  timeout_ms: z.number().int().min(100).max(120_000).describe('Total deadline of one supplier call, connection to last byte'),
  enabled: z.boolean().describe('A disabled instance gets no new orders'),
  force_state: z.enum(FORCE_STATES).nullable()
    .describe('Operator override of the breaker: `open` takes the instance out of routing, `closed` ignores its breaker; null: the breaker decides'),
  low_balance_threshold: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable()
    .describe('Minor units of the supplier\'s currency: a polled balance below it raises the `supplier_low_balance` alert; null: no alert')
})

export const CreateSupplierBody = SupplierFields.extend({
  id: SupplierId.optional().describe('Readable name that SKU routes reference, e.g. `fulu-main`; generated (`sup_…`) when absent'),
  adapter: z.enum(ADAPTER_NAMES),
  timeout_ms: SupplierFields.shape.timeout_ms.default(10_000),
  breaker: z.strictObject({
    error_threshold_percentage: BreakerFields.shape.error_threshold_percentage.default(50),
    reset_timeout_ms: BreakerFields.shape.reset_timeout_ms.default(30_000),
    volume_threshold: BreakerFields.shape.volume_threshold.default(10)
  }).prefault({}),
  enabled: SupplierFields.shape.enabled.default(true),
  force_state: SupplierFields.shape.force_state.default(null),
  low_balance_threshold: SupplierFields.shape.low_balance_threshold.default(null)
}).meta({ id: 'CreateSupplier' })

export const PatchSupplierBody = SupplierFields.extend({
  breaker: BreakerFields.partial().refine((v) => Object.keys(v).length > 0, 'nothing to change')
}).partial().strict()
  .refine((v) => Object.keys(v).length > 0, 'nothing to change')
  .meta({
    id: 'PatchSupplier',
    description: 'Changes the given fields (`breaker` field by field; `credentials` as a whole, validated by the instance\'s adapter). `adapter` cannot change'
  })

export const SupplierSchema = z.object({
  id: z.string(),
  adapter: z.string(),
  base_url: z.string(),
  timeout_ms: z.number().int(),
  breaker: BreakerFields.extend({
    state: z.enum(BREAKER_STATES).nullable()
      .describe('The breaker as this process runs it (breakers are per process); null when `loaded` is false')
  }),
  enabled: z.boolean(),
  force_state: z.enum(FORCE_STATES).nullable(),
  loaded: z.boolean()
    .describe('Whether this process runs the instance; false when it could not (e.g. credentials its keyring cannot open), see the logs'),
  low_balance_threshold: z.number().int().nullable(),
  balance: z.object({
    amount: z.number().int().describe('Minor units'),
    currency: z.string(),
    checked_at: Timestamp.describe('When the supplier said so')
  }).nullable().describe('Our prepaid balance at the supplier as last polled (adapters with a balance call); null until read'),
  version: z.number().int().describe('Bumped by every change'),
  created_at: Timestamp,
  updated_at: Timestamp
}).meta({ id: 'Supplier', description: 'A supplier instance; credentials are write-only' })

const stringLeaves = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? Object.values(value).flatMap(stringLeaves) : []

/**
 * Validates credentials with the adapter's own schema. Errors name the field, never its
 * value: a message that would quote a submitted value (an adapter's custom message could)
 * is replaced.
 */
export function parseCredentials (adapter: string, credentials: Record<string, unknown>): unknown {
  const factory = ADAPTERS[adapter]
  if (!factory) throw new GatewayError('invalid_state', { detail: `adapter ${adapter} is not available in this gateway` })
  const parsed = factory.credentials.safeParse(credentials)
  if (parsed.success) return parsed.data
  const submitted = stringLeaves(credentials).filter((s) => s.length >= 4)
  const errors = parsed.error.issues.map((issue) => ({
    path: ['body', 'credentials', ...issue.path.map(String)].join('.'),
    message: submitted.some((s) => issue.message.includes(s)) ? 'invalid value' : issue.message
  }))
  throw new GatewayError('invalid_request', { detail: `${errors.length} invalid credential field(s) for adapter ${adapter}`, errors })
}
