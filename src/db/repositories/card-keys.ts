import { finished } from 'node:stream/promises'
import type postgres from 'postgres'
import type { Keyring } from '../../crypto/keyring.js'
import type { TxSql } from '../pipelined.js'
import type { CardKeyStatus, PlainCardKey } from '../../domain/pool/card-key.js'
import { InsufficientStockError } from '../../domain/pool/errors.js'
import { toDate } from '../timestamps.js'

/*
 * The pool's hot paths (import, allocation) use postgres.js directly: they run millions of
 * rows or thousands of transactions a second, where drizzle's query building costs more
 * than the SQL (architecture.md). Functions taking a transaction run inside the caller's.
 */

export type Queryable = postgres.Sql | postgres.TransactionSql

export const FINGERPRINT_PURPOSE = 'card_key.code'

/** AAD: the ciphertext of one field of one row, so a ciphertext copied elsewhere fails. */
export const cardKeyAad = (id: string, field: 'code' | 'pin' | 'serial'): string => `card_keys:${id}:${field}`

export interface SealedCardKey {
  id: string
  keyId: string
  codeCiphertext: Buffer
  pinCiphertext: Buffer | null
  serialCiphertext: Buffer | null
}

export interface AllocatedCardKey extends SealedCardKey {
  expiresAt: Date | null
}

export function openCardKey (keyring: Keyring, row: SealedCardKey): Required<PlainCardKey> {
  const open = (blob: Buffer | null, field: 'code' | 'pin' | 'serial'): string | null =>
    blob === null ? null : keyring.decryptString({ keyId: row.keyId, ciphertext: blob }, cardKeyAad(row.id, field))
  return { code: open(row.codeCiphertext, 'code') as string, pin: open(row.pinCiphertext, 'pin'), serial: open(row.serialCiphertext, 'serial') }
}

/**
 * bytea arrays travel as text arrays of `\x…` literals: postgres.js does not serialise
 * Buffer[] as bytea[], and one array parameter per column keeps a chunk of thousands of
 * rows in one statement, far from the 65,535-parameter limit of a VALUES list.
 */
const hex = (b: Buffer | null): string | null => b === null ? null : '\\x' + b.toString('hex')

/*
 * Imports go through a staging table: each chunk is COPYed in (binary, so ciphertexts travel
 * as raw bytes, not as hex the server parses back) and moved into card_keys by one
 * INSERT … SELECT. The stage has no constraint a row of ours can break, which matters:
 * postgres.js never settles a COPY whose error arrives after its data was sent
 * (porsager/postgres#1173), so COPY must not go straight into card_keys, where a duplicate
 * raises one. Its columns are those of IMPORT_STAGE_COLUMNS, in that order.
 */

/** id, code, pin, serial, fingerprint: the row written for each key by the importer. */
export const IMPORT_STAGE_COLUMNS = 5

/** Only a lost connection or a cancelled statement can leave a COPY unsettled; then fail, not hang. */
const STAGE_COPY_TIMEOUT_MS = 120_000

/** The transaction's staging table for one import; dropped at commit or rollback. */
export async function createImportStage (tx: postgres.TransactionSql): Promise<void> {
  await tx`create temp table card_key_import (id text, code bytea, pin bytea, serial bytea, fingerprint bytea) on commit drop`
}

export interface StoredChunk {
  inserted: number
  /** Fingerprints (hex) of staged rows the pool already held, with the batch holding each (null if unseen). */
  refused: Map<string, string | null>
  /** Stored by the optimistic path: in a savepoint, so one more subtransaction. */
  optimistic: boolean
}

/**
 * Moves one chunk (a binary COPY of `rows` rows) through the stage into the batch. A code
 * already in the pool, in this batch or any other of any SKU, is left out by the unique
 * fingerprint index; only then is the stage read again to tell which rows and who holds them.
 * `optimistic` first tries a plain INSERT in a savepoint, about a tenth cheaper than ON
 * CONFLICT when nothing conflicts (no speculative insertion); on a duplicate it rolls back
 * to the savepoint and takes the ON CONFLICT path for the chunk.
 */
