import { randomBytes } from 'node:crypto'
import type postgres from 'postgres'
import { createCipherRing, createKeyring, KeyringError, type CipherRing, type Keyring } from '../../crypto/keyring.js'

const FINGERPRINT = 'fingerprint_key'
const aad = (name: string): string => `keyring_secrets.${name}`

/**
 * The keyring of a deployment with ENCRYPTION_KEYS. The database keeps the fingerprint key,
 * sealed under ENCRYPTION_KEYS (it must never change: card keys are found and deduplicated by
 * it): FINGERPRINT_KEY when set, which must agree with a stored one, else one generated on the
 * first start. Under a lock, so that processes starting together store one key.
 */
export async function keyringFromDatabase (sql: postgres.Sql, encryptionKeys: string, fingerprintKey: string | undefined): Promise<{ keyring: Keyring, created: boolean }> {
  const ring = createCipherRing(encryptionKeys)
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('keyring_secrets'))`
    const [row] = await tx<{ key_id: string, ciphertext: Buffer }[]>`select key_id, ciphertext from keyring_secrets where name = ${FINGERPRINT}`
    const stored = row ? createKeyring(encryptionKeys, ring.decrypt({ keyId: row.key_id, ciphertext: row.ciphertext }, aad(FINGERPRINT))) : undefined
    if (fingerprintKey !== undefined) {
      const keyring = createKeyring(encryptionKeys, fingerprintKey)
      // Equal keys give equal fingerprints; the keys themselves are never compared or shown.
      if (stored && !stored.fingerprint('keyring.check', '').equals(keyring.fingerprint('keyring.check', ''))) {
        throw new KeyringError('FINGERPRINT_KEY differs from the fingerprint key this database keeps, which its card keys were imported with; unset FINGERPRINT_KEY to use the stored one')
      }
      // Pinned in the database too: a process started later without FINGERPRINT_KEY then uses
      // this key instead of generating another beside it.
      if (!stored) await store(tx, ring, Buffer.from(fingerprintKey.trim(), 'base64'))
      return { keyring, created: false }
    }
    if (stored) return { keyring: stored, created: false }
    const [codes] = await tx<{ any: boolean }[]>`select exists (select 1 from card_keys) as any`
    if (codes?.any === true) {
      throw new KeyringError('FINGERPRINT_KEY is required: this database holds card keys fingerprinted with a key it does not keep; set the FINGERPRINT_KEY they were imported with')
    }
    const key = randomBytes(32)
    await store(tx, ring, key)
    return { keyring: createKeyring(encryptionKeys, key), created: true }
  })
}

async function store (tx: postgres.TransactionSql, ring: CipherRing, key: Buffer): Promise<void> {
  const sealed = ring.encrypt(key, aad(FINGERPRINT))
  await tx`insert into keyring_secrets (name, key_id, ciphertext) values (${FINGERPRINT}, ${sealed.keyId}, ${sealed.ciphertext})`
}

/** Re-seals the stored key material under the primary key (`keys rotate`); how many rows. */
export async function rotateKeyringSecrets (sql: postgres.Sql, ring: CipherRing): Promise<number> {
  return await sql.begin(async (tx) => {
    const rows = await tx<{ name: string, key_id: string, ciphertext: Buffer }[]>`
      select name, key_id, ciphertext from keyring_secrets where key_id <> ${ring.primaryKeyId} for update`
    for (const r of rows) {
      const sealed = ring.encrypt(ring.decrypt({ keyId: r.key_id, ciphertext: r.ciphertext }, aad(r.name)), aad(r.name))
      await tx`update keyring_secrets set key_id = ${sealed.keyId}, ciphertext = ${sealed.ciphertext}, updated_at = now() where name = ${r.name}`
    }
    return rows.length
  })
}
