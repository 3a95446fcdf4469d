import { and, desc, eq, lt, type SQL } from 'drizzle-orm'
import type postgres from 'postgres'
import type { Db, Tx } from '../client.js'
import { auditLog, type AuditEntry, type OperatorRole } from '../schema/index.js'

export interface AuditActor {
  actorId: string
  actorRole: OperatorRole
  requestId: string
  ip: string
}

export interface AuditEvent {
  action: string
  targetType: string
  targetId: string
  details?: Record<string, unknown>
}

/** Written inside the mutation's own transaction: no change without its entry, and vice versa. */
export async function writeAudit (tx: Db | Tx, actor: AuditActor, event: AuditEvent): Promise<void> {
  await tx.insert(auditLog).values({ ...actor, ...event, details: event.details ?? {} })
}

/** The same, for the pool's postgres.js transactions (see card-keys.ts for why those skip drizzle). */
export async function writeAuditSql (tx: postgres.Sql | postgres.TransactionSql, actor: AuditActor, event: AuditEvent): Promise<void> {
  await tx`
    insert into audit_log (actor_id, actor_role, action, target_type, target_id, request_id, ip, details)
    values (${actor.actorId}, ${actor.actorRole}, ${event.action}, ${event.targetType}, ${event.targetId},
      ${actor.requestId}, ${actor.ip}, ${JSON.stringify(event.details ?? {})}::jsonb)`
}

export interface AuditFilter {
  actorId?: string | undefined
  action?: string | undefined
  targetType?: string | undefined
  targetId?: string | undefined
  beforeId?: number | undefined
}

export async function listAudit (db: Db, filter: AuditFilter, limit: number): Promise<AuditEntry[]> {
  const where: SQL[] = []
  if (filter.actorId) where.push(eq(auditLog.actorId, filter.actorId))
  if (filter.action) where.push(eq(auditLog.action, filter.action))
  if (filter.targetType) where.push(eq(auditLog.targetType, filter.targetType))
  if (filter.targetId) where.push(eq(auditLog.targetId, filter.targetId))
  if (filter.beforeId !== undefined) where.push(lt(auditLog.id, filter.beforeId))
  return await db.select().from(auditLog).where(and(...where)).orderBy(desc(auditLog.id)).limit(limit)
}
