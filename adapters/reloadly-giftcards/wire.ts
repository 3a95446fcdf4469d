import { z } from 'zod'
import { ReloadlyStatus, TransactionId } from '../reloadly/wire.js'

/* Reloadly Gift Cards on the wire (suppliers.md §2). */

export const GIFTCARDS_ACCEPT = 'application/com.reloadly.giftcards-v1+json'

/** `POST /orders`; senderName and recipientEmail are required by the API. */
export interface GiftCardOrderRequest {
  productId: number
  countryCode?: string
  quantity: number
  unitPrice: number
  /** Our attempt reference, unique per account. */
  customIdentifier: string
  senderName: string
  recipientEmail: string
}

/** An order as `POST /orders` and the transaction reports show it. */
export const GiftCardTransaction = z.object({
  transactionId: TransactionId,
  status: ReloadlyStatus,
  customIdentifier: z.string().nullish(),
  product: z.object({
    productId: z.union([z.number(), z.string()]).nullish(),
    quantity: z.number().int().nullish(),
    unitPrice: z.number().nullish()
  }).nullish().catch(null)
})

export type GiftCardOrder = z.infer<typeof GiftCardTransaction>

const text = z.union([z.string(), z.number().transform(String)]).nullish().catch(null)

export const GiftCard = z.object({ cardNumber: text, pinCode: text })

/**
 * `GET /orders/transactions/{id}/cards`: an array in integrations, a single object in the
 * doc's example (§2, M); both are read as a list.
 */
export const GiftCards = z.union([z.array(GiftCard), GiftCard.transform((card) => [card])])
