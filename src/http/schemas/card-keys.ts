import { z } from 'zod'
import { CARD_KEY_STATUSES } from '../../domain/pool/card-key.js'
import { Timestamp } from './common.js'
import { MinorUnits } from './skus.js'

const FutureTimestamp = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp' })
  .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
  .describe('When every code of the batch expires (RFC 3339); expired keys are never sold')

// Lengths are checked per line by the importer (it reports the line instead of failing the
// batch); the schema only caps what one request may carry.
const CodeField = z.string().max(4096)

export const ImportCardKeysJson = z.strictObject({
  unit_cost: MinorUnits.describe('What one code cost, minor units of the SKU currency'),
  expires_at: FutureTimestamp.optional(),
  source: z.string().trim().min(1).max(200).optional().describe('Where the codes came from (supplier, contract)'),
  // One entry is some 30-60 bytes of JSON ({"code":…,"pin":…}), so about 20,000 fit in the
  // 1 MiB body limit; a higher cap would promise what the limit refuses (413 long before).
  codes: z.array(z.strictObject({ code: CodeField, pin: CodeField.nullish(), serial: CodeField.nullish() })).min(1).max(20_000)
    .describe('At most 20,000 codes per request (bodies are capped at 1 MiB); import bigger batches with the CLI (`entitlement-gateway keys import`)')
}).meta({ id: 'ImportCardKeys' })

export const ImportCardKeysBody = z.union([ImportCardKeysJson, z.string().describe('text/csv: `code,pin,serial` lines, optional header')])

export const ImportCsvQuery = z.object({
  unit_cost: z.string().regex(/^\d{1,15}$/, 'expected an integer amount in minor units').transform(Number).optional()
    .describe('Required for text/csv bodies'),
  expires_at: FutureTimestamp.optional(),
  source: z.string().trim().min(1).max(200).optional()
})

export const ImportIssueSchema = z.object({
  line: z.number().int().describe('1-based: CSV line number, or position in `codes`'),
  kind: z.enum(['rejected', 'duplicate_in_batch', 'duplicate_in_pool']),
  reason: z.string()
})

export const ImportResultSchema = z.object({
  batch_id: z.string(),
  sku: z.string(),
  imported: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  issues: z.array(ImportIssueSchema).describe('Refused lines, first 1,000; never contains codes'),
  issues_truncated: z.boolean()
}).meta({ id: 'CardKeyImportResult' })

export const StockSchema = z.object({
  sku: z.string(),
  available: z.number().int().describe('Sellable now: unsold and unexpired'),
  expired: z.number().int().describe('Unsold but past expiry; never sold'),
  sold: z.number().int(),
  redeemed: z.number().int(),
  voided: z.number().int(),
  low_stock_threshold: z.number().int().nullable()
}).meta({ id: 'CardKeyStock' })

export const CardKeyRecordSchema = z.object({
  id: z.string(),
  sku: z.string(),
  batch_id: z.string(),
  status: z.enum(CARD_KEY_STATUSES),
  order_id: z.string().nullable(),
  reseller_id: z.string().nullable().describe('Reseller of the order the key was sold to'),
  sold_at: Timestamp.nullable(),
  redeemed_at: Timestamp.nullable(),
  redeemed_ip: z.string().nullable(),
  voided_at: Timestamp.nullable(),
  void_reason: z.string().nullable(),
  revealed_at: Timestamp.nullable(),
  expires_at: Timestamp.nullable()
}).meta({ id: 'CardKeyRecord' })

export const CardKeyLookupBody = z.strictObject({ code: z.string().trim().min(1).max(4096) }).meta({ id: 'CardKeyLookup' })
export const VoidCardKeyBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional().describe('Kept on the key and in the audit log') }).meta({ id: 'VoidCardKey' })
export const CardKeyIdParam = z.object({ id: z.string().regex(/^ck_[0-9a-z]{26}$/, 'expected a card key id (ck_…)') })

export const RevealedCardKeySchema = z.object({
  id: z.string(),
  code: z.string(),
  pin: z.string().nullable(),
  serial: z.string().nullable()
}).meta({ id: 'RevealedCardKey' })
