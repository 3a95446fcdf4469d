import type { Tx } from '../../../../db/client.js'
import { riskScopeExists } from '../../../../db/repositories/risk-rules.js'
import { GatewayError } from '../../../../errors/gateway-error.js'

/** A rule must name an existing SKU and reseller (or none): 400 at the field otherwise. */
export async function assertRiskScope (tx: Tx, scope: { sku?: string | null | undefined, resellerId?: string | null | undefined }): Promise<void> {
  const exists = await riskScopeExists(tx, scope)
  const errors = [
    ...(exists.sku ? [] : [{ path: 'body.sku', message: `unknown SKU ${scope.sku ?? ''}` }]),
    ...(exists.resellerId ? [] : [{ path: 'body.reseller_id', message: `unknown reseller ${scope.resellerId ?? ''}` }])
  ]
  if (errors.length > 0) throw new GatewayError('invalid_request', { detail: 'the rule names what does not exist', errors })
}
