import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type postgres from 'postgres'
import { credit, debit, debitOneBucket } from '../balance/buckets.js'
import type { Keyring } from '../crypto/keyring.js'
import { allocateCardKeysQuery, allocatedKeys, openCardKey, type AllocatedCardKey, type SealedCardKey } from '../db/repositories/card-keys.js'
import { newId } from '../domain/ids.js'
import { inOrder, oneWriteTransaction, pipelinedTransaction, requireFailure, type TxSql } from '../db/pipelined.js'
import { toDate } from '../db/timestamps.js'
import { canonicalJson } from '../domain/orders/canonical.js'
import { chooseRoutes, type Step, type SupplierHealth } from '../domain/routing/choose-routes.js'
import { recipientProblems } from '../domain/orders/recipient.js'
import { InsufficientStockError } from '../domain/pool/errors.js'
import { recipientKey, refusalOf, secondsToNextUtcDay, type RiskRule, type RuleDecision } from '../domain/risk/rules.js'
import { GatewayError } from '../errors/gateway-error.js'
import { lowStockAfterSale, reportLowStock, sellCardKeys, type LowStock } from '../pool/sell.js'
import { deliveryFields, orderFields } from './present.js'
import { skuPrice, type Buyer, type SkuPrice } from './catalog.js'
import type { CatalogCache, OrderTerms } from './catalog-cache.js'
import { replayedRequest, type NonceClaim } from '../db/repositories/resellers.js'
import { applicableRules, screenOrder } from './risk.js'
import { insertAttempt, type NewAttempt } from './attempts.js'

export interface OrderRequest {
  client_order_id: string
  sku: string
  quantity: number
  recipient: Record<string, string>
  max_unit_price?: number | undefined
  callback_url?: string | undefined
}

export interface OrderRecord {
  id: string
  resellerId: string
  clientOrderId: string
  sku: string
  quantity: number
  recipient: Record<string, string>
  unitPrice: number
  amount: number
  currency: string
  status: 'processing' | 'succeeded' | 'failed' | 'pending_review'
  failure: { code: string, message: string } | null
  callbackUrl: string | null
  createdAt: Date
  completedAt: Date | null
}

export interface CardKeyDelivery {
  cardKeyId: string
  code: string
  pin: string | null
  serial: string | null
  expiresAt: Date | null
}

export const ORDER_COLUMNS = `id, reseller_id, client_order_id, sku, quantity, recipient, unit_price, amount, currency, status, failure,
  callback_url, created_at, completed_at, request_hash`

export function toOrder (r: Record<string, unknown>): OrderRecord {
  return {
    id: r.id as string,
    resellerId: r.reseller_id as string,
    clientOrderId: r.client_order_id as string,
    sku: r.sku as string,
    quantity: r.quantity as number,
    recipient: r.recipient as Record<string, string>,
    unitPrice: Number(r.unit_price),
    amount: Number(r.amount),
    currency: r.currency as string,
    status: r.status as OrderRecord['status'],
    failure: r.failure as OrderRecord['failure'],
    callbackUrl: r.callback_url as string | null,
    createdAt: toDate(r.created_at) as Date,
    completedAt: toDate(r.completed_at)
  }
}

export function requestHash (request: OrderRequest): Buffer {
  return createHash('sha256').update(canonicalJson(request)).digest()
}

/*
 * Every parameterised sql.unsafe() here says `prepare: true`: postgres.js sends unsafe text
 * unprepared by default, which asks the server for the parameter types first (a round trip
 * of its own) and holds back every later statement on that connection until the answer is
 * in, so nothing pipelines behind it. The texts are constants; preparing them is safe.
 */
async function existing (sql: postgres.Sql | TxSql, resellerId: string, clientOrderId: string): Promise<{ order: OrderRecord, hash: Buffer } | undefined> {
  const [row] = await sql.unsafe(`select ${ORDER_COLUMNS} from orders where reseller_id = $1 and client_order_id = $2`, [resellerId, clientOrderId], { prepare: true })
  return row ? { order: toOrder(row), hash: row.request_hash as Buffer } : undefined
}

