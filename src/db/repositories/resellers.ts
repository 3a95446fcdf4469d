import { randomBytes } from 'node:crypto'
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import type postgres from 'postgres'
import { GatewayError } from '../../errors/gateway-error.js'
import type { Keyring } from '../../crypto/keyring.js'
import { newId, newSecret, serialId } from '../../domain/ids.js'
import { balanceOf, createBuckets, credit, debit, setCreditLimit } from '../../balance/buckets.js'
import type { Database, Db, Tx } from '../client.js'
import { toDate } from '../timestamps.js'
import { ledgerEntries, resellerApiKeys, resellerBalanceBuckets, resellerPrices, resellers, type LedgerEntry, type Reseller, type ResellerApiKey } from '../schema/index.js'
import { hashToken } from './admin-tokens.js'
import { writeAudit, writeAuditSql, type AuditActor } from './audit-log.js'

export const apiSecretAad = (keyId: string): string => `reseller_api_keys:${keyId}:secret`
export const webhookSecretAad = (resellerId: string): string => `resellers:${resellerId}:webhook_secret`

export interface ResellerInput {
  name: string
  tier: string
  currency: string
  callbackUrl: string | null
  callbackIncludesCodes: boolean
  authMode: 'bearer_or_signature' | 'signature_only'
  ipAllowlist: string[]
  rateLimitPerMinute: number
  creditLimit: number
}

export interface ResellerView extends Reseller {
  balance: number
  creditLimit: number
  apiKeys: Pick<ResellerApiKey, 'id' | 'createdAt' | 'revokedAt'>[]
}

export interface IssuedApiKey {
  keyId: string
  /** `sk_…`, shown once. */
  secret: string
}

async function insertApiKey (tx: postgres.TransactionSql, keyring: Keyring, resellerId: string): Promise<IssuedApiKey> {
  const keyId = newId('ak')
  const secret = newSecret('sk')
  const sealed = keyring.encrypt(secret, apiSecretAad(keyId))
  await tx`
    insert into reseller_api_keys (id, reseller_id, secret_hash, secret_key_id, secret_ciphertext)
    values (${keyId}, ${resellerId}, ${hashToken(secret)}, ${sealed.keyId}, ${sealed.ciphertext})`
  return { keyId, secret }
}

