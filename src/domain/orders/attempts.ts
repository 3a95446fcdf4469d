/**
 * A supplier attempt's life: written `submitting` before the call, then what the call (or a
 * later query) established. `unknown` and `pending` stay open until a query or callback
 * settles them; `not_found` is the supplier saying definitely that it has no such order,
 * the only ambiguous-call outcome that lets the router move on to another supplier.
 */
export const ATTEMPT_STATUSES = ['submitting', 'pending', 'unknown', 'succeeded', 'failed', 'not_found'] as const
export type AttemptStatus = typeof ATTEMPT_STATUSES[number]
export const OPEN_ATTEMPT_STATUSES: readonly AttemptStatus[] = ['submitting', 'pending', 'unknown']