function replay (found: { order: OrderRecord, hash: Buffer }, hash: Buffer): PlacedOrder {
  if (!found.hash.equals(hash)) {
    throw new GatewayError('idempotency_conflict', { detail: `client_order_id ${found.order.clientOrderId} was used for a different request (order ${found.order.id})` })
  }
  return { order: found.order, created: false, keys: [] }
}

export interface PlaceOrderDeps {
  sql: postgres.Sql
  log: { warn: (obj: object, msg: string) => void, info: (obj: object, msg: string) => void }
  /** When the first callback attempt is due after the outcome (WEBHOOK_RETRY_SCHEDULE[0]). */
  firstCallbackDelayMs: number
  /** Live state of the supplier instances, for routing. */
  supplierHealth: () => Readonly<Record<string, SupplierHealth | undefined>>
  /** How long the accepting process holds a supplier-routed order before others may take it. */
  leaseMs: number
  /** Price and rule look-ups kept between orders; without it every order reads them. */
  catalog?: CatalogCache | undefined
  /**
   * Whether the first attempt at this supplier may be written in the accepting transaction
   * (one commit fewer before the call); false where the engine must write it itself, under
   * the supplier's purchase limit, or when this process cannot call the supplier.
   */
  attemptWithOrder?: ((supplier: string) => boolean) | undefined
}

export interface PlacedOrder {
  order: OrderRecord
  created: boolean
  /** Keys sold by this call (new pool orders only); others read theirs with orderDeliveries. */
  keys: AllocatedCardKey[]
  /**
   * A new order accepted for supplier fulfilment: the plan to walk, our lease on it, its SKU's
   * routing as read, and the first step's attempt when it was written with the order.
   */
  fulfil?: { steps: Step[], leaseToken: string, sku: { fulfilment: SkuPrice['fulfilment'], lowStockThreshold: number | null, delivery: 'card_key' | 'direct_recharge' }, attemptId?: string }
}

/** Where the order came from, beside what it asks for (not part of the idempotent request). */
export interface OrderOrigin {
  /** The caller's address as the edge saw it: stored on the order, and checked by IP rules. */
  clientIp: string | null
  /** A signed request's nonce, recorded in the same write as the order's first statements. */
  nonce?: NonceClaim | undefined
}

/**
 * Accepts an order. Card-pool first: the order row, the keys, the debit and its ledger entry
 * commit together or not at all, so a refused order (no stock, no money) leaves nothing
 * behind and charges nothing. Supplier routes: the order is accepted `processing` with the
 * debit, and the caller drives the returned plan. Risk rules screen the order in either
 * accepting transaction, before the debit (see screenOrder): a refusal rolls it back, a hold
 * accepts it `pending_review`, charged and left for an operator. The same client_order_id
 * with the same request returns the first order; concurrent duplicates wait on the unique
 * index and then find it.
 */
export async function placeOrder (deps: PlaceOrderDeps, buyer: Buyer, request: OrderRequest, origin: OrderOrigin): Promise<PlacedOrder> {
  const hash = requestHash(request)
  // One connection for the look-ups and the common accept (see src/db/pipelined.ts): the
  // look-ups go out in one write, and the accept in one or two. It is released before any
  // slower path, which takes a connection of its own through sql.begin().
  const conn = await deps.sql.reserve()
  let a: Accept
  let slow: Slow
  try {
    const cached = deps.catalog?.get(buyer, request.sku)
    if (cached) {
      // The nonce's insert goes out first, in the accept's write; the accept checks it before COMMIT.
      const placed = await placeCached(conn, deps, buyer, request, origin, hash, cached, origin.nonce?.claim(conn))
      if (placed) return placed
    }
    const generation = deps.catalog?.current()
    // A replay answers with the stored order whatever the catalog says now, so its look-up
    // decides before the price and the rules are used. The version is read first: terms
    // cached under it can only be older than the version, never newer.
    const [fresh, version, prior, sku, rules] = await Promise.all([
      origin.nonce?.claim(conn), catalogVersion(conn), existing(conn, buyer.id, request.client_order_id), skuPrice(conn, buyer, request.sku), applicableRules(conn, request.sku, buyer.id)
    ])
    if (fresh === false) throw replayedRequest()
    if (prior) return replay(prior, hash)
    if (!sku) throw new GatewayError('not_found', { detail: `no product ${request.sku}` })
    if (generation !== undefined) deps.catalog?.set(buyer, { sku, rules, version }, generation)
    let steps: Step[]
    ({ a, steps } = accept(deps, buyer, request, origin, hash, sku, rules))
    const fast = await acceptPipelined(conn, a, steps)
    if (fast === 'stale') throw new Error('stale catalog without cached terms')
    if ('order' in fast) return fast
    slow = fast
  } finally {
    conn.release()
  }
  if (slow.path === 'suppliers') return await acceptForSuppliers(a, slow.steps)
  try {
    return await acceptFromPool(a)
  } catch (err) {
    return await acceptForSuppliers(a, afterEmptyPool(a, slow.steps, err))
  }
}

