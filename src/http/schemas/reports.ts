import { z } from 'zod'
import { MAX_PERIOD_DAYS, periodProblems } from '../../reports/period.js'
import { FINDING_KINDS } from '../../reports/reconcile.js'
import { GROUP_BY } from '../../reports/settlement.js'
import { CursorQuery, LimitQuery, Timestamp } from './common.js'
import { LedgerEntrySchema } from './resellers.js'

const periodFields = {
  from: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp such as 2026-11-01T00:00:00Z' })
    .describe('Start of the period, included (RFC 3339)'),
  to: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp such as 2026-12-01T00:00:00Z' })
    .describe(`End of the period, excluded; after \`from\`, at most ${MAX_PERIOD_DAYS} days later`)
}

const checkPeriod = (q: { from: string, to: string }, ctx: z.RefinementCtx): void => {
  for (const p of periodProblems(q.from, q.to)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message })
}

export const SettlementQuery = z.object({
  ...periodFields,
  group_by: z.enum(GROUP_BY).default('reseller')
}).superRefine(checkPeriod)

const Count = z.number().int()
const Minor = z.number().int()
const settlementFigures = {
  currency: z.string(),
  orders: Count.describe('Orders placed in the period (created_at)'),
  succeeded: Count.describe('Orders that succeeded in the period (completed_at)'),
  failed: Count.describe('Orders that failed in the period (completed_at)'),
  revenue: Minor.describe('What resellers paid for the orders that succeeded in the period'),
  cost: Minor.describe('What those orders cost us: the delivering supplier attempt\'s cost, or the sold pool keys\' batch unit costs'),
  margin: Minor.describe('revenue - cost'),
  refunds: Minor.describe('order_refund ledger entries written in the period')
}

export const SettlementRowSchema = z.object({
  group: z.string().nullable().describe('The reseller id, SKU or supplier id (`card_pool` for pool sales); with group_by=supplier, ' +
    'null gathers the orders nothing delivered (failed, refunded, still open)'),
  ...settlementFigures
}).meta({ id: 'SettlementRow' })

export const SettlementReportSchema = z.object({
  from: Timestamp,
  to: Timestamp,
  group_by: z.enum(GROUP_BY),
  rows: z.array(SettlementRowSchema).describe('One row per group and currency'),
  totals: z.array(z.object(settlementFigures)).describe('One per currency: amounts are never added across currencies')
}).meta({ id: 'SettlementReport' })

/** The CSV has the JSON row's columns, in the same order. */
export const SETTLEMENT_CSV_COLUMNS = Object.keys(SettlementRowSchema.shape) as (keyof z.output<typeof SettlementRowSchema>)[]

export const StatementQuery = z.object({ ...periodFields, limit: LimitQuery, cursor: CursorQuery }).superRefine(checkPeriod)

export const StatementSchema = z.object({
  reseller_id: z.string(),
  currency: z.string(),
  from: Timestamp,
  to: Timestamp,
  opening_balance: Minor.describe('Sum of the ledger before `from`'),
  closing_balance: Minor.describe('opening_balance plus every movement of the period'),
  movement_count: Count.describe('Ledger entries written in the period (all pages)'),
  data: z.array(LedgerEntrySchema.extend({ balance_after: Minor.describe('The balance after this entry, in ledger order') })
    .meta({ id: 'StatementMovement' })).describe('Movements of the period in ledger order, a page at a time'),
  next_cursor: z.string().nullable()
}).meta({ id: 'Statement' })

export const ReconciliationQuery = z.object({
  days: z.coerce.number().int().min(1).max(93).default(7).describe('UTC days of supplier spend, today included')
})

export const ReconciliationSchema = z.object({
  ok: z.boolean().describe('No findings of any kind'),
  checked_at: Timestamp,
  counts: z.record(z.enum(FINDING_KINDS), Count).describe('Findings per kind, complete even when the list is cut'),
  findings: z.array(z.object({
    kind: z.enum(FINDING_KINDS),
    subject: z.string().describe('The reseller or order concerned'),
    detail: z.string()
  })).describe('At most 100 per kind'),
  findings_truncated: z.boolean(),
  supplier_spend: z.array(z.object({
    day: z.string().describe('UTC day the attempts were placed, YYYY-MM-DD'),
    supplier: z.string(),
    currency: z.string(),
    attempts: Count.describe('Succeeded attempts'),
    amount: Minor.describe('Sum of their costs')
  }))
}).meta({ id: 'Reconciliation' })