export async function storeChunk (tx: postgres.TransactionSql, batch: { id: string, sku: string, keyId: string, expiresAt: Date | null }, data: Buffer, rows: number, optimistic = false): Promise<StoredChunk> {
  if (rows === 0) return { inserted: 0, refused: new Map(), optimistic: false }
  await tx`truncate card_key_import`
  const stream = await tx`copy card_key_import from stdin (format binary)`.writable()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      finished(stream.end(data)),
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('COPY into the import stage did not complete')), STAGE_COPY_TIMEOUT_MS) })
    ])
  } finally {
    clearTimeout(timer)
  }
  const insertStaged = (q: postgres.TransactionSql, onConflict: boolean): postgres.PendingQuery<postgres.Row[]> => q`
    insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext, fingerprint, expires_at)
    select id, ${batch.id}, ${batch.sku}, ${batch.keyId}, code, pin, serial, fingerprint, coalesce(${batch.expiresAt?.toISOString() ?? null}::timestamptz, 'infinity')
    from card_key_import
    ${onConflict ? q`on conflict (fingerprint) do nothing` : q``}`
  if (optimistic) {
    try {
      const result = await tx.savepoint(async (sp) => await insertStaged(sp, false))
      return { inserted: result.count, refused: new Map(), optimistic }
    } catch (err) {
      const e = err as { code?: string, constraint_name?: string }
      if (e.code !== '23505' || e.constraint_name !== 'card_keys_fingerprint_key') throw err
    }
  }
  const result = await insertStaged(tx, true)
  const inserted = result.count
  const refused = new Map<string, string | null>()
  if (inserted === rows) return { inserted, refused, optimistic: false }
  // A refused row's fingerprint is held by a row with another id: an earlier line of this
  // batch or a code of another batch.
  const holders = await tx<{ fingerprint: Buffer, batch_id: string | null }[]>`
    select s.fingerprint, k.batch_id from card_key_import s
    left join card_keys k on k.fingerprint = s.fingerprint
    where k.id is distinct from s.id`
  for (const h of holders) refused.set(h.fingerprint.toString('hex'), h.batch_id)
  return { inserted, refused, optimistic: false }
}

type AllocatedRow = { id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null, expires_at: Date | string }

/** How often one process raises the floor of a SKU it sells from (card_key_floors_advance). */
const FLOOR_ADVANCE_MS = 250
const floorAdvancedAt = new Map<string, number>()

function floorAdvanceDue (sku: string): boolean {
  const now = Date.now()
  if (now - (floorAdvancedAt.get(sku) ?? 0) < FLOOR_ADVANCE_MS) return false
  floorAdvancedAt.set(sku, now)
  return true
}

/**
 * The sellable keys of a SKU (available, not expired), from the SKU's floor on
 * (card_key_floors, migrations 0013-0014): no sellable key sorts before it, so a scan of the
 * allocation index starts there and never reads the entries keys sold before it left behind,
 * however many there are and whenever VACUUM last ran. No floor row, no bound.
 * `expires_at > now()` is folded into the bound on (expires_at, id), plus `<> now()`: given a
 * plain `expires_at > now()` beside the floor, PostgreSQL 18 starts the scan at now().
 */
const sellable = (tx: Queryable, sku: string): postgres.PendingQuery<postgres.Row[]> => tx`
  sku = ${sku} and status = 'available' and expires_at <> now()
  and (expires_at, id) >= (greatest(coalesce((select f.expires_at from card_key_floors f where f.sku = ${sku}), '-infinity'), now()),
                           coalesce((select f.card_key_id from card_key_floors f where f.sku = ${sku} and f.expires_at > now()), ''))`