/**
 * The pool went first and had nothing: the suppliers after it are the plan, or, with none,
 * `sku_unavailable`. Any other error is rethrown.
 */
function afterEmptyPool (a: Accept, steps: Step[], err: unknown): Step[] {
  if (!(err instanceof InsufficientStockError)) throw err
  if (steps.length === 1) throw new GatewayError('sku_unavailable', { detail: `${a.sku.sku} is out of stock`, internal: err.message })
  return steps.slice(1)
}

/** The order's checks against its SKU and price, and its routing now; throws the refusal. */
function accept (deps: PlaceOrderDeps, buyer: Buyer, request: OrderRequest, origin: OrderOrigin, hash: Buffer, sku: SkuPrice, rules: RiskRule[]): { a: Accept, steps: Step[] } {
  if (request.quantity > sku.maxQuantity) {
    throw new GatewayError('invalid_request', { detail: `at most ${sku.maxQuantity} per order`, errors: [{ path: 'body.quantity', message: `at most ${sku.maxQuantity} for this product` }] })
  }
  const problems = recipientProblems(sku.recipientType, request.recipient)
  if (problems.length > 0) throw new GatewayError('recipient_invalid', { detail: `this product needs a ${sku.recipientType} recipient`, errors: problems })
  if (request.max_unit_price !== undefined && request.max_unit_price < sku.price) {
    throw new GatewayError('price_changed', { detail: `unit price is ${sku.price}, above max_unit_price ${request.max_unit_price}` })
  }
  const steps = chooseRoutes(sku.fulfilment, deps.supplierHealth())
  if (steps.length === 0) {
    throw new GatewayError('sku_unavailable', { detail: `${sku.sku} has no route that can fulfil it now` })
  }
  const a: Accept = {
    deps, buyer, request, sku, hash, id: newId('ord'), amount: sku.price * request.quantity, rules,
    clientIp: origin.clientIp, recipientKey: recipientKey(request.recipient)
  }
  return { a, steps }
}

/**
 * The common order from cached terms: no look-up round trip. Anything off that path (a
 * refusal by the cached terms, which a replay of an earlier order must not get; a risk rule;
 * a change to the catalog since; a client_order_id taken; no single bucket able to pay)
 * answers undefined, and the order is placed from fresh look-ups instead.
 */
async function placeCached (conn: postgres.ReservedSql, deps: PlaceOrderDeps, buyer: Buyer, request: OrderRequest, origin: OrderOrigin, hash: Buffer, terms: OrderTerms, fresh: Promise<boolean> | undefined): Promise<PlacedOrder | undefined> {
  const checkNonce = async (): Promise<undefined> => {
    if (await fresh === false) throw replayedRequest()
  }
  if (terms.rules.length > 0) return await checkNonce()
  let prepared: ReturnType<typeof accept>
  try {
    prepared = accept(deps, buyer, request, origin, hash, terms.sku, terms.rules)
  } catch (err) {
    if (err instanceof GatewayError) return await checkNonce()
    throw err
  }
  prepared.a.fresh = fresh
  const placed = await acceptPipelined(conn, prepared.a, prepared.steps, terms.version)
  return placed !== 'stale' && 'order' in placed ? placed : undefined
}

async function catalogVersion (sql: postgres.Sql | TxSql): Promise<number> {
  const [row] = await sql<{ version: string }[]>`select version from catalog_version where id = 1`
  return Number(row?.version ?? 0)
}

