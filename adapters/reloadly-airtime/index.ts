import type { AdapterFactory, HttpCall, SupplierAdapter, SupplierResult } from '../../src/domain/supplier.js'
import { createReloadlyAdapter } from '../reloadly/adapter.js'
import { ReloadlyBadResponse } from '../reloadly/client.js'
import { STATUS } from '../reloadly/map.js'
import { SpringPage } from '../reloadly/wire.js'
import { ReloadlyAirtimeConfigSchema, type ReloadlyAirtimeConfig } from './config.js'
import { fromAirtimeRefusal, fromTopup, toTopupRequest } from './map.js'
import { AIRTIME_ACCEPT, AsyncAccepted, readTopup, type Topup, type TopupRequest } from './wire.js'

/**
 * Reloadly Airtime: mobile top-ups, and PINs for PIN operators (suppliers.md §1).
 *
 * Top-ups go through `POST /topups-async`, not the sync `POST /topups`. The sync call holds
 * the request open while the operator works, which the docs say can take long for some
 * operators: under our deadline that makes "no answer, outcome unknown" common, and each one
 * costs a reconciliation. The async call only registers the top-up and answers its id at
 * once, so acceptance is quick and definite; completion comes by the signed webhook (which
 * makes the engine query) or by the poller, with `GET /topups/reports/transactions?
 * customIdentifier=` as the look-up (the documented filter, §1.8).
 */
export function createReloadlyAirtimeAdapter (config: ReloadlyAirtimeConfig, baseUrl: string, http: HttpCall, now: () => number = Date.now): SupplierAdapter {
  return createReloadlyAdapter<TopupRequest>({ config, baseUrl, http, accept: AIRTIME_ACCEPT, now }, (client) => {
    /** Re-asks a PROCESSING top-up at the real-time status endpoint; the list may lag (§1.3). */
    const liveStatus = async (topup: Topup, signal: AbortSignal): Promise<Topup> => {
      const answer = await client.get(`/topups/${topup.transactionId}/status`, signal)
      const live = answer.status === 200 ? readTopup(answer.body) : null
      return live !== null && live.transactionId === topup.transactionId ? live : topup
    }

    const getOrder = async (reference: string, signal: AbortSignal): Promise<SupplierResult> => {
      const answer = await client.get(`/topups/reports/transactions?customIdentifier=${encodeURIComponent(reference)}`, signal)
      const page = SpringPage.safeParse(answer.body)
      // A refused or odd look-up says nothing about the order: the engine asks again later.
      if (answer.status !== 200 || !page.success) throw new ReloadlyBadResponse(`transaction list answered HTTP ${answer.status}`)
      if (page.data.content.length === 0) return { status: 'not_found' }
      const mine = page.data.content.map(readTopup).find((t) => t?.customIdentifier === reference)
      // Transactions, none of them ours: the filter was not applied, so absence is not proven.
      if (!mine) throw new ReloadlyBadResponse('transaction list ignored the customIdentifier filter')
      return fromTopup(STATUS[mine.status] === 'pending' ? await liveStatus(mine, signal) : mine)
    }

    return {
      name: 'reloadly-airtime',
      purchasePath: '/topups-async',
      toRequest: toTopupRequest,
      async fromAccepted (answer, sent) {
        // A full transaction (should the call ever answer like `/topups`) is read as one.
        const full = readTopup(answer.body)
        if (full) {
          if (full.customIdentifier && full.customIdentifier !== sent.customIdentifier) return { status: 'unknown', reason: 'Reloadly answered with another customIdentifier' }
          return fromTopup(full)
        }
        const accepted = AsyncAccepted.safeParse(answer.body)
        if (!accepted.success) throw new ReloadlyBadResponse(`top-up answered HTTP ${answer.status} without a transactionId`)
        return { status: 'pending', supplierOrderId: accepted.data.transactionId }
      },
      fromRefusal: fromAirtimeRefusal,
      getOrder
    }
  })
}

export const reloadlyAirtimeFactory: AdapterFactory<ReloadlyAirtimeConfig> = {
  name: 'reloadly-airtime',
  credentials: ReloadlyAirtimeConfigSchema,
  create: ({ credentials, baseUrl, http }) => createReloadlyAirtimeAdapter(credentials, baseUrl, http)
}
