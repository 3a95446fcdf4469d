import type { z } from 'zod'
import type { RiskRuleRow } from '../../../../db/repositories/risk-rules.js'
import type { RiskRuleSchema } from '../../../schemas/risk-rules.js'

export function presentRiskRule (row: RiskRuleRow): z.output<typeof RiskRuleSchema> {
  return {
    id: row.id,
    kind: row.kind,
    action: row.action,
    sku: row.sku,
    reseller_id: row.resellerId,
    params: row.params,
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString()
  } as z.output<typeof RiskRuleSchema>
}
