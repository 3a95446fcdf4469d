import { asc, eq, getTableColumns, gt, inArray, sql } from 'drizzle-orm'
import type postgres from 'postgres'
import type { Keyring } from '../../crypto/keyring.js'
import { credentialsAad, SUPPLIER_CHANGES_CHANNEL } from '../../suppliers/registry.js'
import type { Db, Tx } from '../client.js'
import { suppliers, type NewSupplier, type Supplier } from '../schema/index.js'
import { writeAudit, type AuditActor } from './audit-log.js'

// Reads leave the sealed credentials behind: nothing that presents a supplier can reach them.
const { credentialsKeyId: _keyId, credentialsCiphertext: _ciphertext, ...VIEW } = getTableColumns(suppliers)

export type SupplierView = Omit<Supplier, 'credentialsKeyId' | 'credentialsCiphertext'>

export type SupplierPatch = Partial<Pick<NewSupplier,
  'baseUrl' | 'credentialsKeyId' | 'credentialsCiphertext' | 'timeoutMs' | 'errorThresholdPercentage' |
  'resetTimeoutMs' | 'volumeThreshold' | 'enabled' | 'forceState' | 'lowBalanceThreshold'>>

/** Committed with the change, so every process's registry reloads (see SupplierRegistry). */
async function announce (tx: Tx, id: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${SUPPLIER_CHANGES_CHANNEL}, ${id})`)
}

/** Inserts an instance; undefined when the id is taken. */
export async function createSupplier (db: Db, input: NewSupplier, actor: AuditActor): Promise<SupplierView | undefined> {
  return await db.transaction(async (tx) => {
    const [row] = await tx.insert(suppliers).values(input).onConflictDoNothing({ target: suppliers.id }).returning(VIEW)
    if (!row) return undefined
    await announce(tx, row.id)
    await writeAudit(tx, actor, { action: 'supplier.create', targetType: 'supplier', targetId: row.id, details: { adapter: row.adapter } })
    return row
  })
}

/** Applies a change and bumps `version`; undefined when there is no such instance. */
export async function updateSupplier (db: Db, id: string, patch: SupplierPatch, actor: AuditActor, details: Record<string, unknown>): Promise<SupplierView | undefined> {
  return await db.transaction(async (tx) => {
    const [row] = await tx.update(suppliers)
      .set({ ...patch, version: sql`${suppliers.version} + 1`, updatedAt: sql`now()` })
      .where(eq(suppliers.id, id)).returning(VIEW)
    if (!row) return undefined
    await announce(tx, id)
    await writeAudit(tx, actor, { action: 'supplier.update', targetType: 'supplier', targetId: id, details })
    return row
  })
}

export async function getSupplier (db: Db, id: string): Promise<SupplierView | undefined> {
  const [row] = await db.select(VIEW).from(suppliers).where(eq(suppliers.id, id))
  return row
}

export async function listSuppliers (db: Db, limit: number, after?: string): Promise<SupplierView[]> {
  return await db.select(VIEW).from(suppliers).where(after ? gt(suppliers.id, after) : undefined).orderBy(asc(suppliers.id)).limit(limit)
}

/**
 * Which of these ids are supplier instances. The key-share lock keeps them so until the
 * caller's transaction ends, should instances ever become deletable.
 */
export async function existingSuppliers (tx: Tx, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await tx.select({ id: suppliers.id }).from(suppliers).where(inArray(suppliers.id, ids)).for('key share')
  return new Set(rows.map((r) => r.id))
}

/**
 * Re-seals supplier credentials still under another key id with the keyring's primary key
 * (`keys rotate`), in one transaction: there are few. The plaintext is unchanged, so the
 * running processes need not reload.
 */
export async function rotateSupplierCredentials (sql: postgres.Sql, keyring: Keyring): Promise<number> {
  return await sql.begin(async (tx) => {
    const rows = await tx<{ id: string, credentials_key_id: string, credentials_ciphertext: Buffer }[]>`
      select id, credentials_key_id, credentials_ciphertext from suppliers where credentials_key_id <> ${keyring.primaryKeyId} for update`
    for (const r of rows) {
      const aad = credentialsAad(r.id)
      const sealed = keyring.encrypt(keyring.decrypt({ keyId: r.credentials_key_id, ciphertext: r.credentials_ciphertext }, aad), aad)
      await tx`update suppliers set credentials_key_id = ${sealed.keyId}, credentials_ciphertext = ${sealed.ciphertext} where id = ${r.id}`
    }
    return rows.length
  })
}
