import { setTimeout as sleep } from 'node:timers/promises'
import type postgres from 'postgres'
import type { Keyring } from '../crypto/keyring.js'
import type { Fulfilment } from '../domain/catalog.js'
import { toDate } from '../db/timestamps.js'
import { newId } from '../domain/ids.js'
import { OPEN_ATTEMPT_STATUSES } from '../domain/orders/attempts.js'
import { isFinal } from '../domain/orders/status.js'
import { InsufficientStockError } from '../domain/pool/errors.js'
import { chooseRoutes, type Route, type Step } from '../domain/routing/choose-routes.js'
import type { SupplierResult } from '../domain/supplier.js'
import { reportLowStock, sellCardKeys, type LowStock } from '../pool/sell.js'
import type { Outcome, SupplierExecutor } from '../suppliers/executor.js'
import type { SupplierRegistry } from '../suppliers/registry.js'
import { insertAttempt } from './attempts.js'
import { expiryOf, poolDeliveries, supplierDeliveryRows, type Delivery } from './deliveries.js'
import { getOrder, ORDER_COLUMNS, outcomePayload, refund, toOrder, writeOutcomeEvent, type OrderRecord } from './orders.js'
import type { Log } from '../observability/log.js'


export interface EngineOptions {
  sql: postgres.Sql
  keyring: Keyring
  suppliers: SupplierRegistry
  log: Log
  /** How long after an attempt goes pending (or unknown) it is queried again. */
  pollIntervalMs: number
  /** How long an order may sit untouched by a live process before another takes it over. */
  reconcileAfterMs: number
  firstCallbackDelayMs: number
}

type Failure = { code: string, message: string }

export interface Driving {
  order: OrderRecord
  /** Our lease on the order: every write that moves it requires this token. */
  token: string
  fulfilment: Fulfilment
  lowStockThreshold: number | null
  /** card_key SKUs must deliver a code per unit; a "success" without them is not one yet. */
  delivery: 'card_key' | 'direct_recharge'
}

interface AttemptRow { id: string, supplier_id: string, status: string, supplier_order_id: string | null, created_at: unknown }

/** What settling an answer needs to know about the attempt it answers. */
interface AttemptContext {
  id: string
  /** When it was written (before the call), epoch ms. */
  createdAt: number
  /** The supplier has shown it has the order (it answered pending, or gave its order id). */
  acknowledged: boolean
}

const OPEN = OPEN_ATTEMPT_STATUSES as string[]

/** See finishSucceeded. The outbox row is written only when the order or its reseller has a callback URL. */
const FINISH_SUCCEEDED = `
  with fin as (
    update orders set status = 'succeeded', failure = null, completed_at = now(), lease_token = null, lease_until = null, next_check_at = null
    where id = $1 and status = 'processing' and lease_token = $2
    returning ${ORDER_COLUMNS}),
  attempt as (
    update supplier_attempts set status = 'succeeded', supplier_order_id = coalesce($4, supplier_order_id),
      latency_ms = coalesce(latency_ms, $5), queries = queries + $6, completed_at = now(), updated_at = now()
    where id = $3 and exists (select 1 from fin)),
  delivered as (
    insert into order_deliveries (id, order_id, attempt_id, type, reference, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext, expires_at)
    select x.id, fin.id, $3, x.type, x.reference, x.key_id, decode(x.code, 'base64'), decode(x.pin, 'base64'), decode(x.serial, 'base64'), x.expires_at
    from fin, jsonb_to_recordset($7::jsonb) as x(id text, type text, reference text, key_id text, code text, pin text, serial text, expires_at timestamptz)),
  announced as (
    insert into webhook_events (id, reseller_id, order_id, type, payload, url, next_attempt_at)
    select $8, r.id, fin.id, 'order.succeeded',
           jsonb_set($9::jsonb, '{data,completed_at}', to_jsonb(to_char(fin.completed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
           coalesce(fin.callback_url, r.callback_url), now() + $10 * interval '1 millisecond'
    from fin join resellers r on r.id = fin.reseller_id
    where coalesce(fin.callback_url, r.callback_url) is not null)
  select ${ORDER_COLUMNS} from fin`

/**
 * Waits for `work` (when there is any) or `ms`, whichever comes first; never throws. A plain
 * timer, cleared: aborting a timers/promises sleep builds a DOMException with its stack on
 * every supplier order.
 */