/** Creates the reseller, its empty balance buckets and first credential; the secrets are returned once. */
export async function createReseller (database: Database, keyring: Keyring, input: ResellerInput, actor: AuditActor): Promise<{ view: ResellerView, apiKey: IssuedApiKey, webhookSecret: string }> {
  const id = newId('rsl')
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`
  const sealed = keyring.encrypt(webhookSecret, webhookSecretAad(id))
  const apiKey = await database.sql.begin(async (tx) => {
    await tx`
      insert into resellers (id, name, tier, currency, callback_url, callback_includes_codes, auth_mode, ip_allowlist,
                             rate_limit_per_minute, webhook_secret_key_id, webhook_secret_ciphertext)
      values (${id}, ${input.name}, ${input.tier}, ${input.currency}, ${input.callbackUrl}, ${input.callbackIncludesCodes},
              ${input.authMode}, ${input.ipAllowlist}::text[], ${input.rateLimitPerMinute}, ${sealed.keyId}, ${sealed.ciphertext})`
    await createBuckets(tx, id, input.creditLimit)
    const key = await insertApiKey(tx, keyring, id)
    await writeAuditSql(tx, actor, { action: 'reseller.create', targetType: 'reseller', targetId: id, details: { tier: input.tier, api_key: key.keyId } })
    return key
  })
  const view = await getResellerView(database.db, id)
  if (!view) throw new Error('reseller vanished after its creation')
  return { view, apiKey, webhookSecret }
}

export async function getResellerView (db: Db | Tx, id: string): Promise<ResellerView | undefined> {
  const [row] = await db.select({
    reseller: resellers,
    balance: sql<string>`(select sum(${resellerBalanceBuckets.balance}) from ${resellerBalanceBuckets} where ${resellerBalanceBuckets.resellerId} = ${resellers.id})`,
    creditLimit: sql<string>`(select sum(${resellerBalanceBuckets.floor}) from ${resellerBalanceBuckets} where ${resellerBalanceBuckets.resellerId} = ${resellers.id})`
  }).from(resellers).where(eq(resellers.id, id))
  if (!row) return undefined
  const keys = await db.select({ id: resellerApiKeys.id, createdAt: resellerApiKeys.createdAt, revokedAt: resellerApiKeys.revokedAt })
    .from(resellerApiKeys).where(eq(resellerApiKeys.resellerId, id)).orderBy(asc(resellerApiKeys.id))
  return { ...row.reseller, balance: Number(row.balance), creditLimit: Number(row.creditLimit), apiKeys: keys }
}

export async function listResellers (db: Db, limit: number, after?: string): Promise<ResellerView[]> {
  const rows = await db.select({ id: resellers.id }).from(resellers).where(after ? gt(resellers.id, after) : undefined).orderBy(asc(resellers.id)).limit(limit)
  const views = await Promise.all(rows.map(async (r) => await getResellerView(db, r.id)))
  return views.filter((v): v is ResellerView => v !== undefined)
}

export type ResellerPatch = Partial<Omit<ResellerInput, 'currency'>> & { status?: 'active' | 'suspended' }

export async function patchReseller (database: Database, id: string, patch: ResellerPatch, actor: AuditActor): Promise<ResellerView | undefined> {
  const { creditLimit, ...fields } = patch
  const columns: Record<string, string | number | boolean | string[] | null | undefined> = {
    name: fields.name, tier: fields.tier, callback_url: fields.callbackUrl, callback_includes_codes: fields.callbackIncludesCodes,
    auth_mode: fields.authMode, ip_allowlist: fields.ipAllowlist, rate_limit_per_minute: fields.rateLimitPerMinute, status: fields.status
  }
  const set = Object.keys(columns).filter((k) => columns[k] !== undefined)
  const found = await database.sql.begin(async (tx) => {
    const [row] = set.length > 0
      ? await tx`update resellers set ${tx(columns as Record<string, postgres.ParameterOrJSON<never>>, set)}, updated_at = now() where id = ${id} returning id`
      : await tx`select id from resellers where id = ${id} for no key update`
    if (!row) return false
    // A limit below what is already spent is refused by the bucket constraint, and with it
    // the whole change.
    if (creditLimit !== undefined) await setCreditLimit(tx, id, creditLimit)
    await writeAuditSql(tx, actor, { action: 'reseller.update', targetType: 'reseller', targetId: id, details: { fields: [...set, ...(creditLimit !== undefined ? ['credit_limit'] : [])].sort() } })
    return true
  })
  return found ? await getResellerView(database.db, id) : undefined
}

export async function issueApiKey (sql: postgres.Sql, keyring: Keyring, resellerId: string, actor: AuditActor): Promise<IssuedApiKey | undefined> {
  return await sql.begin(async (tx) => {
    const [exists] = await tx`select id from resellers where id = ${resellerId} for no key update`
    if (!exists) return undefined
    const key = await insertApiKey(tx, keyring, resellerId)
    await writeAuditSql(tx, actor, { action: 'reseller.api_key.create', targetType: 'reseller', targetId: resellerId, details: { api_key: key.keyId } })
    return key
  })
}

export async function revokeApiKey (db: Db, resellerId: string, keyId: string, actor: AuditActor): Promise<Pick<ResellerApiKey, 'id' | 'createdAt' | 'revokedAt'> | undefined> {
  return await db.transaction(async (tx) => {
    const [row] = await tx.update(resellerApiKeys).set({ revokedAt: sql`coalesce(${resellerApiKeys.revokedAt}, now())` })
      .where(and(eq(resellerApiKeys.id, keyId), eq(resellerApiKeys.resellerId, resellerId)))
      .returning({ id: resellerApiKeys.id, createdAt: resellerApiKeys.createdAt, revokedAt: resellerApiKeys.revokedAt })
    if (!row) return undefined
    await writeAudit(tx, actor, { action: 'reseller.api_key.revoke', targetType: 'reseller', targetId: resellerId, details: { api_key: keyId } })
    return row
  })
}

/** What authentication needs about a credential and its reseller, in one round trip. */
export interface Credential {
  keyId: string
  resellerId: string
  secretKeyId: string
  secretCiphertext: Buffer
  authMode: 'bearer_or_signature' | 'signature_only'
  status: 'active' | 'suspended'
  ipAllowlist: string[]
  rateLimitPerMinute: number
  tier: string
  currency: string
  /** The reseller's default callback URL: orders without their own and without this one write no outbox row. */
  callbackUrl: string | null
}

const CREDENTIAL_SELECT = `
  select k.id as key_id, k.reseller_id, k.secret_key_id, k.secret_ciphertext, r.auth_mode, r.status, r.ip_allowlist,
         r.rate_limit_per_minute, r.tier, r.currency, r.callback_url
  from reseller_api_keys k join resellers r on r.id = k.reseller_id
  where k.revoked_at is null and `

function toCredential (r: Record<string, unknown>): Credential {
  return {
    keyId: r.key_id as string,
    resellerId: r.reseller_id as string,
    secretKeyId: r.secret_key_id as string,
    secretCiphertext: r.secret_ciphertext as Buffer,
    authMode: r.auth_mode as Credential['authMode'],
    status: r.status as Credential['status'],
    ipAllowlist: r.ip_allowlist as string[],
    rateLimitPerMinute: r.rate_limit_per_minute as number,
    tier: r.tier as string,
    currency: r.currency as string,
    callbackUrl: r.callback_url as string | null
  }
}

export async function credentialBySecret (sql: postgres.Sql, secret: string): Promise<Credential | undefined> {
  const [row] = await sql.unsafe(CREDENTIAL_SELECT + 'k.secret_hash = $1', [hashToken(secret)], { prepare: true })
  return row ? toCredential(row) : undefined
}

export async function credentialByKeyId (sql: postgres.Sql, keyId: string): Promise<Credential | undefined> {
  const [row] = await sql.unsafe(CREDENTIAL_SELECT + 'k.id = $1', [keyId], { prepare: true })
  return row ? toCredential(row) : undefined
}

/**
 * Remembers a nonce until `expiresAt`; false when it was already used inside its window.
 * An expired row (not yet cleaned up) no longer counts as a use.
 */
export async function rememberNonce (sql: postgres.Sql, keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
  // Sent now (execute), not when awaited: `await` asks a query for its answer a microtask
  // later, by which time an order's BEGIN, sent synchronously, would be ahead of it and the
  // nonce would go into (and roll back with) the order's transaction.
  const rows = await sql`
    insert into request_nonces (key_id, nonce, expires_at) values (${keyId}, ${nonce}, ${expiresAt.toISOString()})
    on conflict (key_id, nonce) do update set expires_at = excluded.expires_at where request_nonces.expires_at < now()
    returning 1`.execute()
  return rows.length === 1
}

export function replayedRequest (): GatewayError {
  return new GatewayError('replayed_request', { detail: 'this nonce was already used with this key' })
}

/**
 * A signed request's nonce, recorded by the route in the same write as its first statements
 * (a signed order's look-ups or accept) instead of a round trip of its own before them.
 * `claim` sends the insert once, on the connection given; every later call answers the
 * same promise. Its own transaction either way: a nonce stays used whatever the order does.
 */
export class NonceClaim {
  private claimed: Promise<boolean> | undefined

  constructor (readonly keyId: string, readonly nonce: string, readonly expiresAt: Date) {}

  /** True when the nonce was fresh. */
  async claim (sql: postgres.Sql): Promise<boolean> {
    if (this.claimed === undefined) {
      this.claimed = rememberNonce(sql, this.keyId, this.nonce, this.expiresAt)
      // Awaited by whoever needs the answer; a caller that failed first must not leave it unhandled.
      this.claimed.catch(() => {})
    }
    return await this.claimed
  }

  get sent (): boolean {
    return this.claimed !== undefined
  }
}

export async function deleteExpiredNonces (sql: postgres.Sql): Promise<number> {
  const result = await sql`delete from request_nonces where expires_at < now()`
  return result.count
}

/**
 * One ledger row and the balance change it explains, together. With an idempotency key, a
 * retry returns the first entry instead of moving money again (a different amount or reason
 * under the same key is a conflict); concurrent retries meet on the unique index.
 */
export async function adjustBalance (sql: postgres.Sql, resellerId: string, amount: number, reason: string, actor: AuditActor, idempotencyKey?: string): Promise<{ entry: LedgerEntry, replayed: boolean } | 'not_found' | 'below_limit' | 'conflict'> {
  const replay = async (): Promise<{ entry: LedgerEntry, replayed: true } | 'conflict' | undefined> => {
    if (idempotencyKey === undefined) return undefined
    const [found] = await sql<LedgerRow[]>`
      select ${sql.unsafe(LEDGER_COLUMNS)} from ledger_entries where reseller_id = ${resellerId} and idempotency_key = ${idempotencyKey}`
    if (!found) return undefined
    return Number(found.amount) === amount && found.reason === reason ? { entry: toLedgerEntry(found), replayed: true } : 'conflict'
  }
  const prior = await replay()
  if (prior) return prior
  try {
    const result = await sql.begin(async (tx) => {
      const [reseller] = await tx<{ currency: string }[]>`select currency from resellers where id = ${resellerId}`
      if (!reseller) return 'not_found' as const
      if (amount > 0) await credit(tx, resellerId, amount)
      else if (!await debit(tx, resellerId, -amount)) return 'below_limit' as const
      const [entry] = await tx<LedgerRow[]>`
        insert into ledger_entries (reseller_id, kind, amount, currency, reason, actor_id, idempotency_key)
        values (${resellerId}, 'adjustment', ${amount}, ${reseller.currency}, ${reason}, ${actor.actorId}, ${idempotencyKey ?? null})
        returning ${tx.unsafe(LEDGER_COLUMNS)}`
      if (!entry) throw new Error('ledger insert returned no row')
      await writeAuditSql(tx, actor, { action: 'reseller.balance.adjust', targetType: 'reseller', targetId: resellerId, details: { amount, ledger_entry: serialId('led', entry.id) } })
      return { entry: toLedgerEntry(entry), replayed: false }
    })
    // A concurrent retry that debited first held the buckets we waited for, and left too
    // little for a second debit: the answer is its entry, not a shortfall.
    if (result === 'below_limit') return await replay() ?? result
    return result
  } catch (err) {
    // A concurrent retry committed first: answer as a replay of it.
    if ((err as { constraint_name?: string }).constraint_name === 'ledger_entries_idempotency_key') {
      const raced = await replay()
      if (raced) return raced
    }
    throw err
  }
}

const LEDGER_COLUMNS = 'id, reseller_id, kind, amount, currency, order_id, reason, actor_id, created_at'

interface LedgerRow { id: string, reseller_id: string, kind: LedgerEntry['kind'], amount: string, currency: string, order_id: string | null, reason: string | null, actor_id: string | null, created_at: unknown }

function toLedgerEntry (r: LedgerRow): LedgerEntry {
  return {
    id: Number(r.id), resellerId: r.reseller_id, kind: r.kind, amount: Number(r.amount), currency: r.currency, orderId: r.order_id,
    reason: r.reason, actorId: r.actor_id, idempotencyKey: null, createdAt: toDate(r.created_at) as Date
  }
}

export async function getBalance (database: Database, resellerId: string): Promise<{ balance: number, creditLimit: number, currency: string } | undefined> {
  const [reseller] = await database.sql<{ currency: string }[]>`select currency from resellers where id = ${resellerId}`
  const balance = await balanceOf(database.sql, resellerId)
  return reseller && balance ? { ...balance, currency: reseller.currency } : undefined
}

export async function listLedger (db: Db, resellerId: string, limit: number, beforeId?: number): Promise<LedgerEntry[]> {
  return await db.select().from(ledgerEntries)
    .where(and(eq(ledgerEntries.resellerId, resellerId), beforeId !== undefined ? lt(ledgerEntries.id, beforeId) : undefined))
    .orderBy(desc(ledgerEntries.id)).limit(limit)
}

/** Replaces the reseller's price overrides (PUT semantics, like tier prices). */
export async function replaceResellerPrices (db: Db, resellerId: string, prices: { sku: string, price: number }[], actor: AuditActor): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(resellerPrices).where(eq(resellerPrices.resellerId, resellerId))
    if (prices.length > 0) await tx.insert(resellerPrices).values(prices.map((p) => ({ resellerId, sku: p.sku, price: p.price })))
    await writeAudit(tx, actor, { action: 'reseller.prices.replace', targetType: 'reseller', targetId: resellerId, details: { count: prices.length } })
  })
}

export async function getResellerPrices (db: Db, resellerId: string) {
  return await db.select({ sku: resellerPrices.sku, price: resellerPrices.price, updatedAt: resellerPrices.updatedAt })
    .from(resellerPrices).where(eq(resellerPrices.resellerId, resellerId)).orderBy(asc(resellerPrices.sku))
}

export async function resellerExists (db: Db | Tx, id: string): Promise<boolean> {
  const [row] = await db.select({ id: resellers.id }).from(resellers).where(eq(resellers.id, id))
  return row !== undefined
}

/**
 * Re-encrypts reseller secrets (API key secrets, current and previous webhook secrets) still
 * under another key id with the keyring's primary key, in one transaction: there are few,
 * and after `keys rotate` the old key must be removable without breaking anyone.
 */
export async function rotateResellerSecrets (sql: postgres.Sql, keyring: Keyring): Promise<number> {
  const primary = keyring.primaryKeyId
  return await sql.begin(async (tx) => {
    let n = 0
    const keys = await tx<{ id: string, secret_key_id: string, secret_ciphertext: Buffer }[]>`
      select id, secret_key_id, secret_ciphertext from reseller_api_keys where secret_key_id <> ${primary} for update`
    for (const k of keys) {
      const sealed = keyring.encrypt(keyring.decrypt({ keyId: k.secret_key_id, ciphertext: k.secret_ciphertext }, apiSecretAad(k.id)), apiSecretAad(k.id))
      await tx`update reseller_api_keys set secret_key_id = ${sealed.keyId}, secret_ciphertext = ${sealed.ciphertext} where id = ${k.id}`
      n++
    }
    const rows = await tx<{ id: string, webhook_secret_key_id: string, webhook_secret_ciphertext: Buffer, previous_webhook_secret_key_id: string | null, previous_webhook_secret_ciphertext: Buffer | null }[]>`
      select id, webhook_secret_key_id, webhook_secret_ciphertext, previous_webhook_secret_key_id, previous_webhook_secret_ciphertext from resellers
      where webhook_secret_key_id <> ${primary} or previous_webhook_secret_key_id <> ${primary} for update`
    for (const r of rows) {
      const aad = webhookSecretAad(r.id)
      const current = keyring.encrypt(keyring.decrypt({ keyId: r.webhook_secret_key_id, ciphertext: r.webhook_secret_ciphertext }, aad), aad)
      const previous = r.previous_webhook_secret_key_id && r.previous_webhook_secret_ciphertext
        ? keyring.encrypt(keyring.decrypt({ keyId: r.previous_webhook_secret_key_id, ciphertext: r.previous_webhook_secret_ciphertext }, `${aad}:previous`), `${aad}:previous`)
        : null
      await tx`
        update resellers set webhook_secret_key_id = ${current.keyId}, webhook_secret_ciphertext = ${current.ciphertext},
          previous_webhook_secret_key_id = ${previous?.keyId ?? null}, previous_webhook_secret_ciphertext = ${previous?.ciphertext ?? null}
        where id = ${r.id}`
      n++
    }
    return n
  })
}
