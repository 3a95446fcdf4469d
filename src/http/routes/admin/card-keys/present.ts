import type { z } from 'zod'
import type { CardKeyRecord } from '../../../../db/repositories/card-keys.js'
import type { CardKeyRecordSchema } from '../../../schemas/card-keys.js'

const iso = (d: Date | null): string | null => d?.toISOString() ?? null

export function presentCardKey (r: CardKeyRecord): z.output<typeof CardKeyRecordSchema> {
  return {
    id: r.id,
    sku: r.sku,
    batch_id: r.batchId,
    status: r.status,
    order_id: r.orderId,
    reseller_id: r.resellerId,
    sold_at: iso(r.soldAt),
    redeemed_at: iso(r.redeemedAt),
    redeemed_ip: r.redeemedIp,
    voided_at: iso(r.voidedAt),
    void_reason: r.voidReason,
    revealed_at: iso(r.revealedAt),
    expires_at: iso(r.expiresAt)
  }
}
