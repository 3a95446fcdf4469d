import CircuitBreaker from 'opossum'
import type { CallContext, PurchaseRequest, SupplierAdapter, SupplierResult } from '../domain/supplier.js'
import type { SupplierHealth } from '../domain/routing/choose-routes.js'
import { BREAKER_STATE_VALUE, type SupplierMetrics } from './metrics.js'
import type { Log as FullLog } from '../observability/log.js'

export interface BreakerSettings {
  timeoutMs: number
  errorThresholdPercentage: number
  resetTimeoutMs: number
  volumeThreshold: number
}

export interface SupplierSettings extends BreakerSettings {
  id: string
  enabled: boolean
  forceState: 'open' | 'closed' | null
}

export type Outcome = SupplierResult & { latencyMs: number }

/** Our prepaid balance at the supplier, or why it could not be read (an error code, no message). */
export type BalanceOutcome =
  | { ok: true, amount: number, currency: string, latencyMs: number }
  | { ok: false, error: string, latencyMs: number }

export type BreakerState = keyof typeof BREAKER_STATE_VALUE

/**
 * Told of every breaker transition of this instance in this process (the alerts module
 * listens); also told `closed` when a breaker that is not closed is shut down.
 */
export type BreakerObserver = (supplier: string, state: BreakerState) => void

type Operation = 'purchase' | 'query' | 'balance'

type Log = Pick<FullLog, 'info' | 'warn' | 'debug'>

/** Nothing reached the supplier: another route is safe. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])

/** Failure codes adapters use for trouble with our account at the supplier, not with the order. */
const SUPPLIER_SIDE = new Set(['supplier_insufficient_balance', 'supplier_auth_failed'])

/** Carries a supplier-side refusal through the breaker, which counts what is thrown. */
class SupplierSideRefusal extends Error {
  override name = 'SupplierSideRefusal'
  constructor (readonly result: SupplierResult) { super('supplier-side refusal') }
}

export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded'
  readonly code = 'DEADLINE_EXCEEDED'
}

function errorCode (err: unknown): string {
  const e = err as { code?: unknown, name?: unknown, cause?: { code?: unknown } }
  // Only codes and names: messages can quote a supplier's body (JSON.parse does).
  const code = typeof e.cause?.code === 'string' ? e.cause.code : typeof e.code === 'string' ? e.code : undefined
  return code ?? (typeof e.name === 'string' ? e.name : 'Error')
}

/**
 * One supplier instance as this process runs it: the adapter behind an opossum breaker,
 * every call under a total deadline (undici's own timeouts are idle timeouts), every
 * outcome timed, counted and classified. Adapters throw on transport trouble; here that
 * becomes `failed` (retryable) when nothing can have reached the supplier, else `unknown`.
 */
export class SupplierExecutor {
  readonly breaker: CircuitBreaker<[() => Promise<SupplierResult>], SupplierResult>

  constructor (
    public settings: SupplierSettings,
    public adapter: SupplierAdapter,
    private readonly metrics: SupplierMetrics,
    private readonly log: Log,
    private readonly observer?: BreakerObserver
  ) {
    this.breaker = new CircuitBreaker(async (fn: () => Promise<SupplierResult>) => await fn(), {
      name: settings.id,
      // The deadline is ours (it aborts the request); opossum's timeout would only stop waiting.
      timeout: false,
      errorThresholdPercentage: settings.errorThresholdPercentage,
      resetTimeout: settings.resetTimeoutMs,
      volumeThreshold: settings.volumeThreshold
    })
    const transition = (to: BreakerState) => () => {
      metrics.breakerState.set({ supplier: settings.id }, BREAKER_STATE_VALUE[to])
      metrics.breakerTransitions.inc({ supplier: settings.id, to })
      const level = to === 'open' ? 'warn' : 'info'
      log[level]({ supplier: settings.id, breaker: to }, `supplier breaker ${to.replace('_', '-')}`)
      observer?.(settings.id, to)
    }
    this.breaker.on('open', transition('open'))
    this.breaker.on('halfOpen', transition('half_open'))
    this.breaker.on('close', transition('closed'))
    metrics.breakerState.set({ supplier: settings.id }, 0)
  }

  /** Same breaker settings: the breaker (and its history) can stay when other fields change. */
  sameBreaker (s: BreakerSettings): boolean {
    const c = this.settings
    return c.errorThresholdPercentage === s.errorThresholdPercentage && c.resetTimeoutMs === s.resetTimeoutMs && c.volumeThreshold === s.volumeThreshold
  }

  breakerState (): SupplierHealth['breaker'] {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half_open' : 'closed'
  }