/** Whether the pool holds `quantity` sellable keys of the SKU now (a probe, not a hold). */
export async function hasSellableKeys (sql: Queryable, sku: string, quantity: number): Promise<boolean> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from (select 1 from card_keys where ${sellable(sql, sku)} order by expires_at, id limit ${quantity}) k`
  return (row?.n ?? 0) >= quantity
}

/**
 * The allocation as one statement, not yet sent, so callers may pipeline it: up to
 * `quantity` sellable keys of a SKU, soonest-expiring first, marked sold to the order,
 * inside the caller's transaction. SKIP LOCKED lets concurrent orders take different keys
 * instead of queueing on the same rows; the CTE's ORDER BY matches the allocation index,
 * which PostgreSQL reads from the SKU's floor and stops at the first sellable entries
 * (soonest-expiring, then oldest; expired keys never). Every FLOOR_ADVANCE_MS this process
 * also raises the floor past the keys sold since, in the same statement.
 */
export function allocateCardKeysQuery (tx: TxSql, input: { sku: string, quantity: number, orderId: string }): postgres.PendingQuery<AllocatedRow[]> {
  const raise = floorAdvanceDue(input.sku)
  return tx<AllocatedRow[]>`
    with picked as (
      select id from card_keys
      where ${sellable(tx, input.sku)}
      order by expires_at, id
      limit ${input.quantity}
      for update skip locked
    )${raise ? tx`, raised as (select card_key_floors_advance(${input.sku}))` : tx``}
    update card_keys k set status = 'sold', order_id = ${input.orderId}, sold_at = now()
    from picked${raise ? tx`, raised` : tx``} where k.id = picked.id
    returning k.id, k.key_id, k.code_ciphertext, k.pin_ciphertext, k.serial_ciphertext, k.expires_at`
}

/**
 * The keys an allocation returned, in the order they were picked; all of them, or
 * InsufficientStockError, so the caller's transaction cannot commit a partial sale.
 */
export function allocatedKeys (rows: AllocatedRow[], input: { sku: string, quantity: number }): AllocatedCardKey[] {
  if (rows.length < input.quantity) throw new InsufficientStockError(input.sku, input.quantity, rows.length)
  const keys = rows.map((r) => ({
    id: r.id,
    keyId: r.key_id,
    codeCiphertext: r.code_ciphertext,
    pinCiphertext: r.pin_ciphertext,
    serialCiphertext: r.serial_ciphertext,
    expiresAt: toDate(r.expires_at)
  }))
  // RETURNING has no order; deliver in the order the keys were picked.
  const rank = (k: AllocatedCardKey) => k.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY
  return keys.sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

export async function allocateCardKeys (tx: postgres.TransactionSql, input: { sku: string, quantity: number, orderId: string }): Promise<AllocatedCardKey[]> {
  return allocatedKeys(await allocateCardKeysQuery(tx, input), input)
}

/** Sellable keys left, counted no further than `limit` (cheap enough for every sale). */
export async function availableUpTo (tx: Queryable, sku: string, limit: number): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from (
      select 1 from card_keys where ${sellable(tx, sku)} limit ${limit}
    ) s`
  return row?.n ?? 0
}

export interface Stock {
  available: number
  expired: number
  sold: number
  redeemed: number
  voided: number
}

export async function stockOf (sql: Queryable, sku: string): Promise<Stock> {
  const [row] = await sql<Stock[]>`
    select
      count(*) filter (where status = 'available' and expires_at > now())::int as available,
      count(*) filter (where status = 'available' and expires_at <= now())::int as expired,
      count(*) filter (where status = 'sold')::int as sold,
      count(*) filter (where status = 'redeemed')::int as redeemed,
      count(*) filter (where status = 'voided')::int as voided
    from card_keys where sku = ${sku}`
  return row ?? { available: 0, expired: 0, sold: 0, redeemed: 0, voided: 0 }
}

/**
 * Sellable keys per SKU that has ever had a batch (so an emptied SKU reports 0 rather
 * than vanishing), for the stock gauge; each count walks the partial allocation index.
 */
export async function availableBySku (sql: Queryable): Promise<{ sku: string, available: number }[]> {
  return await sql<{ sku: string, available: number }[]>`
    select s.sku, (select count(*)::int from card_keys k
                   where k.sku = s.sku and k.status = 'available' and k.expires_at > now()) as available
    from skus s where exists (select 1 from card_key_batches b where b.sku = s.sku)`
}

export interface CardKeyRecord {
  id: string
  sku: string
  batchId: string
  status: CardKeyStatus
  orderId: string | null
  /** Who bought it: the reseller of its order. */
  resellerId: string | null
  soldAt: Date | null
  redeemedAt: Date | null
  redeemedIp: string | null
  voidedAt: Date | null
  voidReason: string | null
  revealedAt: Date | null
  expiresAt: Date | null
}

const RECORD_COLUMNS = `id, sku, batch_id, status, order_id, sold_at, redeemed_at, redeemed_ip, voided_at, void_reason, revealed_at, expires_at,
  (select o.reseller_id from orders o where o.id = card_keys.order_id) as reseller_id`

function toRecord (r: Record<string, unknown>): CardKeyRecord {
  return {
    id: r.id as string,
    sku: r.sku as string,
    batchId: r.batch_id as string,
    status: r.status as CardKeyStatus,
    orderId: r.order_id as string | null,
    resellerId: r.reseller_id as string | null,
    soldAt: toDate(r.sold_at),
    redeemedAt: toDate(r.redeemed_at),
    redeemedIp: r.redeemed_ip as string | null,
    voidedAt: toDate(r.voided_at),
    voidReason: r.void_reason as string | null,
    revealedAt: toDate(r.revealed_at),
    expiresAt: toDate(r.expires_at)
  }
}