async function settledWithin (work: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const pause = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })
  try {
    await (work ? Promise.race([work.catch(() => {}), pause]) : pause)
  } finally {
    clearTimeout(timer)
  }
}

/** What the reseller is told; the supplier's own words stay on the attempt row (they name the supplier). */
function failureOf (r: SupplierResult): Failure {
  if (r.status === 'failed' && r.code === 'recipient_invalid') return { code: 'recipient_invalid', message: 'the recipient was refused' }
  return { code: 'supplier_rejected', message: 'no supplier could fulfil the order' }
}

/**
 * Fulfils accepted orders through supplier routes and the card pool (architecture.md,
 * "Flow of one order", step 3–4). The process that accepted an order drives it at once; the
 * poller settles pending attempts and the reconciler takes over orders whose driver died.
 * Every move needs the order's lease token, so two processes never drive one order, and
 * the finish is one transaction with the guard `status = 'processing'`, so an order is
 * finished, refunded and announced exactly once.
 */
/** An order this process finished, with what it delivered (codes in clear, for its buyer only). */
export interface Finished {
  order: OrderRecord
  deliveries: Delivery[]
}

export class FulfilmentEngine {
  private readonly running = new Map<string, Promise<void>>()
  /** Set by each finish until the drive that made it collects it (start) or drops it. */
  private readonly finished = new Map<string, Finished>()
  /** Set by drain(): no new background claims while the process shuts down. */
  private closing = false

  constructor (private readonly o: EngineOptions) {}

  /** Lease length for a step that may call a supplier and then query it. */
  private leaseMs (timeoutMs = this.o.suppliers.maxTimeoutMs()): number {
    return 2 * timeoutMs + this.o.reconcileAfterMs
  }

  /** Lease an accepting process takes on a new supplier-routed order. */
  acceptLeaseMs (): number {
    return this.leaseMs()
  }

  /**
   * Drives a just-accepted order (we hold its lease); resolves with the order and what it
   * delivered when this drive finished it, undefined when it is left pending (or failed to
   * run: the reconciler resumes it).
   */
  async start (order: OrderRecord, token: string, steps: Step[], known?: Pick<Driving, 'fulfilment' | 'lowStockThreshold' | 'delivery'>, attemptId?: string): Promise<Finished | undefined> {
    await this.track(order.id, async () => {
      // The accepting request read the SKU a moment ago: no need to read it again.
      const routing = known ?? await this.routing(order.sku)
      await this.walk({ order, token, ...routing }, steps, undefined, attemptId)
    })
    return this.collect(order.id)
  }

  /** The drive's result if it comes within `ms`, else undefined (the drive goes on). */
  async within (drive: Promise<Finished | undefined>, ms: number): Promise<Finished | undefined> {
    let result: Finished | undefined
    await settledWithin(drive.then((r) => { result = r }), ms)
    return result
  }

  private collect (orderId: string): Finished | undefined {
    const done = this.finished.get(orderId)
    this.finished.delete(orderId)
    return done
  }

  /** Waits up to `ms` for the order to end (ORDER_SYNC_WAIT_MS); returns it as it then is. */
  async waitForFinal (orderId: string, ms: number): Promise<OrderRecord> {
    const deadline = Date.now() + ms
    // Driven here: its end is our promise, no need to look before it settles.
    const driving = this.running.get(orderId)
    if (driving) await settledWithin(driving, ms)
    for (;;) {
      const order = await getOrder(this.o.sql, orderId)
      if (!order) throw new Error(`order ${orderId} vanished`)
      const left = deadline - Date.now()
      if (isFinal(order.status) || left <= 0) return order
      // Pending at the supplier: a callback or the poller may end it in any process, so
      // look again shortly (or when our own drive of it, a resumption, settles).
      const resumed = this.running.get(orderId)
      await settledWithin(resumed, resumed ? left : Math.min(left, 100))
    }
  }

  /**
   * Claims orders due for a look (pending attempts to query, orders whose driver died) and
   * re-drives them in the background, keeping at most `maxRunning` orders in hand in this
   * process. Returns how many it claimed; the caller's tick comes back for the rest.
   */
  async runDue (maxRunning = 32): Promise<number> {
    const room = maxRunning - this.running.size
    if (this.closing || room <= 0) return 0
    const claimed = await this.o.sql<{ id: string, lease_token: string }[]>`
      update orders o set lease_token = gen_random_uuid()::text, lease_until = now() + ${this.leaseMs()} * interval '1 millisecond',
                          next_check_at = now() + ${this.leaseMs()} * interval '1 millisecond'
      from (select id from orders
            where status = 'processing' and next_check_at <= now() and (lease_until is null or lease_until <= now())
            order by next_check_at limit ${room} for update skip locked) due
      where o.id = due.id
      returning o.id, o.lease_token`
    for (const c of claimed) void this.track(c.id, async () => await this.resume(c.id, c.lease_token)).then(() => this.collect(c.id))
    return claimed.length
  }

