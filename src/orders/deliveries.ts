import type postgres from 'postgres'
import type { Keyring } from '../crypto/keyring.js'
import { toDate } from '../db/timestamps.js'
import type { SupplierCode } from '../domain/supplier.js'
import { newId } from '../domain/ids.js'
import { openDeliveries } from './orders.js'

export type Delivery =
  | { type: 'card_key', code: string, pin: string | null, serial: string | null, expiresAt: Date | null }
  | { type: 'direct_recharge', reference: string }

const aad = (id: string, field: string): string => `order_deliveries:${id}:${field}`

/** Pool keys just sold, opened for their buyer. */
export function poolDeliveries (keyring: Keyring, keys: Parameters<typeof openDeliveries>[1]): Delivery[] {
  return openDeliveries(keyring, keys).map((k) => ({ type: 'card_key', code: k.code, pin: k.pin, serial: k.serial, expiresAt: k.expiresAt }))
}

/** A supplier's expiry as a date; what cannot be read as one is no expiry. */
export function expiryOf (text: string | null): Date | null {
  const date = text === null ? null : new Date(text)
  return date === null || Number.isNaN(date.getTime()) ? null : date
}

/**
 * What a supplier delivered, as the finishing statement inserts it (jsonb_to_recordset): a
 * reference for a direct recharge, or its codes sealed like pool codes, in base64.
 */
export interface SupplierDeliveryRow {
  id: string
  type: 'direct_recharge' | 'card_key'
  reference: string | null
  key_id: string | null
  code: string | null
  pin: string | null
  serial: string | null
  expires_at: string | null
}

export function supplierDeliveryRows (keyring: Keyring, input: { attemptId: string, codes: SupplierCode[] }): SupplierDeliveryRow[] {
  if (input.codes.length === 0) {
    return [{ id: newId('dlv'), type: 'direct_recharge', reference: input.attemptId, key_id: null, code: null, pin: null, serial: null, expires_at: null }]
  }
  return input.codes.map((c) => {
    const id = newId('dlv')
    const code = keyring.encrypt(c.code, aad(id, 'code'))
    const seal = (v: string | null, field: string): string | null => v === null ? null : keyring.encrypt(v, aad(id, field)).ciphertext.toString('base64')
    return {
      id, type: 'card_key', reference: null, key_id: code.keyId, code: code.ciphertext.toString('base64'),
      pin: seal(c.pin, 'pin'), serial: seal(c.serial, 'serial'), expires_at: expiryOf(c.expiresAt)?.toISOString() ?? null
    }
  })
}

/** Everything an order delivered, decrypted for its owner (never for logs): supplier deliveries, then pool keys. */
export async function orderDeliveries (sql: postgres.Sql | postgres.TransactionSql, keyring: Keyring, orderId: string): Promise<Delivery[]> {
  return (await ordersDeliveries(sql, keyring, [orderId])).get(orderId) ?? []
}

/** orderDeliveries for a page of orders, in two queries: order id to its deliveries. */
export async function ordersDeliveries (sql: postgres.Sql | postgres.TransactionSql, keyring: Keyring, orderIds: string[]): Promise<Map<string, Delivery[]>> {
  const byOrder = new Map<string, Delivery[]>(orderIds.map((id) => [id, []]))
  if (orderIds.length === 0) return byOrder
  const [supplied, pool] = await Promise.all([sql<{ id: string, order_id: string, type: 'card_key' | 'direct_recharge', reference: string | null, key_id: string | null, code_ciphertext: Buffer | null, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null, expires_at: unknown }[]>`
    select id, order_id, type, reference, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext, expires_at from order_deliveries where order_id = any(${orderIds}) order by order_id, id`,
  sql<{ id: string, order_id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null, expires_at: unknown }[]>`
    select id, order_id, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext, expires_at from card_keys where order_id = any(${orderIds}) order by order_id, expires_at, id`])
  for (const d of supplied) {
    let delivery: Delivery
    if (d.type === 'direct_recharge' || d.code_ciphertext === null || d.key_id === null) {
      delivery = { type: 'direct_recharge', reference: d.reference ?? '' }
    } else {
      const keyId = d.key_id
      const open = (c: Buffer | null, field: string): string | null => c === null ? null : keyring.decryptString({ keyId, ciphertext: c }, aad(d.id, field))
      delivery = { type: 'card_key', code: open(d.code_ciphertext, 'code') ?? '', pin: open(d.pin_ciphertext, 'pin'), serial: open(d.serial_ciphertext, 'serial'), expiresAt: toDate(d.expires_at) }
    }
    byOrder.get(d.order_id)?.push(delivery)
  }
  const opened = openDeliveries(keyring, pool.map((r) => (
    { id: r.id, keyId: r.key_id, codeCiphertext: r.code_ciphertext, pinCiphertext: r.pin_ciphertext, serialCiphertext: r.serial_ciphertext, expiresAt: toDate(r.expires_at) })))
  opened.forEach((k, i) => {
    byOrder.get(pool[i]!.order_id)?.push({ type: 'card_key', code: k.code, pin: k.pin, serial: k.serial, expiresAt: k.expiresAt })
  })
  return byOrder
}

/**
 * Re-seals supplier-delivered codes still under another key id with the keyring's primary
 * key, a batch per transaction (`keys rotate`). Rows are written once, when their order
 * finishes, so nothing else holds them.
 */
export async function rotateSupplierDeliveries (sql: postgres.Sql, keyring: Keyring, batchSize: number): Promise<number> {
  let total = 0
  for (;;) {
    const n = await sql.begin(async (tx) => {
      const rows = await tx<{ id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null }[]>`
        select id, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext from order_deliveries
        where key_id is not null and key_id <> ${keyring.primaryKeyId} order by id limit ${batchSize} for update`
      for (const r of rows) {
        const reseal = (c: Buffer | null, field: string): Buffer | null =>
          c === null ? null : keyring.encrypt(keyring.decrypt({ keyId: r.key_id, ciphertext: c }, aad(r.id, field)), aad(r.id, field)).ciphertext
        await tx`
          update order_deliveries set key_id = ${keyring.primaryKeyId}, code_ciphertext = ${reseal(r.code_ciphertext, 'code')},
            pin_ciphertext = ${reseal(r.pin_ciphertext, 'pin')}, serial_ciphertext = ${reseal(r.serial_ciphertext, 'serial')}
          where id = ${r.id}`
      }
      return rows.length
    })
    total += n
    if (n < batchSize) return total
  }
}
