import { z } from 'zod'
import { ALERT_KINDS } from '../../ops/alerts.js'
import { CursorQuery, LimitQuery, Timestamp } from './common.js'

export const AlertListQuery = z.object({
  kind: z.enum(ALERT_KINDS).optional(),
  subject: z.string().min(1).max(128).optional().describe('A supplier instance id, a SKU or a reseller id'),
  since: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp' }).optional().describe('Events at or after this time'),
  firing: z.enum(['true', 'false']).optional()
    .describe('`true`: only alerts firing now, one entry each (the event that raised it); otherwise the whole history'),
  limit: LimitQuery,
  cursor: CursorQuery
})

export const OpsEventSchema = z.object({
  id: z.string(),
  kind: z.enum(ALERT_KINDS),
  subject: z.string().describe('What it is about: a supplier instance id (supplier_low_balance, breaker_open), a SKU (low_stock) or a reseller id (callback_failures)'),
  severity: z.enum(['info', 'warning', 'critical']).describe('`warning` or `critical` when the alert was raised; `info` when it cleared'),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).describe('Figures behind the event: balance and threshold, keys left, attempts…'),
  firing: z.boolean().describe('Whether this alert (kind and subject) is firing now'),
  created_at: Timestamp
}).meta({ id: 'OpsEvent', description: 'An alert raised or cleared; each is recorded once per crossing, whichever process saw it' })