  /**
   * A supplier said something about this order: look now, in this process if the order is
   * free, otherwise ask whoever holds it (or the poller) to look as soon as it is released.
   */
  async nudge (orderId: string): Promise<void> {
    const [claimed] = await this.o.sql<{ lease_token: string }[]>`
      update orders set lease_token = gen_random_uuid()::text, lease_until = now() + ${this.leaseMs()} * interval '1 millisecond',
                        next_check_at = now() + ${this.leaseMs()} * interval '1 millisecond'
      where id = ${orderId} and status = 'processing' and (lease_until is null or lease_until <= now())
      returning lease_token`
    if (claimed) {
      await this.track(orderId, async () => await this.resume(orderId, claimed.lease_token))
      this.collect(orderId)
      return
    }
    await this.o.sql`update orders set next_check_at = now() where id = ${orderId} and status = 'processing'`
  }

  /** Waits for the orders this process is driving (each call has its own deadline). */
  async drain (): Promise<void> {
    this.closing = true
    await Promise.all([...this.running.values()])
  }

  private async track (orderId: string, fn: () => Promise<void>): Promise<void> {
    const run = fn().catch((err: unknown) => {
      // The lease runs out and the reconciler resumes the order: nothing is lost, only late.
      this.o.log.error({ err, order: orderId }, 'fulfilment interrupted; the reconciler will resume the order')
    }).finally(() => {
      if (this.running.get(orderId) === run) this.running.delete(orderId)
    })
    this.running.set(orderId, run)
    await run
  }

  private async routing (sku: string): Promise<Pick<Driving, 'fulfilment' | 'lowStockThreshold' | 'delivery'>> {
    const [row] = await this.o.sql<{ fulfilment: Fulfilment, low_stock_threshold: number | null, delivery: Driving['delivery'] }[]>`
      select fulfilment, low_stock_threshold, delivery from skus where sku = ${sku}`
    if (!row) throw new Error(`sku ${sku} vanished`)
    return { fulfilment: row.fulfilment, lowStockThreshold: row.low_stock_threshold, delivery: row.delivery }
  }

  /** Picks an order up where it was left: settle its open attempt first, then go on routing. */
  private async resume (orderId: string, token: string): Promise<void> {
    const order = await getOrder(this.o.sql, orderId)
    if (!order || order.status !== 'processing') return
    const d: Driving = { order, token, ...await this.routing(order.sku) }
    const attempts = await this.o.sql<AttemptRow[]>`
      select id, supplier_id, status, supplier_order_id, created_at from supplier_attempts where order_id = ${orderId} order by id`
    const open = attempts.find((a) => OPEN.includes(a.status))
    if (open) {
      const executor = this.o.suppliers.get(open.supplier_id)
      if (!executor) {
        this.o.log.error({ order: orderId, supplier: open.supplier_id }, 'open attempt at a supplier this process cannot run')
        await this.park(d, open.id, 'unknown', null, null, 0)
        return
      }
      if (open.status === 'submitting') {
        // Its driver stopped between writing the attempt and recording the answer (a crash).
        this.o.log.warn({ order: orderId, attempt: open.id, supplier: open.supplier_id }, 'taking over an order left mid-call; asking the supplier what happened')
      }
      const outcome = await executor.query(open.id)
      const attempt = { id: open.id, createdAt: toDate(open.created_at)?.getTime() ?? 0, acknowledged: open.status === 'pending' || open.supplier_order_id !== null }
      if (await this.settle(d, attempt, executor, outcome, true) === 'done') return
    }
    // Routes not yet tried, in the SKU's current order (an operator may have changed it).
    const tried = new Set(attempts.map((a) => a.supplier_id))
    const steps = chooseRoutes(d.fulfilment, this.o.suppliers.health()).filter((s) => s.kind === 'card_pool' || !tried.has(s.route.supplier))
    await this.walk(d, steps, undefined)
  }

