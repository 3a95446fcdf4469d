/**
 * The one catalogue of public error codes. Keys are the stable `code` values of the
 * problem+json bodies (api.md); a code, once shipped, is never renamed or reused.
 * `openapi/errors.md` documents each entry and a test keeps the two in step.
 */
export interface ErrorSpec {
  status: number
  title: string
  /** Whether retrying the same request later can succeed. */
  retryable?: boolean
}

export const catalogue = {
  invalid_request: { status: 400, title: 'Request failed validation' },
  unauthorized: { status: 401, title: 'Missing or unknown credentials' },
  signature_invalid: { status: 401, title: 'Request signature does not match' },
  timestamp_out_of_window: { status: 401, title: 'Request timestamp outside the allowed window' },
  replayed_request: { status: 401, title: 'Nonce already used' },
  insufficient_balance: { status: 402, title: 'Insufficient balance' },
  forbidden: { status: 403, title: 'Not allowed' },
  ip_not_allowed: { status: 403, title: 'Caller IP address not allowed' },
  risk_refused: { status: 403, title: 'Order refused by a risk rule' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  already_exists: { status: 409, title: 'Resource already exists' },
  invalid_state: { status: 409, title: 'Not allowed in the object\'s current state' },
  idempotency_conflict: { status: 409, title: 'client_order_id reused with a different request' },
  sku_unavailable: { status: 409, title: 'SKU cannot be fulfilled now' },
  price_changed: { status: 409, title: 'Price is above max_unit_price' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  recipient_invalid: { status: 422, title: 'Recipient does not fit the SKU' },
  rate_limited: { status: 429, title: 'Too many requests', retryable: true },
  quota_exceeded: { status: 429, title: 'Daily order quota used up', retryable: true },
  internal_error: { status: 500, title: 'Internal error', retryable: true },
  unavailable: { status: 503, title: 'Service unavailable', retryable: true }
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof catalogue

export const errorCodes = Object.keys(catalogue) as ErrorCode[]
