export const ORDER_STATUSES = ['processing', 'succeeded', 'failed', 'pending_review'] as const
export type OrderStatus = typeof ORDER_STATUSES[number]

/**
 * An order is an intent: it is accepted (`processing`, or `pending_review` when risk rules
 * hold it), then ends once, `succeeded` or `failed`. Final states never change; fulfilment
 * tries (pool allocation, supplier attempts) are rows of their own and never rewrite it.
 * The card-pool path accepts and finishes in one transaction, so its orders are inserted
 * already `succeeded`. A database trigger enforces the same table.
 */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending_review: ['processing', 'failed'],
  processing: ['succeeded', 'failed'],
  succeeded: [],
  failed: []
}

export const isFinal = (status: OrderStatus): boolean => ORDER_TRANSITIONS[status].length === 0
