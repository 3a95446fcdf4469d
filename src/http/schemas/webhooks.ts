import { z } from 'zod'
import { PUBLIC_FAILURE_TEXT } from '../../webhooks/failure.js'
import { Timestamp } from './common.js'

export const WebhookEventSchema = z.object({
  id: z.string().describe('`evt_…`, sent as webhook-id (stable across retries)'),
  reseller_id: z.string(),
  type: z.string(),
  order_id: z.string().nullable(),
  url: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  last_status: z.number().int().nullable().describe('HTTP status of the last attempt'),
  last_error: z.string().nullable().describe('Why the last attempt failed, or null. ' +
    `On the reseller API one of: \`HTTP <status>\`, ${Object.values(PUBLIC_FAILURE_TEXT).map((text) => `\`${text}\``).join(', ')}. ` +
    'The admin API gives the full reason.'),
  next_attempt_at: Timestamp.nullable(),
  created_at: Timestamp,
  delivered_at: Timestamp.nullable()
}).meta({ id: 'WebhookEvent' })

export const WebhookEventIdParam = z.object({ id: z.string().regex(/^evt_[0-9a-z]{26}$/, 'expected an event id (evt_…)') })
export const WebhookEventQuery = z.object({ status: z.enum(['pending', 'delivered', 'failed']).optional() })
