import { createHash } from 'node:crypto'
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import { newId, newSecret } from '../../domain/ids.js'
import type { Db, Tx } from '../client.js'
import { writeAudit, type AuditActor } from './audit-log.js'
import { adminTokens, type AdminToken, type OperatorRole } from '../schema/index.js'

/**
 * Operator tokens and reseller API secrets carry 256 random bits, so a plain SHA-256 is
 * enough to make a dump useless and still allows look-up by hash.
 */
export function hashToken (token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

export interface IssuedToken {
  row: AdminToken
  /** Shown once; only its hash is stored. */
  token: string
}

/** Issues a token and writes its audit entry, in one transaction. */
export async function issueAdminToken (db: Db, input: { name: string, role: OperatorRole, actor: AuditActor, token?: string }): Promise<IssuedToken> {
  return await db.transaction(async (tx) => {
    const issued = await issueAdminTokenInTx(tx, input)
    if (!issued) throw new Error('a token with this hash already exists')
    return issued
  })
}

/** The same inside the caller's transaction; undefined when the token's hash is taken. */
export async function issueAdminTokenInTx (tx: Tx, input: { name: string, role: OperatorRole, actor: AuditActor, token?: string }): Promise<IssuedToken | undefined> {
  const token = input.token ?? newSecret('adm')
  const [row] = await tx.insert(adminTokens).values({
    id: newId('adt'),
    name: input.name,
    role: input.role,
    tokenHash: hashToken(token),
    tokenPrefix: token.slice(0, 10),
    createdBy: input.actor.actorId
  }).onConflictDoNothing({ target: adminTokens.tokenHash }).returning()
  if (!row) return undefined
  await writeAudit(tx, input.actor, { action: 'operator_token.create', targetType: 'operator_token', targetId: row.id, details: { role: row.role } })
  return { row, token }
}

/** Actor for work done by the gateway itself or its CLI, outside any HTTP request. */
export function systemActor (who: string): AuditActor {
  return { actorId: who, actorRole: 'admin', requestId: `${who}-${process.pid}`, ip: 'local' }
}

export async function findActiveToken (db: Db, token: string): Promise<AdminToken | undefined> {
  const [row] = await db.select().from(adminTokens)
    .where(and(eq(adminTokens.tokenHash, hashToken(token)), isNull(adminTokens.revokedAt)))
  return row
}

/** Throttled to one write a minute per token so busy operators do not write on every call. */
export async function touchToken (db: Db, id: string): Promise<void> {
  await db.update(adminTokens).set({ lastUsedAt: sql`now()` })
    .where(and(eq(adminTokens.id, id), or(isNull(adminTokens.lastUsedAt), lt(adminTokens.lastUsedAt, sql`now() - interval '1 minute'`))))
}

/**
 * Registers BOOTSTRAP_ADMIN_TOKEN when no active admin exists. The transaction-scoped
 * advisory lock stops two processes starting together from both registering it.
 */
export async function bootstrapAdminToken (db: Db, token: string): Promise<'registered' | 'skipped' | 'revoked'> {
  return await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7316042519)`)
    if (await hasActiveAdmin(tx)) return 'skipped'
    // A bootstrap token that was revoked stays revoked: the unique hash refuses it again.
    const issued = await issueAdminTokenInTx(tx, { name: 'bootstrap', role: 'admin', actor: systemActor('bootstrap'), token })
    return issued ? 'registered' : 'revoked'
  })
}

export async function hasActiveAdmin (tx: Db | Tx): Promise<boolean> {
  const [existing] = await tx.select({ id: adminTokens.id }).from(adminTokens)
    .where(and(eq(adminTokens.role, 'admin'), isNull(adminTokens.revokedAt))).limit(1)
  return existing !== undefined
}

export async function listAdminTokens (db: Db, limit: number, beforeId?: string): Promise<AdminToken[]> {
  return await db.select().from(adminTokens)
    .where(beforeId ? lt(adminTokens.id, beforeId) : undefined)
    .orderBy(desc(adminTokens.id)).limit(limit)
}

export async function revokeAdminToken (tx: Tx, id: string): Promise<AdminToken | undefined> {
  const [row] = await tx.update(adminTokens).set({ revokedAt: sql`coalesce(${adminTokens.revokedAt}, now())` })
    .where(eq(adminTokens.id, id)).returning()
  return row
}