/** Where an order goes when the pipelined accept cannot take it: risk rules apply, or no single bucket can pay. */
type Slow = { path: 'pool' | 'suppliers', steps: Step[] }

/**
 * The common accept (no risk rule applies) on the look-ups' connection: from the pool when
 * it goes first (falling through to the suppliers when it is empty), else for the suppliers.
 */
async function acceptPipelined (conn: postgres.ReservedSql, a: Accept, steps: Step[], version?: number): Promise<PlacedOrder | Slow | 'stale'> {
  let supplierSteps = steps
  if (steps[0]?.kind === 'card_pool') {
    if (a.rules.length > 0) return { path: 'pool', steps }
    try {
      const placed = await acceptFromPoolPipelined(conn, a, version)
      return placed === 'slow_debit' ? { path: 'pool', steps } : placed
    } catch (err) {
      supplierSteps = afterEmptyPool(a, steps, err)
    }
  }
  if (a.rules.length > 0) return { path: 'suppliers', steps: supplierSteps }
  const placed = await acceptForSuppliersPipelined(conn, a, supplierSteps, version)
  return placed === 'slow_debit' ? { path: 'suppliers', steps: supplierSteps } : placed
}

interface Accept {
  deps: PlaceOrderDeps
  buyer: Buyer
  request: OrderRequest
  sku: SkuPrice
  hash: Buffer
  id: string
  amount: number
  rules: RiskRule[]
  clientIp: string | null
  recipientKey: string | null
  /** Whether a signed request's nonce was fresh, when its insert went out with the accept. */
  fresh?: Promise<boolean> | undefined
}

/** A concurrent request with the same client_order_id committed first: roll back, answer with its order. */
class Raced extends Error {}

/**
 * The accepting transaction: risk rules first, then `accept` (the path's own inserts,
 * sale and debit) unless a rule refuses (rolled back, 403/429) or holds the order.
 */
async function accepting (a: Accept, accept: (tx: postgres.TransactionSql, decisions: RuleDecision[]) => Promise<PlacedOrder>): Promise<PlacedOrder> {
  const { deps, buyer, request } = a
  try {
    return await deps.sql.begin(async (tx) => {
      if (a.rules.length === 0) return await accept(tx, [])
      const screening = await screenOrder(tx, a.rules, { resellerId: buyer.id, amount: a.amount, recipientKey: a.recipientKey, clientIp: a.clientIp })
      if (screening.refusedBy) {
        // A duplicate of this request may have committed while we waited for a rule's lock;
        // then it is the answer, not a refusal.
        if (await existing(tx, buyer.id, request.client_order_id)) throw new Raced()
        const d = screening.refusedBy
        deps.log.info({ reseller: buyer.id, sku: a.sku.sku, rule: d.rule_id, kind: d.kind, measured: d.measured }, 'order refused by a risk rule')
        const refusal = refusalOf(d)
        throw new GatewayError(refusal.code, {
          detail: refusal.detail,
          ...(refusal.code === 'quota_exceeded' ? { headers: { 'retry-after': String(secondsToNextUtcDay(new Date())) } } : {})
        })
      }
      if (!screening.hold) return await accept(tx, screening.decisions)
      // Held: charged now (the reseller's money is committed to it), fulfilled only once approved.
      const order = await insertOrder(tx, a, screening.decisions, { status: 'pending_review' })
      await charge(tx, a)
      const hits = screening.decisions.filter((d) => d.hit)
      deps.log.info({ order: order.id, reseller: buyer.id, rules: hits.map((d) => d.rule_id), kinds: hits.map((d) => d.kind) }, 'order held for review')
      return { order, created: true, keys: [] }
    })
  } catch (err) {
    if (!(err instanceof Raced)) throw err
    return replayRaced(await existing(deps.sql, buyer.id, request.client_order_id), a.hash)
  }
}

/**
 * Inserts the order with its risk decisions, caller address and recipient key. A lease is
 * taken for supplier-routed orders (the accepting process drives them); card-pool orders
 * are inserted finished. Throws Raced when the client_order_id is taken.
 */
