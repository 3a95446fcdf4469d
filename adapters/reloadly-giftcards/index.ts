import type { AdapterFactory, HttpCall, SupplierAdapter, SupplierResult } from '../../src/domain/supplier.js'
import { createReloadlyAdapter } from '../reloadly/adapter.js'
import { ReloadlyBadResponse } from '../reloadly/client.js'
import { fromStatus } from '../reloadly/map.js'
import { reloadlyDateTime, SpringPage } from '../reloadly/wire.js'
import { ReloadlyGiftcardsConfigSchema, type ReloadlyGiftcardsConfig } from './config.js'
import { fromGiftCardRefusal, orderMismatch, toCodes, toOrderRequest } from './map.js'
import { GIFTCARDS_ACCEPT, GiftCards, GiftCardTransaction, type GiftCardOrder, type GiftCardOrderRequest } from './wire.js'

/** How far back a look-up by our reference searches the transaction reports. */
export const LOOKUP_DAYS = 30
/** Report pages read at most per look-up; past that the answer is "unknown", never "not found". */
export const LOOKUP_MAX_PAGES = 50
const PAGE_SIZE = 200
/** Transaction ids remembered from our own orders, so most look-ups go straight to the id. */
const REMEMBERED = 10_000

/**
 * Reloadly Gift Cards: codes bought with `POST /orders` and read from
 * `GET /orders/transactions/{id}/cards` once the order is SUCCESSFUL (suppliers.md §2).
 *
 * Looking an order up by our reference is the uncertain part: the docs list transactions by
 * date only (`GET /reports/transactions?startDate&endDate`) and by id. So: by id when this
 * process placed the order (the id is remembered); otherwise the reports of the last
 * LOOKUP_DAYS, page by page, matched on customIdentifier. `customIdentifier=` is sent too,
 * in case the API honours it as the airtime reports do (then one small page answers), but
 * nothing relies on it. Undocumented as well: whether `page` counts from 0 or 1 (read from
 * the page's own `number`), the largest page size, and the dates' time zone (UTC assumed; the
 * window has a day to spare). "Not found" is only said after every page was read.
 */
export function createReloadlyGiftcardsAdapter (config: ReloadlyGiftcardsConfig, baseUrl: string, http: HttpCall, now: () => number = Date.now): SupplierAdapter {
  return createReloadlyAdapter<GiftCardOrderRequest>({ config, baseUrl, http, accept: GIFTCARDS_ACCEPT, now }, (client) => {
    const known = new Map<string, string>()
    const remember = (reference: string, transactionId: string): void => {
      known.set(reference, transactionId)
      if (known.size > REMEMBERED) known.delete(known.keys().next().value as string)
    }

    /** The order's state; its codes are fetched only once it is SUCCESSFUL. */
    const fromOrder = async (order: GiftCardOrder, signal: AbortSignal): Promise<SupplierResult> =>
      await fromStatus(order.status, order.transactionId, 'gift-card order', async (): Promise<SupplierResult> => {
        const answer = await client.get(`/orders/transactions/${order.transactionId}/cards`, signal)
        const cards = GiftCards.safeParse(answer.body)
        if (answer.status !== 200 || !cards.success) throw new ReloadlyBadResponse(`cards answered HTTP ${answer.status} without cards`)
        const codes = toCodes(cards.data, order.product?.quantity)
        return codes ? { status: 'succeeded', supplierOrderId: order.transactionId, codes } : { status: 'unknown', reason: 'Reloadly order is SUCCESSFUL but its cards are missing or incomplete' }
      })

    // Reloadly has given us this order's transaction id, so it has the order: an answer that
    // does not show it (a report not caught up, an error) is no "not found", and is thrown.
    const byId = async (reference: string, transactionId: string, signal: AbortSignal): Promise<GiftCardOrder> => {
      const answer = await client.get(`/reports/transactions/${transactionId}`, signal)
      const order = GiftCardTransaction.safeParse(answer.body)
      if (answer.status === 200 && order.success && order.data.customIdentifier === reference) return order.data
      throw new ReloadlyBadResponse(`transaction ${transactionId} answered HTTP ${answer.status} without our order`)
    }

    const search = async (reference: string, signal: AbortSignal): Promise<GiftCardOrder | 'absent'> => {
      const window = `startDate=${encodeURIComponent(reloadlyDateTime(now() - LOOKUP_DAYS * 86_400_000))}&endDate=${encodeURIComponent(reloadlyDateTime(now() + 86_400_000))}`
      const query = `/reports/transactions?customIdentifier=${encodeURIComponent(reference)}&${window}&size=${PAGE_SIZE}`
      // The docs show 1-based pages; a Spring page echoes its 0-based `number`, so a first
      // answer with number 1 means that page=0 exists and was skipped.
      const pages = [1]
      for (let read = 0; read < pages.length; read++) {
        if (read >= LOOKUP_MAX_PAGES) throw new ReloadlyBadResponse(`transaction reports longer than ${LOOKUP_MAX_PAGES} pages`)
        const page = pages[read] as number
        const answer = await client.get(`${query}&page=${page}`, signal)
        const parsed = SpringPage.safeParse(answer.body)
        if (answer.status !== 200 || !parsed.success) throw new ReloadlyBadResponse(`transaction reports answered HTTP ${answer.status}`)
        for (const item of parsed.data.content) {
          const order = GiftCardTransaction.safeParse(item)
          if (order.success && order.data.customIdentifier === reference) return order.data
        }
        const { last, number, totalPages, content } = parsed.data
        if (read === 0 && number === 1) pages.push(0)
        // `last` if given, else the page count, else an empty page: the server may cap `size`.
        const done = last ?? (totalPages !== undefined && number !== undefined ? number + 1 >= totalPages : content.length === 0)
        if (page !== 0 && !done) pages.push(page + 1)
      }
      return 'absent'
    }

    return {
      name: 'reloadly-giftcards',
      purchasePath: '/orders',
      toRequest: toOrderRequest,
      async fromAccepted (answer, sent, signal) {
        const order = GiftCardTransaction.safeParse(answer.body)
        if (!order.success) throw new ReloadlyBadResponse(`order answered HTTP ${answer.status} without a transaction`)
        const mismatch = orderMismatch(order.data, sent)
        // Nothing is delivered from an answer that is not about what we asked; a look-up by our reference decides.
        if (mismatch) return { status: 'unknown', reason: `Reloadly answered the order with ${mismatch}` }
        remember(sent.customIdentifier, order.data.transactionId)
        return await fromOrder(order.data, signal)
      },
      fromRefusal: fromGiftCardRefusal,
      async getOrder (reference, signal) {
        const id = known.get(reference)
        const order = id ? await byId(reference, id, signal) : await search(reference, signal)
        if (order === 'absent') return { status: 'not_found' }
        remember(reference, order.transactionId)
        return await fromOrder(order, signal)
      }
    }
  })
}

export const reloadlyGiftcardsFactory: AdapterFactory<ReloadlyGiftcardsConfig> = {
  name: 'reloadly-giftcards',
  credentials: ReloadlyGiftcardsConfigSchema,
  create: ({ credentials, baseUrl, http }) => createReloadlyGiftcardsAdapter(credentials, baseUrl, http)
}