  /** `opened`: the first step's attempt, already written with the order (PlacedOrder.fulfil). */
  private async walk (d: Driving, steps: Step[], lastFailure: Failure | undefined, opened?: string): Promise<void> {
    let failure = lastFailure
    for (const step of steps) {
      if (step.kind === 'card_pool') {
        const sold = await this.finishFromPool(d)
        if (sold !== 'out_of_stock') return
        failure = { code: 'out_of_stock', message: 'the product is out of stock' }
        continue
      }
      const written = opened
      opened = undefined
      const executor = this.o.suppliers.get(step.route.supplier)
      if (!executor) {
        // Removed since the order was accepted: its attempt was never sent.
        if (written !== undefined) await this.closeAttempt(written, 'failed', { status: 'failed', retryable: true, code: 'supplier_unavailable', message: 'supplier removed before the call', latencyMs: 0 }, 0)
        continue
      }
      const attemptId = written ?? newId('att')
      if (written === undefined && !await this.openAttempt(d, attemptId, step.route, executor)) return
      const attempt = { id: attemptId, createdAt: Date.now(), acknowledged: false }
      const outcome = await executor.purchase({
        reference: attemptId,
        supplierProductId: step.route.supplier_product_id,
        supplierParams: step.route.supplier_params ?? {},
        quantity: d.order.quantity,
        recipient: d.order.recipient
      })
      if (await this.settle(d, attempt, executor, outcome, false) === 'done') return
      failure = failureOf(outcome)
    }
    await this.finishFailed(d, failure ?? { code: 'supplier_rejected', message: 'no supplier could fulfil the order' })
  }

  /**
   * Applies one supplier answer. `continue` means the attempt ended without delivering and
   * without possibly delivering later, so the next route may be tried.
   */
  private async settle (d: Driving, attempt: AttemptContext, executor: SupplierExecutor, outcome: Outcome, viaQuery: boolean): Promise<'done' | 'continue'> {
    const attemptId = attempt.id
    const queries = viaQuery ? 1 : 0
    switch (outcome.status) {
      case 'succeeded':
        if (d.delivery === 'card_key' && outcome.codes.length < d.order.quantity) {
          // Charged for codes we do not have: keep asking the supplier for them.
          this.o.log.warn({ order: d.order.id, attempt: attemptId, supplier: executor.settings.id, codes: outcome.codes.length, quantity: d.order.quantity },
            'supplier reports success without every code; asking again later')
          await this.park(d, attemptId, 'pending', outcome.supplierOrderId, viaQuery ? null : outcome.latencyMs, queries)
          return 'done'
        }
        await this.finishSucceeded(d, attemptId, outcome, queries)
        return 'done'
      case 'pending':
        await this.park(d, attemptId, 'pending', outcome.supplierOrderId, viaQuery ? null : outcome.latencyMs, queries)
        return 'done'
      case 'failed':
        if (!outcome.retryable) {
          await this.finishFailed(d, failureOf(outcome), { attemptId, outcome, queries })
          return 'done'
        }
        await this.closeAttempt(attemptId, 'failed', outcome, queries)
        return 'continue'
      case 'not_found': {
        // "No such order" is believed only when it cannot be a supplier that has not caught
        // up yet: never for an order it acknowledged, and not before the attempt is old
        // enough for the request to have landed (suppliers' look-ups can lag behind their
        // intake). Believed too early, it would let another supplier deliver the same order.
        const trustAfterMs = executor.adapter.notFoundTrustedAfterMs ?? 2 * executor.settings.timeoutMs
        if (attempt.acknowledged || Date.now() - attempt.createdAt < trustAfterMs) {
          if (attempt.acknowledged) {
            this.o.log.warn({ order: d.order.id, attempt: attemptId, supplier: executor.settings.id }, 'supplier says it has no order it acknowledged; asking again later')
          }
          await this.park(d, attemptId, 'unknown', null, null, queries)
          return 'done'
        }
        await this.closeAttempt(attemptId, 'not_found', outcome, queries)
        return 'continue'
      }
      case 'unknown':
        // Never try another supplier while this one may still deliver: ask it first.
        if (!viaQuery) {
          await this.o.sql`update supplier_attempts set status = 'unknown', latency_ms = ${outcome.latencyMs}, updated_at = now() where id = ${attemptId} and status = 'submitting'`
          return await this.settle(d, attempt, executor, await executor.query(attemptId), true)
        }
        await this.park(d, attemptId, 'unknown', null, null, queries)
        return 'done'
    }
  }