function insertOrderQuery (tx: TxSql, a: Accept, decisions: RuleDecision[], state: { status: 'succeeded' | 'processing' | 'pending_review', leaseToken?: string }): postgres.PendingQuery<postgres.Row[]> {
  const { buyer, request, sku } = a
  const leaseMs = state.leaseToken === undefined ? null : a.deps.leaseMs
  return tx`
    insert into orders (id, reseller_id, client_order_id, request_hash, sku, quantity, recipient, unit_price, amount, currency,
                        status, callback_url, completed_at, lease_token, lease_until, next_check_at, client_ip, recipient_key, risk)
    values (${a.id}, ${buyer.id}, ${request.client_order_id}, ${a.hash}, ${sku.sku}, ${request.quantity}, ${JSON.stringify(request.recipient)}::jsonb,
            ${sku.price}, ${a.amount}, ${sku.currency}, ${state.status}, ${request.callback_url ?? null},
            case when ${state.status === 'succeeded'}::boolean then now() end, ${state.leaseToken ?? null},
            now() + ${leaseMs}::int * interval '1 millisecond', now() + ${leaseMs}::int * interval '1 millisecond',
            ${a.clientIp}, ${a.recipientKey}, ${JSON.stringify(decisions)}::jsonb)
    on conflict (reseller_id, client_order_id) do nothing
    returning ${tx.unsafe(ORDER_COLUMNS)}`
}

async function insertOrder (tx: postgres.TransactionSql, a: Accept, decisions: RuleDecision[], state: { status: 'succeeded' | 'processing' | 'pending_review', leaseToken?: string }): Promise<OrderRecord> {
  const [inserted] = await insertOrderQuery(tx, a, decisions, state)
  if (!inserted) throw new Raced()
  return toOrder(inserted)
}

/** Debit and its ledger entry, in the accepting transaction. A free product moves no money. */
async function charge (tx: postgres.TransactionSql, a: Accept): Promise<void> {
  if (a.amount === 0) return
  if (!await debit(tx, a.buyer.id, a.amount)) {
    throw new GatewayError('insufficient_balance', { detail: `balance plus credit limit is below the order amount ${a.amount}` })
  }
  await ledgerDebit(tx, a)
}

/** The order's debit in the ledger; written only once the order row exists in the transaction. */
function ledgerDebit (tx: TxSql, a: Accept): postgres.PendingQuery<postgres.Row[]> {
  return tx`
    insert into ledger_entries (reseller_id, kind, amount, currency, order_id)
    select ${a.buyer.id}, 'order_debit', ${-a.amount}, ${a.sku.currency}, ${a.id} where exists (select 1 from orders where id = ${a.id})`
}

/** Gives a failed order's amount back, with its ledger entry, in the transaction that fails it. */
export async function refund (tx: postgres.TransactionSql, order: OrderRecord): Promise<void> {
  if (order.amount === 0) return
  await credit(tx, order.resellerId, order.amount)
  await tx`insert into ledger_entries (reseller_id, kind, amount, currency, order_id) values (${order.resellerId}, 'order_refund', ${order.amount}, ${order.currency}, ${order.id})`
}

/** A pool order screened by risk rules, or one no single balance bucket can pay: statement by statement. */
async function acceptFromPool (a: Accept): Promise<PlacedOrder> {
  const { deps, request, sku, id } = a
  let lowStock: LowStock | null = null
  const placed = await accepting(a, async (tx, decisions) => {
    const order = await insertOrder(tx, a, decisions, { status: 'succeeded' })
    const sale = await sellCardKeys(tx, { sku: sku.sku, quantity: request.quantity, orderId: id, lowStockThreshold: sku.lowStockThreshold })
    // Debit last, so the balance bucket it locks is held for as short a time as possible.
    await charge(tx, a)
    await writeOutcomeEvent(tx, order, sale.keys.map((k) => ({ type: 'card_key' as const, expiresAt: k.expiresAt })), deps.firstCallbackDelayMs)
    lowStock = sale.lowStock
    return { order, created: true, keys: sale.keys }
  })
  reportLowStock(deps.log, lowStock)
  return placed
}

/** The one-bucket debit found no bucket that could pay alone: the sequential path decides. */
class SlowDebit extends Error {}

/** Tries of the one-bucket debit in a pipelined accept before the sequential path takes over. */
const DEBIT_TRIES = 4

