import type { z } from 'zod'
import type { AdminToken } from '../../../../db/schema/index.js'
import type { OperatorTokenSchema } from '../../../schemas/operator-tokens.js'

export function presentOperatorToken (row: AdminToken): z.output<typeof OperatorTokenSchema> {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    token_prefix: row.tokenPrefix,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null
  }
}
