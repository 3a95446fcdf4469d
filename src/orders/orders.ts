import { createHash } from 'node:crypto'
import type postgres from 'postgres'
import { debit } from '../balance/buckets.js'
import type { Keyring } from '../crypto/keyring.js'
import { openCardKey, type AllocatedCardKey, type SealedCardKey } from '../db/repositories/card-keys.js'
import { newId } from '../domain/ids.js'
import { toDate } from '../db/timestamps.js'
import { canonicalJson } from '../domain/orders/canonical.js'
import { recipientProblems } from '../domain/orders/recipient.js'
import { InsufficientStockError } from '../domain/pool/errors.js'
import { GatewayError } from '../errors/gateway-error.js'
import { reportLowStock, sellCardKeys, type LowStock } from '../pool/sell.js'
import { deliveryFields, orderFields } from './present.js'
import { pricedSku, type Buyer } from './catalog.js'

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

const ORDER_COLUMNS = `id, reseller_id, client_order_id, sku, quantity, recipient, unit_price, amount, currency, status, failure,
  callback_url, created_at, completed_at, request_hash`

function toOrder (r: Record<string, unknown>): OrderRecord {
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

async function existing (sql: postgres.Sql | postgres.TransactionSql, resellerId: string, clientOrderId: string): Promise<{ order: OrderRecord, hash: Buffer } | undefined> {
  const [row] = await sql.unsafe(`select ${ORDER_COLUMNS} from orders where reseller_id = $1 and client_order_id = $2`, [resellerId, clientOrderId])
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
  log: { warn: (obj: object, msg: string) => void }
  /** When the first callback attempt is due after the outcome (WEBHOOK_RETRY_SCHEDULE[0]). */
  firstCallbackDelayMs: number
}

export interface PlacedOrder {
  order: OrderRecord
  created: boolean
  /** Keys sold by this call (new orders only); replays read theirs with cardKeyDeliveries. */
  keys: AllocatedCardKey[]
}

/**
 * Accepts and, for card-pool SKUs, fulfils an order in one transaction: the order row, the
 * keys, the debit and its ledger entry commit together or not at all, so a refused order
 * (no stock, no money) leaves nothing behind and charges nothing. The same client_order_id
 * with the same request returns the first order; concurrent duplicates wait on the unique
 * index and then find it.
 */
export async function placeOrder (deps: PlaceOrderDeps, buyer: Buyer, request: OrderRequest): Promise<PlacedOrder> {
  const { sql } = deps
  const hash = requestHash(request)
  const prior = await existing(sql, buyer.id, request.client_order_id)
  if (prior) return replay(prior, hash)

  const sku = await pricedSku(sql, buyer, request.sku)
  if (!sku) throw new GatewayError('not_found', { detail: `no product ${request.sku}` })
  if (request.quantity > sku.maxQuantity) {
    throw new GatewayError('invalid_request', { detail: `at most ${sku.maxQuantity} per order`, errors: [{ path: 'body.quantity', message: `at most ${sku.maxQuantity} for this product` }] })
  }
  const problems = recipientProblems(sku.recipientType, request.recipient)
  if (problems.length > 0) throw new GatewayError('recipient_invalid', { detail: `this product needs a ${sku.recipientType} recipient`, errors: problems })
  if (request.max_unit_price !== undefined && request.max_unit_price < sku.price) {
    throw new GatewayError('price_changed', { detail: `unit price is ${sku.price}, above max_unit_price ${request.max_unit_price}` })
  }
  if (sku.fulfilment.card_pool === 'never') {
    throw new GatewayError('sku_unavailable', { detail: `${sku.sku} has no route that can fulfil it now` })
  }

  const id = newId('ord')
  const amount = sku.price * request.quantity
  let lowStock: LowStock | null = null
  try {
    const result = await sql.begin(async (tx) => {
      const [inserted] = await tx`
        insert into orders (id, reseller_id, client_order_id, request_hash, sku, quantity, recipient, unit_price, amount, currency,
                            status, callback_url, completed_at)
        values (${id}, ${buyer.id}, ${request.client_order_id}, ${hash}, ${sku.sku}, ${request.quantity}, ${JSON.stringify(request.recipient)}::jsonb,
                ${sku.price}, ${amount}, ${sku.currency}, 'succeeded', ${request.callback_url ?? null}, now())
        on conflict (reseller_id, client_order_id) do nothing
        returning ${tx.unsafe(ORDER_COLUMNS)}`
      if (!inserted) return { raced: await existing(tx, buyer.id, request.client_order_id) }
      const sale = await sellCardKeys(tx, { sku: sku.sku, quantity: request.quantity, orderId: id, lowStockThreshold: sku.lowStockThreshold })
      // Debit last, so the balance bucket it locks is held for as short a time as possible.
      // A free product moves no money, so it has no ledger entry.
      if (amount > 0) {
        if (!await debit(tx, buyer.id, amount)) {
          throw new GatewayError('insufficient_balance', { detail: `balance plus credit limit is below the order amount ${amount}` })
        }
        await tx`insert into ledger_entries (reseller_id, kind, amount, currency, order_id) values (${buyer.id}, 'order_debit', ${-amount}, ${sku.currency}, ${id})`
      }
      const order = toOrder(inserted)
      await writeOutcomeEvent(tx, order, sale.keys, deps.firstCallbackDelayMs)
      lowStock = sale.lowStock
      return { order, keys: sale.keys }
    })
    if ('raced' in result) {
      if (!result.raced) throw new Error('order conflict without a row')
      return replay(result.raced, hash)
    }
    reportLowStock(deps.log, lowStock)
    return { order: result.order, created: true, keys: result.keys }
  } catch (err) {
    if (err instanceof InsufficientStockError) {
      throw new GatewayError('sku_unavailable', { detail: `${sku.sku} is out of stock`, internal: err.message })
    }
    throw err
  }
}

/**
 * The outbox row announcing an order's outcome, in the transaction that decides it: to the
 * order's callback URL, else the reseller's default; none when neither is set.
 */
async function writeOutcomeEvent (tx: postgres.TransactionSql, order: OrderRecord, keys: AllocatedCardKey[], delayMs: number): Promise<void> {
  if (order.status !== 'succeeded' && order.status !== 'failed') throw new Error(`order ${order.id} is not final (${order.status})`)
  const type = order.status === 'succeeded' ? 'order.succeeded' : 'order.failed'
  const payload = { type, timestamp: new Date().toISOString(), data: { ...orderFields(order), deliveries: keys.map((k) => deliveryFields(k, false)) } }
  await tx`
    insert into webhook_events (id, reseller_id, order_id, type, payload, url, next_attempt_at)
    select ${newId('evt')}, r.id, ${order.id}, ${type}, ${JSON.stringify(payload)}::jsonb, coalesce(${order.callbackUrl}, r.callback_url),
           now() + ${delayMs} * interval '1 millisecond'
    from resellers r where r.id = ${order.resellerId} and coalesce(${order.callbackUrl}, r.callback_url) is not null`
}

/** Codes delivered to an order, decrypted for its owner (never for logs or callbacks). */
export async function cardKeyDeliveries (sql: postgres.Sql, keyring: Keyring, orderId: string): Promise<CardKeyDelivery[]> {
  const rows = await sql<{ id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null, expires_at: unknown }[]>`
    select id, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext, expires_at from card_keys where order_id = ${orderId} order by expires_at, id`
  return openDeliveries(keyring, rows.map((r) => (
    { id: r.id, keyId: r.key_id, codeCiphertext: r.code_ciphertext, pinCiphertext: r.pin_ciphertext, serialCiphertext: r.serial_ciphertext, expiresAt: toDate(r.expires_at) })))
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
    ? await sql.unsafe(`select ${ORDER_COLUMNS} from orders where id = $1`, [id])
    : await sql.unsafe(`select ${ORDER_COLUMNS} from orders where id = $1 and reseller_id = $2`, [id, resellerId])
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

/** What the pool keys of an order cost us (admin view). */
export async function orderCost (sql: postgres.Sql, orderId: string): Promise<number> {
  const [row] = await sql<{ cost: string | null }[]>`
    select sum(b.unit_cost) as cost from card_keys k join card_key_batches b on b.id = k.batch_id where k.order_id = ${orderId}`
  return Number(row?.cost ?? 0)
}
