import type { z } from 'zod'
import type { SupplierView } from '../../../../db/repositories/suppliers.js'
import type { SupplierRegistry } from '../../../../suppliers/registry.js'
import type { SupplierSchema } from '../../../schemas/suppliers.js'

/** The row as stored, with the breaker as this process runs it. */
export function presentSupplier (row: SupplierView, registry: Pick<SupplierRegistry, 'get'>): z.output<typeof SupplierSchema> {
  const executor = registry.get(row.id)
  return {
    id: row.id,
    adapter: row.adapter,
    base_url: row.baseUrl,
    timeout_ms: row.timeoutMs,
    breaker: {
      error_threshold_percentage: row.errorThresholdPercentage,
      reset_timeout_ms: row.resetTimeoutMs,
      volume_threshold: row.volumeThreshold,
      state: executor?.breakerState() ?? null
    },
    enabled: row.enabled,
    force_state: row.forceState,
    loaded: executor !== undefined,
    low_balance_threshold: row.lowBalanceThreshold,
    balance: row.balance !== null && row.balanceCurrency !== null && row.balanceCheckedAt !== null
      ? { amount: row.balance, currency: row.balanceCurrency, checked_at: row.balanceCheckedAt.toISOString() }
      : null,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString()
  }
}
