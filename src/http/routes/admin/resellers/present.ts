import type { z } from 'zod'
import type { ResellerView } from '../../../../db/repositories/resellers.js'
import type { LedgerEntry } from '../../../../db/schema/index.js'
import type { LedgerEntrySchema, ResellerSchema } from '../../../schemas/resellers.js'
import { serialId } from '../../../../domain/ids.js'

export function presentReseller (r: ResellerView): z.output<typeof ResellerSchema> {
  return {
    id: r.id,
    name: r.name,
    tier: r.tier,
    currency: r.currency,
    callback_url: r.callbackUrl,
    callback_includes_codes: r.callbackIncludesCodes,
    auth_mode: r.authMode,
    ip_allowlist: r.ipAllowlist,
    rate_limit_per_minute: r.rateLimitPerMinute,
    credit_limit: r.creditLimit,
    balance: r.balance,
    status: r.status,
    api_keys: r.apiKeys.map((k) => ({ key_id: k.id, created_at: k.createdAt.toISOString(), revoked_at: k.revokedAt?.toISOString() ?? null })),
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString()
  }
}

export function presentLedgerEntry (e: LedgerEntry): z.output<typeof LedgerEntrySchema> {
  return {
    id: serialId('led', e.id),
    kind: e.kind,
    amount: e.amount,
    currency: e.currency,
    order_id: e.orderId,
    reason: e.reason,
    created_at: e.createdAt.toISOString()
  }
}
