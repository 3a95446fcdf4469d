import { z } from 'zod'
import { operatorRole } from '../../db/schema/index.js'
import { Timestamp } from './common.js'

export const CreateOperatorTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('Who or what holds the token, e.g. `alice` or `grafana`'),
  role: z.enum(operatorRole.enumValues)
}).meta({ id: 'CreateOperatorToken' })

export const OperatorTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(operatorRole.enumValues),
  token_prefix: z.string().describe('First characters of the token, to tell tokens apart'),
  created_by: z.string().nullable(),
  created_at: Timestamp,
  last_used_at: Timestamp.nullable(),
  revoked_at: Timestamp.nullable()
}).meta({ id: 'OperatorToken' })

export const IssuedOperatorTokenSchema = OperatorTokenSchema.extend({
  token: z.string().describe('The token itself (`adm_…`). Shown once; store it now.')
}).meta({ id: 'IssuedOperatorToken' })