/**
 * The pipelined debit found every bucket that can pay held by concurrent orders (each holds
 * one until its commit, a round trip away): try again in this transaction, briefly, rather
 * than roll back and start over statement by statement, which at 32 connections of one
 * reseller took a third of the orders. Never waiting on a bucket's lock (SKIP LOCKED) keeps
 * the fast path deadlock-free against transactions that lock every bucket in order.
 * Throws SlowDebit when no single bucket can pay, or none came free.
 */
async function debitAgain (tx: TxSql, a: Accept): Promise<void> {
  for (let attempt = 1; attempt < DEBIT_TRIES; attempt++) {
    await sleep(attempt - 1)
    if ((await debitOneBucket(tx, a.buyer.id, a.amount)).length === 1) return
  }
  throw new SlowDebit()
}

/** The catalog changed since the order's cached terms were read: roll back, look up again. */
class Stale extends Error {}

/** In a pipelined accept: the catalog version, when the order was checked against cached terms. */
function versionCheck (tx: TxSql, version: number | undefined): Promise<number> | undefined {
  return version === undefined ? undefined : catalogVersion(tx)
}

/**
 * The common pool order (no risk rule applies) in two writes instead of seven: BEGIN, the
 * order insert, the key allocation, the one-bucket debit and its ledger row go out together
 * and are answered together, then COMMIT (pipelinedTransaction). None waits on another's
 * answer, because every shortfall rolls the whole transaction back: a client_order_id
 * already taken, too few keys, or no single bucket able to pay (then the sequential path,
 * which can consolidate buckets, runs instead). Measured with `npm run bench -- orders`.
 */
async function acceptFromPoolPipelined (conn: postgres.ReservedSql, a: Accept, version?: number): Promise<PlacedOrder | 'slow_debit' | 'stale'> {
  const { deps, buyer, request, sku, id } = a
  const sale = { sku: sku.sku, quantity: request.quantity, orderId: id }
  let lowStock: LowStock | null = null
  try {
    const placed = await pipelinedTransaction(conn, async (tx) => {
      const checking = versionCheck(tx, version)
      const inserting = insertOrderQuery(tx, a, [], { status: 'succeeded' }).execute()
      const allocating = allocateCardKeysQuery(tx, sale).execute()
      const debiting = a.amount > 0 ? debitOneBucket(tx, buyer.id, a.amount).execute() : undefined
      const ledger = a.amount > 0 ? ledgerDebit(tx, a).execute() : undefined
      const [fresh, current, inserted, allocated, debited] = await Promise.all([a.fresh, checking, inserting, allocating, debiting, ledger])
      if (fresh === false) throw replayedRequest()
      if (current !== version) throw new Stale()
      if (!inserted[0]) throw new Raced()
      const keys = allocatedKeys(allocated, sale)
      if (debited?.length === 0) await debitAgain(tx, a)
      const order = toOrder(inserted[0])
      if (sku.lowStockThreshold !== null) lowStock = await lowStockAfterSale(tx, sku.sku, request.quantity, sku.lowStockThreshold)
      // No callback URL on the order nor on the reseller: no outbox row, no statement.
      if (request.callback_url !== undefined || buyer.callbackUrl !== null) {
        await writeOutcomeEvent(tx, order, keys.map((k) => ({ type: 'card_key' as const, expiresAt: k.expiresAt })), deps.firstCallbackDelayMs)
      }
      return { order, created: true, keys }
    })
    reportLowStock(deps.log, lowStock)
    return placed
  } catch (err) {
    if (err instanceof SlowDebit) return 'slow_debit'
    if (err instanceof Stale) return 'stale'
    if (err instanceof Raced) return replayRaced(await existing(conn, buyer.id, request.client_order_id), a.hash)
    throw err
  }
}

function fulfilPlan (a: Accept, steps: Step[], leaseToken: string, attemptId?: string): NonNullable<PlacedOrder['fulfil']> {
  return {
    steps,
    leaseToken,
    sku: { fulfilment: a.sku.fulfilment, lowStockThreshold: a.sku.lowStockThreshold, delivery: a.sku.delivery as 'card_key' | 'direct_recharge' },
    ...(attemptId === undefined ? {} : { attemptId })
  }
}