  health (): SupplierHealth {
    return { enabled: this.settings.enabled, forceState: this.settings.forceState, breaker: this.breakerState() }
  }

  /** Places an order under the breaker (unless an operator forced it closed). */
  async purchase (request: PurchaseRequest): Promise<Outcome> {
    if (this.settings.forceState === 'open') {
      return { status: 'failed', retryable: true, code: 'supplier_unavailable', message: 'supplier taken out of rotation by an operator', latencyMs: 0 }
    }
    return await this.timed('purchase', request.reference, async () => {
      const call = async (): Promise<SupplierResult> => {
        const result = await this.withDeadline(async (ctx) => await this.adapter.purchase(request, ctx))
        // Refusals that are the supplier account's trouble (an empty wallet, refused
        // credentials) count against its breaker like outages: every order would meet them.
        if (result.status === 'failed' && SUPPLIER_SIDE.has(result.code)) throw new SupplierSideRefusal(result)
        return result
      }
      try {
        return this.settings.forceState === 'closed' ? await call() : await this.breaker.fire(call)
      } catch (err) {
        if (err instanceof SupplierSideRefusal) return err.result
        throw err
      }
    })
  }

  /**
   * Looks an order up by our reference. Not gated by the breaker: settling money that may
   * already be spent must not wait for a breaker, and queries are paced by the poller.
   */
  async query (reference: string): Promise<Outcome> {
    return await this.timed('query', reference, async () => await this.withDeadline(async (ctx) => await this.adapter.getOrder(reference, ctx)))
  }

  /**
   * Our balance at the supplier (capability `balance`), under the same deadline, timing and
   * logging as every call; not gated by the breaker (it orders nothing).
   */
  async balance (): Promise<BalanceOutcome> {
    const started = performance.now()
    const read = async (): Promise<{ ok: true, amount: number, currency: string } | { ok: false, error: string }> => {
      const call = this.adapter.balance?.bind(this.adapter)
      if (!call) return { ok: false, error: 'UNSUPPORTED' }
      try {
        const { amount, currency } = await this.withDeadline(call)
        return Number.isSafeInteger(amount) && /^[A-Z]{3}$/.test(currency) ? { ok: true, amount, currency } : { ok: false, error: 'INVALID_BALANCE' }
      } catch (err) {
        return { ok: false, error: errorCode(err) }
      }
    }
    const result = await read()
    const latencyMs = Math.round(performance.now() - started)
    this.observe('balance', null, result.ok ? 'succeeded' : 'failed', latencyMs, result.ok ? undefined : result.error)
    return { ...result, latencyMs }
  }

  private async withDeadline<R> (fn: (ctx: CallContext) => Promise<R>): Promise<R> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(new DeadlineExceeded(`no answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs)
    try {
      return await fn({ signal: controller.signal })
    } finally {
      clearTimeout(timer)
    }
  }

  private async timed (operation: Operation, reference: string, fn: () => Promise<SupplierResult>): Promise<Outcome> {
    const started = performance.now()
    let result: SupplierResult
    let error: string | undefined
    try {
      result = await fn()
    } catch (err) {
      error = errorCode(err)
      result = this.classify(err, error, operation)
    }
    const latencyMs = Math.round(performance.now() - started)
    const outcome = result.status === 'failed' ? (result.retryable ? 'failed_retryable' : 'failed') : result.status
    this.observe(operation, reference, outcome, latencyMs, error)
    return { ...result, latencyMs }
  }

  private observe (operation: Operation, reference: string | null, outcome: string, latencyMs: number, error: string | undefined): void {
    this.metrics.callDuration.observe({ supplier: this.settings.id, operation, outcome }, latencyMs / 1000)
    const fields = { supplier: this.settings.id, operation, ...(reference ? { reference } : {}), outcome, latency_ms: latencyMs, ...(error ? { error } : {}) }
    if (error) this.log.warn(fields, 'supplier call did not complete')
    else this.log.debug(fields, 'supplier call')
  }

  private classify (err: unknown, code: string, operation: Operation): SupplierResult {
    if (CircuitBreaker.isOurError(err as Error)) {
      return { status: 'failed', retryable: true, code: 'supplier_unavailable', message: 'supplier circuit breaker is open' }
    }
    if (operation === 'purchase' && NOT_SENT.has(code)) {
      return { status: 'failed', retryable: true, code: 'supplier_unreachable', message: `could not connect (${code})` }
    }
    return { status: 'unknown', reason: code }
  }

  /** Stops the breaker; one that was not closed reports `closed`: it no longer keeps anything out. */
  shutdown (): void {
    const state = this.breakerState()
    this.breaker.shutdown()
    if (state !== 'closed') this.observer?.(this.settings.id, 'closed')
  }
}