/** Finds a key by its code through the fingerprint index; no other row is decrypted. */
export async function findByCode (sql: Queryable, keyring: Keyring, code: string): Promise<CardKeyRecord | undefined> {
  const fingerprint = keyring.fingerprint(FINGERPRINT_PURPOSE, code.trim())
  const [row] = await sql`select ${sql.unsafe(RECORD_COLUMNS)} from card_keys where fingerprint = ${fingerprint}`
  return row ? toRecord(row) : undefined
}

export async function getCardKey (sql: Queryable, id: string, options: { forUpdate?: boolean } = {}): Promise<CardKeyRecord | undefined> {
  const [row] = await sql`select ${sql.unsafe(RECORD_COLUMNS)} from card_keys where id = ${id} ${options.forUpdate ? sql`for update` : sql``}`
  return row ? toRecord(row) : undefined
}

/** Withdraws a key from sale (or records a sold one as void); idempotent. */
export async function voidCardKey (tx: postgres.TransactionSql, id: string, reason: string | null): Promise<CardKeyRecord | undefined> {
  const [row] = await tx`
    update card_keys set status = 'voided', voided_at = coalesce(voided_at, now()), void_reason = coalesce(void_reason, ${reason})
    where id = ${id} returning ${tx.unsafe(RECORD_COLUMNS)}`
  return row ? toRecord(row) : undefined
}

/** Reads the sealed fields and stamps the first reveal; the caller audits and decrypts. */
export async function markRevealed (tx: postgres.TransactionSql, id: string): Promise<SealedCardKey | undefined> {
  const [row] = await tx<{ id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null }[]>`
    update card_keys set revealed_at = coalesce(revealed_at, now())
    where id = ${id} and status <> 'available'
    returning id, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext`
  return row ? { id: row.id, keyId: row.key_id, codeCiphertext: row.code_ciphertext, pinCiphertext: row.pin_ciphertext, serialCiphertext: row.serial_ciphertext } : undefined
}

/**
 * Re-encrypts up to `limit` rows still under another key id with the keyring's primary key,
 * walking the table by primary key from `afterId` (exclusive; '' sorts before every id).
 * Returns how many rows it rotated and the last id it took, the cursor for the next call, or
 * null once nothing is left past `afterId`: the pass is over. Without the cursor each batch
 * would re-read every row already rotated (no index covers `key_id <> primary`), quadratic on
 * a large pool.
 * Each call is its own transaction and skips rows locked elsewhere (live sales), so a pass can
 * leave rows behind: the caller starts a new pass from '' until countUnderOldKeys is 0.
 * Rotation can be stopped at any point and run again, even alongside live traffic.
 */
export async function rotateCardKeys (sql: postgres.Sql, keyring: Keyring, limit: number, afterId = ''): Promise<{ rotated: number, lastId: string | null }> {
  return await sql.begin(async (tx) => {
    const rows = await tx<{ id: string, key_id: string, code_ciphertext: Buffer, pin_ciphertext: Buffer | null, serial_ciphertext: Buffer | null }[]>`
      select id, key_id, code_ciphertext, pin_ciphertext, serial_ciphertext from card_keys
      where id > ${afterId} and key_id <> ${keyring.primaryKeyId}
      order by id
      limit ${limit} for update skip locked`
    const last = rows.at(-1)
    if (last === undefined) return { rotated: 0, lastId: null }
    const updates = rows.map((r) => {
      const plain = openCardKey(keyring, { id: r.id, keyId: r.key_id, codeCiphertext: r.code_ciphertext, pinCiphertext: r.pin_ciphertext, serialCiphertext: r.serial_ciphertext })
      const seal = (value: string | null, field: 'code' | 'pin' | 'serial') => value === null ? null : keyring.encrypt(value, cardKeyAad(r.id, field)).ciphertext
      return { id: r.id, code: seal(plain.code, 'code') as Buffer, pin: seal(plain.pin, 'pin'), serial: seal(plain.serial, 'serial') }
    })
    await tx`
      update card_keys k set key_id = ${keyring.primaryKeyId}, code_ciphertext = u.code, pin_ciphertext = u.pin, serial_ciphertext = u.serial
      from unnest(${updates.map((u) => u.id)}::text[], ${updates.map((u) => hex(u.code))}::text[]::bytea[],
        ${updates.map((u) => hex(u.pin))}::text[]::bytea[], ${updates.map((u) => hex(u.serial))}::text[]::bytea[]) as u(id, code, pin, serial)
      where k.id = u.id`
    return { rotated: rows.length, lastId: last.id }
  })
}

export async function countUnderOldKeys (sql: Queryable, primaryKeyId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from card_keys where key_id <> ${primaryKeyId}`
  return row?.n ?? 0
}