/** The first step's attempt, when it may go out with the order (PlaceOrderDeps.attemptWithOrder). */
function attemptWithOrder (a: Accept, steps: Step[]): NewAttempt | undefined {
  const first = steps[0]
  if (first?.kind !== 'supplier' || a.deps.attemptWithOrder?.(first.route.supplier) !== true) return undefined
  return { id: newId('att'), route: first.route, quantity: a.request.quantity }
}

/**
 * The common supplier accept in one write: BEGIN, the version check, the order insert, the
 * one-bucket debit, the ledger row, the first attempt and COMMIT (oneWriteTransaction). Its
 * shortfalls (the catalog changed, the client_order_id is taken, no single bucket can pay)
 * are raised by the statements, so the server rolls it all back. A signed request must see
 * its nonce's answer before COMMIT: its accept is a pipelinedTransaction, one write more.
 */
async function acceptForSuppliersPipelined (conn: postgres.ReservedSql, a: Accept, steps: Step[], version?: number): Promise<PlacedOrder | 'slow_debit' | 'stale'> {
  const leaseToken = randomUUID()
  const attempt = attemptWithOrder(a, steps)
  // In the order sent, so that the first failure is the one that decides (see inOrder).
  const send = async (tx: postgres.ReservedSql): Promise<postgres.Row[]> => {
    const [, inserted] = await inOrder([
      version === undefined ? undefined : tx`select egw_require(version = ${version}, 'stale') from catalog_version where id = 1`.execute(),
      insertOrderQuery(tx, a, [], { status: 'processing', leaseToken }).execute(),
      a.amount > 0
        ? tx`
            with debited as (${debitOneBucket(tx, a.buyer.id, a.amount)})
            select case when not exists (select 1 from orders where id = ${a.id}) then egw_require(false, 'raced')
                        else egw_require(exists (select 1 from debited), 'no_bucket') end`.execute()
        : tx`select egw_require(exists (select 1 from orders where id = ${a.id}), 'raced')`.execute(),
      a.amount > 0 ? ledgerDebit(tx, a).execute() : undefined,
      attempt ? insertAttempt(tx, attempt, tx`orders where id = ${a.id}`).execute() : undefined
    ] as const)
    return inserted
  }
  const placed = (inserted: postgres.Row[]): PlacedOrder =>
    ({ order: toOrder(inserted[0] as postgres.Row), created: true, keys: [], fulfil: fulfilPlan(a, steps, leaseToken, attempt?.id) })
  try {
    if (a.fresh === undefined) return placed(await oneWriteTransaction(conn, send))
    const fresh = a.fresh
    return await pipelinedTransaction(conn, async (tx) => {
      const answers = send(tx)
      // A replayed request is refused as such, whatever its statements met (its own order, say).
      answers.catch(() => {})
      if (await fresh === false) throw replayedRequest()
      return placed(await answers)
    })
  } catch (err) {
    const failed = requireFailure(err)
    if (failed === 'no_bucket') return 'slow_debit'
    if (failed === 'stale') return 'stale'
    if (failed === 'raced') return replayRaced(await existing(conn, a.buyer.id, a.request.client_order_id), a.hash)
    throw err
  }
}

/**
 * Accepts `processing` with the debit, leased to this process (the reconciler takes it over
 * if we die before finishing). Nothing is bought yet: a refusal here charges nothing.
 * Statement by statement: risk rules apply, or no single balance bucket can pay.
 */
async function acceptForSuppliers (a: Accept, steps: Step[]): Promise<PlacedOrder> {
  const leaseToken = randomUUID()
  return await accepting(a, async (tx, decisions) => {
    const order = await insertOrder(tx, a, decisions, { status: 'processing', leaseToken })
    await charge(tx, a)
    return { order, created: true, keys: [], fulfil: fulfilPlan(a, steps, leaseToken) }
  })
}

function replayRaced (raced: { order: OrderRecord, hash: Buffer } | undefined, hash: Buffer): PlacedOrder {
  if (!raced) throw new Error('order conflict without a row')
  return replay(raced, hash)
}

