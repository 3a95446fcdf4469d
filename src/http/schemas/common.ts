import { z } from 'zod'
import { errorCodes } from '../../errors/catalogue.js'
import { GatewayError } from '../../errors/gateway-error.js'

export const ProblemSchema = z.object({
  type: z.string().describe('Always `about:blank`; `code` is the machine-readable part'),
  title: z.string(),
  status: z.number().int(),
  code: z.enum(errorCodes).describe('Stable error code; see openapi/errors.md'),
  detail: z.string().optional(),
  request_id: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional()
    .describe('Present on validation failures: one entry per invalid field')
}).meta({ id: 'Problem', description: 'RFC 9457 problem details' })

export type Problem = z.infer<typeof ProblemSchema>

export const LimitQuery = z.coerce.number().int().min(1).max(200).default(50)
export const CursorQuery = z.string().max(512).optional()
  .describe('Opaque cursor from the previous page\'s `next_cursor`')

export const page = <T extends z.ZodType>(item: T) => z.object({
  data: z.array(item),
  next_cursor: z.string().nullable()
})

export const Timestamp = z.string().describe('RFC 3339, UTC')

export function encodeCursor (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export function decodeCursor<T> (cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')))
  } catch {
    throw new GatewayError('invalid_request', {
      detail: 'cursor is not one this API returned',
      errors: [{ path: 'querystring.cursor', message: 'invalid cursor' }]
    })
  }
}
