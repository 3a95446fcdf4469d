import { z } from 'zod'
import { ReloadlyStatus, TransactionId } from '../reloadly/wire.js'

/* Reloadly Airtime top-ups on the wire (suppliers.md §1.3–1.5). */

export const AIRTIME_ACCEPT = 'application/com.reloadly.topups-v1+json'

/** `POST /topups` and `/topups-async` take the same body (§1.4). */
export interface TopupRequest {
  operatorId: number
  amount: number
  useLocalAmount: boolean
  /** Our attempt reference: unique per account, the key we look the top-up up by. */
  customIdentifier: string
  /** ISO 3166 alpha-2 and the national number. */
  recipientPhone: { countryCode: string, number: string }
}

/** `POST /topups-async` answers only the id; the outcome comes by status, list or webhook. */
export const AsyncAccepted = z.object({ transactionId: TransactionId })

const text = z.union([z.string(), z.number().transform(String)]).nullish().catch(null)

/** Present for PIN operators only: the PIN is in `code` (a PIN top-up is a card code, §1.4). */
export const PinDetail = z.object({
  code: text,
  serial: text,
  info1: text,
  validity: text
})

/** The transaction as the sync top-up, the list and (flat variant) the status endpoint show it. */
export const TopupTransaction = z.object({
  transactionId: TransactionId,
  status: ReloadlyStatus,
  customIdentifier: z.string().nullish(),
  operatorId: z.union([z.number(), z.string()]).nullish(),
  requestedAmount: z.number().nullish(),
  pinDetail: PinDetail.nullish().catch(null)
})

export type Topup = z.infer<typeof TopupTransaction>

/** The status endpoint's other shape: `{code, message, status, transaction: {…}}` (§1.4, M). */
const Wrapped = z.object({ status: z.string().nullish(), transaction: z.record(z.string(), z.unknown()) })

/**
 * A top-up in either shape. In the wrapped one the outer `status` is the endpoint's answer,
 * so it wins over the transaction's own field. Null when it is neither.
 */
export function readTopup (value: unknown): Topup | null {
  const wrapped = Wrapped.safeParse(value)
  const flat = wrapped.success ? { ...wrapped.data.transaction, status: wrapped.data.status ?? wrapped.data.transaction.status } : value
  const topup = TopupTransaction.safeParse(flat)
  return topup.success ? topup.data : null
}