  /** Writes the attempt before the call, renewing our lease to outlast it; false when the lease is gone. */
  private async openAttempt (d: Driving, attemptId: string, route: Route, executor: SupplierExecutor): Promise<boolean> {
    const lease = this.leaseMs(executor.settings.timeoutMs)
    const insert = async (tx: postgres.Sql | postgres.TransactionSql): Promise<boolean> => (await tx`
      with lease as (
        update orders set lease_until = now() + ${lease} * interval '1 millisecond', next_check_at = now() + ${lease} * interval '1 millisecond'
        where id = ${d.order.id} and status = 'processing' and lease_token = ${d.token}
        returning id)
      ${insertAttempt(tx, { id: attemptId, route, quantity: d.order.quantity }, tx`lease`)}`).length === 1
    const limit = executor.adapter.purchaseLimit
    if (!limit) return await insert(this.o.sql)
    // The supplier counts arrivals, we count inserts: a request leaves a few milliseconds
    // after its row, by an amount that varies, so the window we keep is a little longer.
    const windowMs = limit.windowMs + Math.max(100, Math.ceil(limit.windowMs / 10))
    // The supplier's limit holds for our account, whichever process calls: attempts are
    // counted in the database under a per-supplier lock (created_at is the clock at insert,
    // not the transaction start, so the window is exact), and a caller over the limit waits
    // for the oldest attempt in the window to age out. If its lease runs out meanwhile, the
    // insert finds the token gone (another process took over) or renews it.
    for (;;) {
      const waitMs = await this.o.sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext('supplier_purchase_limit'), hashtext(${route.supplier}))`
        const [window] = await tx<{ n: number, wait_ms: number | null }[]>`
          select count(*)::int as n,
                 ceil(extract(epoch from (min(created_at) + ${windowMs} * interval '1 millisecond' - clock_timestamp())) * 1000)::int as wait_ms
          from supplier_attempts
          where supplier_id = ${route.supplier} and created_at > clock_timestamp() - ${windowMs} * interval '1 millisecond'`
        if ((window?.n ?? 0) < limit.max) return await insert(tx) ? 0 : -1
        return Math.max(1, window?.wait_ms ?? windowMs)
      })
      if (waitMs === 0) return true
      if (waitMs < 0) return false
      this.o.log.debug({ order: d.order.id, supplier: route.supplier, wait_ms: waitMs }, 'supplier purchase limit reached; waiting for the window')
      await sleep(waitMs)
    }
  }

  /** Leaves the order `processing`, released, for the poller to query again later. */
  private async park (d: Driving, attemptId: string, status: 'pending' | 'unknown', supplierOrderId: string | null, latencyMs: number | null, queries: number): Promise<void> {
    await this.o.sql.begin(async (tx) => {
      // A supplier that acknowledged the order stays `pending` through a failed or empty
      // query: resume reads the acknowledgement from it, and "not found" must never be
      // believed of an acknowledged order, whether or not it gave us its order id.
      await tx`
        update supplier_attempts set status = case when status = 'pending' then 'pending' else ${status}::supplier_attempt_status end,
          supplier_order_id = coalesce(${supplierOrderId}, supplier_order_id),
          latency_ms = coalesce(latency_ms, ${latencyMs}), queries = queries + ${queries}, updated_at = now()
        where id = ${attemptId} and status in ('submitting', 'pending', 'unknown')`
      await tx`
        update orders set lease_token = null, lease_until = null,
          -- A supplier callback that came while we held the order asked for a look now (nudge).
          next_check_at = case when next_check_at <= now() then now() else now() + ${this.o.pollIntervalMs} * interval '1 millisecond' end
        where id = ${d.order.id} and status = 'processing' and lease_token = ${d.token}`
    })
  }

  private async closeAttempt (attemptId: string, status: 'failed' | 'not_found', outcome: Outcome, queries: number): Promise<void> {
    const failed = outcome.status === 'failed' ? outcome : null
    await this.o.sql`
      update supplier_attempts set status = ${status}, failure_code = ${failed?.code ?? null}, failure_message = ${failed?.message.slice(0, 500) ?? null},
        retryable = ${failed?.retryable ?? null}, latency_ms = coalesce(latency_ms, ${outcome.latencyMs}), queries = queries + ${queries},
        completed_at = now(), updated_at = now()
      where id = ${attemptId} and status in ('submitting', 'pending', 'unknown')`
  }

  /** The finishing transaction's first step: final status, only while we hold the lease. */
  private async finishOrder (tx: postgres.TransactionSql, d: Driving, status: 'succeeded' | 'failed', failure: Failure | null): Promise<OrderRecord | undefined> {
    const [row] = await tx.unsafe(`
      update orders set status = $3, failure = $4::jsonb, completed_at = now(), lease_token = null, lease_until = null, next_check_at = null
      where id = $1 and status = 'processing' and lease_token = $2
      returning ${ORDER_COLUMNS}`, [d.order.id, d.token, status, failure === null ? null : JSON.stringify(failure)], { prepare: true })
    return row ? toOrder(row) : undefined
  }

  /**
   * The finish in one statement (one write, one commit): the order's final status only while
   * we hold the lease, and the attempt, the deliveries and the outbox row only when that
   * matched. A lost lease changes nothing: another process drives the order now and settles
   * the attempt the same way. The callback's completed_at is set in SQL, from the order row
   * as finished.
   */
  private async finishSucceeded (d: Driving, attemptId: string, outcome: Extract<Outcome, { status: 'succeeded' }>, queries: number): Promise<void> {
    const deliveries: Delivery[] = outcome.codes.length === 0
      ? [{ type: 'direct_recharge', reference: attemptId }]
      : outcome.codes.map((c) => ({ type: 'card_key', code: c.code, pin: c.pin, serial: c.serial, expiresAt: expiryOf(c.expiresAt) }))
    const rows = supplierDeliveryRows(this.o.keyring, { attemptId, codes: outcome.codes })
    const payload = outcomePayload({ ...d.order, status: 'succeeded', failure: null, completedAt: null }, deliveries)
    const [row] = await this.o.sql.unsafe(FINISH_SUCCEEDED, [
      d.order.id, d.token, attemptId, outcome.supplierOrderId, outcome.latencyMs, queries,
      JSON.stringify(rows), newId('evt'), JSON.stringify(payload), this.o.firstCallbackDelayMs
    ], { prepare: true })
    if (!row) return
    this.finished.set(d.order.id, { order: toOrder(row), deliveries })
  }

  /** Fails the order and refunds it in full, in one transaction. */
  private async finishFailed (d: Driving, failure: Failure, attempt?: { attemptId: string, outcome: Outcome, queries: number }): Promise<void> {
    await this.o.sql.begin(async (tx) => {
      const order = await this.finishOrder(tx, d, 'failed', failure)
      if (!order) return
      if (attempt) {
        const f = attempt.outcome.status === 'failed' ? attempt.outcome : null
        await tx`
          update supplier_attempts set status = 'failed', failure_code = ${f?.code ?? null}, failure_message = ${f?.message.slice(0, 500) ?? null},
            retryable = false, latency_ms = coalesce(latency_ms, ${attempt.outcome.latencyMs}), queries = queries + ${attempt.queries},
            completed_at = now(), updated_at = now()
          where id = ${attempt.attemptId}`
      }
      await refund(tx, order)
      await writeOutcomeEvent(tx, order, [], this.o.firstCallbackDelayMs)
      this.finished.set(order.id, { order, deliveries: [] })
    })
    this.o.log.info({ order: d.order.id, failure: failure.code }, 'order failed and refunded')
  }

  private async finishFromPool (d: Driving): Promise<'sold' | 'lost' | 'out_of_stock'> {
    let lowStock: LowStock | null = null
    try {
      const result = await this.o.sql.begin(async (tx) => {
        const order = await this.finishOrder(tx, d, 'succeeded', null)
        if (!order) return 'lost' as const
        const sale = await sellCardKeys(tx, { sku: order.sku, quantity: order.quantity, orderId: order.id, lowStockThreshold: d.lowStockThreshold })
        await writeOutcomeEvent(tx, order, sale.keys.map((k) => ({ type: 'card_key' as const, expiresAt: k.expiresAt })), this.o.firstCallbackDelayMs)
        lowStock = sale.lowStock
        this.finished.set(order.id, { order, deliveries: poolDeliveries(this.o.keyring, sale.keys) })
        return 'sold' as const
      })
      reportLowStock(this.o.log, lowStock)
      return result
    } catch (err) {
      if (err instanceof InsufficientStockError) return 'out_of_stock'
      throw err
    }
  }
}
