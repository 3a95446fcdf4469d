import type { Tx } from '../../../../db/client.js'
import { existingSuppliers } from '../../../../db/repositories/suppliers.js'
import type { Fulfilment } from '../../../../domain/catalog.js'
import { GatewayError } from '../../../../errors/gateway-error.js'

/** Every route must name an existing supplier instance; `path` locates `routes` in the body. */
export async function assertKnownSuppliers (tx: Tx, fulfilment: Fulfilment | undefined, path: string): Promise<void> {
  const routes = fulfilment?.routes ?? []
  const known = await existingSuppliers(tx, [...new Set(routes.map((r) => r.supplier))])
  const errors = routes.flatMap((r, i) => known.has(r.supplier) ? [] : [{ path: `${path}.${i}.supplier`, message: `unknown supplier ${r.supplier}` }])
  if (errors.length > 0) throw new GatewayError('invalid_request', { detail: `${errors.length} route(s) name no supplier instance`, errors })
}