/**
 * The outbox row announcing an order's outcome, in the transaction that decides it: to the
 * order's callback URL, else the reseller's default; none when neither is set.
 */
export async function writeOutcomeEvent (tx: TxSql, order: OrderRecord, deliveries: Parameters<typeof deliveryFields>[0][], delayMs: number): Promise<void> {
  const payload = outcomePayload(order, deliveries)
  await tx`
    insert into webhook_events (id, reseller_id, order_id, type, payload, url, next_attempt_at)
    select ${newId('evt')}, r.id, ${order.id}, ${payload.type}, ${JSON.stringify(payload)}::jsonb, coalesce(${order.callbackUrl}, r.callback_url),
           now() + ${delayMs} * interval '1 millisecond'
    from resellers r where r.id = ${order.resellerId} and coalesce(${order.callbackUrl}, r.callback_url) is not null`
}

/** The callback announcing a final order (api.md, Callbacks): codes and PINs left out. */
export function outcomePayload (order: OrderRecord, deliveries: Parameters<typeof deliveryFields>[0][]) {
  if (order.status !== 'succeeded' && order.status !== 'failed') throw new Error(`order ${order.id} is not final (${order.status})`)
  const type = order.status === 'succeeded' ? 'order.succeeded' : 'order.failed'
  return { type, timestamp: new Date().toISOString(), data: { ...orderFields(order), deliveries: deliveries.map((d) => deliveryFields(d, false)) } }
}

export function openDeliveries (keyring: Keyring, keys: (SealedCardKey & { expiresAt: Date | null })[]): CardKeyDelivery[] {
  return keys.map((k) => {
    const plain = openCardKey(keyring, k)
    return { cardKeyId: k.id, code: plain.code, pin: plain.pin, serial: plain.serial, expiresAt: k.expiresAt }
  })
}

export interface OrderFilter {
  resellerId?: string | undefined
  clientOrderId?: string | undefined
  status?: string | undefined
  sku?: string | undefined
  createdFrom?: string | undefined
  createdTo?: string | undefined
  beforeId?: string | undefined
}

export async function getOrder (sql: postgres.Sql, id: string, resellerId?: string): Promise<OrderRecord | undefined> {
  const [row] = resellerId === undefined
    ? await sql.unsafe(`select ${ORDER_COLUMNS} from orders where id = $1`, [id], { prepare: true })
    : await sql.unsafe(`select ${ORDER_COLUMNS} from orders where id = $1 and reseller_id = $2`, [id, resellerId], { prepare: true })
  return row ? toOrder(row) : undefined
}

/** Newest first; ids sort by creation time, so the cursor is the last id. */
export async function listOrders (sql: postgres.Sql, filter: OrderFilter, limit: number): Promise<OrderRecord[]> {
  const rows = await sql`
    select ${sql.unsafe(ORDER_COLUMNS)} from orders
    where true
      ${filter.resellerId !== undefined ? sql`and reseller_id = ${filter.resellerId}` : sql``}
      ${filter.clientOrderId !== undefined ? sql`and client_order_id = ${filter.clientOrderId}` : sql``}
      ${filter.status !== undefined ? sql`and status = ${filter.status}` : sql``}
      ${filter.sku !== undefined ? sql`and sku = ${filter.sku}` : sql``}
      ${filter.createdFrom !== undefined ? sql`and created_at >= ${filter.createdFrom}` : sql``}
      ${filter.createdTo !== undefined ? sql`and created_at < ${filter.createdTo}` : sql``}
      ${filter.beforeId !== undefined ? sql`and id < ${filter.beforeId}` : sql``}
    order by id desc limit ${limit}`
  return rows.map(toOrder)
}

/** What fulfilling an order cost us (admin view): its pool keys plus the supplier attempt that delivered. */
export async function orderCost (sql: postgres.Sql, orderId: string): Promise<number> {
  const [row] = await sql<{ cost: string | null }[]>`
    select coalesce((select sum(b.unit_cost) from card_keys k join card_key_batches b on b.id = k.batch_id where k.order_id = ${orderId}), 0)
         + coalesce((select sum(cost) from supplier_attempts where order_id = ${orderId} and status = 'succeeded'), 0) as cost`
  return Number(row?.cost ?? 0)
}
