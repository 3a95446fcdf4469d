import { DrizzleQueryError } from 'drizzle-orm/errors'
import { catalogue, type ErrorCode } from './catalogue.js'

export interface FieldError {
  path: string
  message: string
}

export interface GatewayErrorOptions {
  /** Written for the API caller; never internals. */
  detail?: string
  /** Goes to logs only. */
  internal?: string
  errors?: FieldError[]
  headers?: Record<string, string>
  cause?: unknown
}

/** The one error class domain and HTTP code throw; the error handler renders it. */
export class GatewayError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly detail: string | undefined
  readonly internal: string | undefined
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string> | undefined

  constructor (code: ErrorCode, options: GatewayErrorOptions = {}) {
    super(options.detail ?? catalogue[code].title, { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.status = catalogue[code].status
    this.detail = options.detail
    this.internal = options.internal
    this.errors = options.errors
    this.headers = options.headers
  }
}

/**
 * Drizzle wraps driver errors in a DrizzleQueryError whose message lists the query's bound
 * values: log the driver's own error instead, so no parameter reaches a log line.
 */
export function loggableCause (err: unknown): unknown {
  // By class: drizzle leaves the error's name at 'Error'.
  return err instanceof DrizzleQueryError && err.cause !== undefined ? err.cause : err
}
