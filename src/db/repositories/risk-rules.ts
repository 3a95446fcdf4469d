import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm'
import type { RiskRuleKind } from '../../domain/risk/rules.js'
import type { Db, Tx } from '../client.js'
import { resellers, riskRules, skus } from '../schema/index.js'

export type RiskRuleRow = typeof riskRules.$inferSelect
export type RiskRuleInsert = Omit<typeof riskRules.$inferInsert, 'createdAt' | 'updatedAt'>
export type RiskRulePatch = Partial<Pick<RiskRuleInsert, 'action' | 'sku' | 'resellerId' | 'params' | 'enabled'>>

export async function insertRiskRule (tx: Tx, input: RiskRuleInsert): Promise<RiskRuleRow> {
  const [row] = await tx.insert(riskRules).values(input).returning()
  if (!row) throw new Error('risk rule insert returned nothing')
  return row
}

export async function updateRiskRule (tx: Tx, id: string, patch: RiskRulePatch): Promise<RiskRuleRow | undefined> {
  const [row] = await tx.update(riskRules).set({ ...patch, updatedAt: sql`now()` }).where(eq(riskRules.id, id)).returning()
  return row
}

/** Its quota counters go with it (on delete cascade). */
export async function deleteRiskRule (tx: Tx, id: string): Promise<RiskRuleRow | undefined> {
  const [row] = await tx.delete(riskRules).where(eq(riskRules.id, id)).returning()
  return row
}

export async function getRiskRule (db: Db | Tx, id: string, options: { forUpdate?: boolean } = {}): Promise<RiskRuleRow | undefined> {
  const query = db.select().from(riskRules).where(eq(riskRules.id, id))
  const [row] = options.forUpdate === true ? await query.for('update') : await query
  return row
}

export interface RiskRuleFilter {
  sku?: string | undefined
  resellerId?: string | undefined
  kind?: RiskRuleKind | undefined
  afterId?: string | undefined
}

/** Oldest first: ids sort by creation time. */
export async function listRiskRules (db: Db, filter: RiskRuleFilter, limit: number): Promise<RiskRuleRow[]> {
  const where: SQL[] = []
  if (filter.sku !== undefined) where.push(eq(riskRules.sku, filter.sku))
  if (filter.resellerId !== undefined) where.push(eq(riskRules.resellerId, filter.resellerId))
  if (filter.kind !== undefined) where.push(eq(riskRules.kind, filter.kind))
  if (filter.afterId !== undefined) where.push(gt(riskRules.id, filter.afterId))
  return await db.select().from(riskRules).where(and(...where)).orderBy(asc(riskRules.id)).limit(limit)
}

/**
 * Which of a rule's scope exists: the SKU and the reseller it names. The key-share locks
 * keep them so until the caller's transaction ends.
 */
export async function riskScopeExists (tx: Tx, scope: { sku?: string | null | undefined, resellerId?: string | null | undefined }): Promise<{ sku: boolean, resellerId: boolean }> {
  const sku = typeof scope.sku === 'string'
    ? (await tx.select({ sku: skus.sku }).from(skus).where(eq(skus.sku, scope.sku)).for('key share')).length === 1
    : true
  const resellerId = typeof scope.resellerId === 'string'
    ? (await tx.select({ id: resellers.id }).from(resellers).where(eq(resellers.id, scope.resellerId)).for('key share')).length === 1
    : true
  return { sku, resellerId }
}
