import { createHash, randomBytes } from 'node:crypto'
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import type postgres from 'postgres'
import type { Keyring } from '../../crypto/keyring.js'
import { newId, newSecret } from '../../domain/ids.js'
import type { Db, Tx } from '../client.js'
import { ledgerEntries, resellerApiKeys, resellerBalances, resellerPrices, resellers, type LedgerEntry, type Reseller, type ResellerApiKey } from '../schema/index.js'
import { writeAudit, type AuditActor } from './audit-log.js'

export const secretHash = (secret: string): Buffer => createHash('sha256').update(secret).digest()
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

async function insertApiKey (tx: Tx, keyring: Keyring, resellerId: string): Promise<IssuedApiKey> {
  const keyId = newId('ak')
  const secret = newSecret('sk')
  const sealed = keyring.encrypt(secret, apiSecretAad(keyId))
  await tx.insert(resellerApiKeys).values({ id: keyId, resellerId, secretHash: secretHash(secret), secretKeyId: sealed.keyId, secretCiphertext: sealed.ciphertext })
  return { keyId, secret }
}

/** Creates the reseller, its zero balance and first credential; the secrets are returned once. */
export async function createReseller (db: Db, keyring: Keyring, input: ResellerInput, actor: AuditActor): Promise<{ view: ResellerView, apiKey: IssuedApiKey, webhookSecret: string }> {
  return await db.transaction(async (tx) => {
    const id = newId('rsl')
    const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`
    const sealed = keyring.encrypt(webhookSecret, webhookSecretAad(id))
    await tx.insert(resellers).values({
      id, name: input.name, tier: input.tier, currency: input.currency, callbackUrl: input.callbackUrl,
      callbackIncludesCodes: input.callbackIncludesCodes, authMode: input.authMode, ipAllowlist: input.ipAllowlist,
      rateLimitPerMinute: input.rateLimitPerMinute, webhookSecretKeyId: sealed.keyId, webhookSecretCiphertext: sealed.ciphertext
    })
    await tx.insert(resellerBalances).values({ resellerId: id, currency: input.currency, creditLimit: input.creditLimit })
    const apiKey = await insertApiKey(tx, keyring, id)
    await writeAudit(tx, actor, { action: 'reseller.create', targetType: 'reseller', targetId: id, details: { tier: input.tier, api_key: apiKey.keyId } })
    const view = await getResellerView(tx, id)
    if (!view) throw new Error('reseller vanished inside its own transaction')
    return { view, apiKey, webhookSecret }
  })
}

export async function getResellerView (db: Db | Tx, id: string): Promise<ResellerView | undefined> {
  const [row] = await db.select({ reseller: resellers, balance: resellerBalances.balance, creditLimit: resellerBalances.creditLimit })
    .from(resellers).innerJoin(resellerBalances, eq(resellerBalances.resellerId, resellers.id)).where(eq(resellers.id, id))
  if (!row) return undefined
  const keys = await db.select({ id: resellerApiKeys.id, createdAt: resellerApiKeys.createdAt, revokedAt: resellerApiKeys.revokedAt })
    .from(resellerApiKeys).where(eq(resellerApiKeys.resellerId, id)).orderBy(asc(resellerApiKeys.id))
  return { ...row.reseller, balance: row.balance, creditLimit: row.creditLimit, apiKeys: keys }
}

export async function listResellers (db: Db, limit: number, after?: string): Promise<ResellerView[]> {
  const rows = await db.select({ id: resellers.id }).from(resellers).where(after ? gt(resellers.id, after) : undefined).orderBy(asc(resellers.id)).limit(limit)
  const views = await Promise.all(rows.map(async (r) => await getResellerView(db, r.id)))
  return views.filter((v): v is ResellerView => v !== undefined)
}

export type ResellerPatch = Partial<Omit<ResellerInput, 'currency'>> & { status?: 'active' | 'suspended' }

export async function patchReseller (db: Db, id: string, patch: ResellerPatch, actor: AuditActor): Promise<ResellerView | undefined> {
  return await db.transaction(async (tx) => {
    const { creditLimit, ...fields } = patch
    const [updated] = await tx.update(resellers).set({ ...fields, updatedAt: sql`now()` }).where(eq(resellers.id, id)).returning({ id: resellers.id })
    if (!updated) return undefined
    if (creditLimit !== undefined) {
      // Lowering the limit below what is already spent is refused by the balance constraint.
      await tx.update(resellerBalances).set({ creditLimit, updatedAt: sql`now()` }).where(eq(resellerBalances.resellerId, id))
    }
    await writeAudit(tx, actor, { action: 'reseller.update', targetType: 'reseller', targetId: id, details: { fields: Object.keys(patch).sort() } })
    return await getResellerView(tx, id)
  })
}

export async function issueApiKey (db: Db, keyring: Keyring, resellerId: string, actor: AuditActor): Promise<IssuedApiKey | undefined> {
  return await db.transaction(async (tx) => {
    const [exists] = await tx.select({ id: resellers.id }).from(resellers).where(eq(resellers.id, resellerId)).for('update')
    if (!exists) return undefined
    const key = await insertApiKey(tx, keyring, resellerId)
    await writeAudit(tx, actor, { action: 'reseller.api_key.create', targetType: 'reseller', targetId: resellerId, details: { api_key: key.keyId } })
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
}

const CREDENTIAL_SELECT = `
  select k.id as key_id, k.reseller_id, k.secret_key_id, k.secret_ciphertext, r.auth_mode, r.status, r.ip_allowlist,
         r.rate_limit_per_minute, r.tier, r.currency
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
    currency: r.currency as string
  }
}

export async function credentialBySecret (sql: postgres.Sql, secret: string): Promise<Credential | undefined> {
  const [row] = await sql.unsafe(CREDENTIAL_SELECT + 'k.secret_hash = $1', [secretHash(secret)])
  return row ? toCredential(row) : undefined
}

export async function credentialByKeyId (sql: postgres.Sql, keyId: string): Promise<Credential | undefined> {
  const [row] = await sql.unsafe(CREDENTIAL_SELECT + 'k.id = $1', [keyId])
  return row ? toCredential(row) : undefined
}

/**
 * Remembers a nonce until `expiresAt`; false when it was already used inside its window.
 * An expired row (not yet cleaned up) no longer counts as a use.
 */
export async function rememberNonce (sql: postgres.Sql, keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
  const rows = await sql`
    insert into request_nonces (key_id, nonce, expires_at) values (${keyId}, ${nonce}, ${expiresAt.toISOString()})
    on conflict (key_id, nonce) do update set expires_at = excluded.expires_at where request_nonces.expires_at < now()
    returning 1`
  return rows.length === 1
}

export async function deleteExpiredNonces (sql: postgres.Sql): Promise<number> {
  const rows = await sql`delete from request_nonces where expires_at < now() returning 1`
  return rows.length
}

/** One ledger row and the balance change it explains, together. */
export async function adjustBalance (db: Db, resellerId: string, amount: number, reason: string, actor: AuditActor): Promise<{ entry: LedgerEntry } | 'not_found' | 'below_limit'> {
  return await db.transaction(async (tx) => {
    const [balance] = await tx.update(resellerBalances)
      .set({ balance: sql`${resellerBalances.balance} + ${amount}`, updatedAt: sql`now()` })
      .where(and(eq(resellerBalances.resellerId, resellerId), sql`${resellerBalances.balance} + ${amount} + ${resellerBalances.creditLimit} >= 0`))
      .returning({ balance: resellerBalances.balance, currency: resellerBalances.currency })
    if (!balance) {
      const [exists] = await tx.select({ id: resellerBalances.resellerId }).from(resellerBalances).where(eq(resellerBalances.resellerId, resellerId))
      return exists ? 'below_limit' : 'not_found'
    }
    const [entry] = await tx.insert(ledgerEntries).values({
      resellerId, kind: 'adjustment', amount, currency: balance.currency, balanceAfter: balance.balance, reason, actorId: actor.actorId
    }).returning()
    if (!entry) throw new Error('ledger insert returned no row')
    await writeAudit(tx, actor, { action: 'reseller.balance.adjust', targetType: 'reseller', targetId: resellerId, details: { amount, ledger_entry: entry.id } })
    return { entry }
  })
}

export async function getBalance (db: Db, resellerId: string): Promise<{ balance: number, creditLimit: number, currency: string } | undefined> {
  const [row] = await db.select({ balance: resellerBalances.balance, creditLimit: resellerBalances.creditLimit, currency: resellerBalances.currency })
    .from(resellerBalances).where(eq(resellerBalances.resellerId, resellerId))
  return row
}

export async function listLedger (db: Db, resellerId: string, limit: number, beforeId?: number): Promise<LedgerEntry[]> {
  return await db.select().from(ledgerEntries)
    .where(and(eq(ledgerEntries.resellerId, resellerId), beforeId !== undefined ? lt(ledgerEntries.id, beforeId) : undefined))
    .orderBy(desc(ledgerEntries.id)).limit(limit)
}

/** Resellers whose balance differs from the sum of their ledger (should be none). */
export async function ledgerMismatches (db: Db): Promise<{ resellerId: string, balance: number, ledgerSum: number }[]> {
  const rows = await db.execute<{ reseller_id: string, balance: string, ledger_sum: string }>(sql`
    select b.reseller_id, b.balance, coalesce(l.total, 0) as ledger_sum
    from reseller_balances b
    left join (select reseller_id, sum(amount) as total from ledger_entries group by reseller_id) l on l.reseller_id = b.reseller_id
    where b.balance <> coalesce(l.total, 0)
    order by b.reseller_id`)
  return rows.map((r) => ({ resellerId: r.reseller_id, balance: Number(r.balance), ledgerSum: Number(r.ledger_sum) }))
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
