import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytesFromPool } from './random.js'

/**
 * Envelope for secrets at rest: AES-256-GCM under a key id, with additional authenticated
 * data binding each ciphertext to the row and column it belongs to, so a ciphertext
 * copied to another row fails to decrypt. Look-ups of secret values go through a keyed
 * fingerprint (HMAC-SHA256) that never needs decryption.
 */

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

export interface Sealed {
  keyId: string
  /** iv (12 bytes) || ciphertext || GCM tag (16 bytes) */
  ciphertext: Buffer
}

export class KeyringError extends Error {
  override name = 'KeyringError'
}

export interface Keyring {
  /** The key that encrypts new data: the first of ENCRYPTION_KEYS. */
  readonly primaryKeyId: string
  readonly keyIds: readonly string[]
  encrypt (plaintext: string | Buffer, aad: string): Sealed
  decrypt (sealed: Sealed, aad: string): Buffer
  decryptString (sealed: Sealed, aad: string): string
  /** Keyed hash for equality look-ups; `purpose` separates domains (e.g. `card_key.code`). */
  fingerprint (purpose: string, value: string | Buffer): Buffer
}

function decodeKey (b64: string, what: string): Buffer {
  const key = Buffer.from(b64, 'base64')
  if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== b64.replace(/=+$/, '')) {
    throw new KeyringError(`${what}: expected base64 of exactly ${KEY_BYTES} bytes`)
  }
  return key
}

/** The keyring without its fingerprint key: what seals a fingerprint key kept in the database. */
export type CipherRing = Omit<Keyring, 'fingerprint'>

/** Parses `id:base64key,…` (ENCRYPTION_KEYS). Messages never echo key material. */
export function createCipherRing (encryptionKeys: string): CipherRing {
  const keys = new Map<string, Buffer>()
  encryptionKeys.split(',').forEach((entry, i) => {
    const sep = entry.indexOf(':')
    const id = sep > 0 ? entry.slice(0, sep).trim() : ''
    if (!KEY_ID.test(id)) throw new KeyringError(`ENCRYPTION_KEYS entry ${i + 1}: expected id:base64key with an id of [A-Za-z0-9_-]{1,32}`)
    if (keys.has(id)) throw new KeyringError(`ENCRYPTION_KEYS entry ${i + 1}: key id ${id} appears twice`)
    keys.set(id, decodeKey(entry.slice(sep + 1).trim(), `ENCRYPTION_KEYS entry ${i + 1} (${id})`))
  })
  const keyIds = [...keys.keys()]
  const primaryKeyId = keyIds[0]
  if (primaryKeyId === undefined) throw new KeyringError('ENCRYPTION_KEYS: at least one key is required')

  const keyFor = (id: string): Buffer => {
    const key = keys.get(id)
    if (!key) throw new KeyringError(`no key with id ${id} in ENCRYPTION_KEYS`)
    return key
  }

  const decrypt = (sealed: Sealed, aad: string): Buffer => {
    const key = keyFor(sealed.keyId)
    const blob = sealed.ciphertext
    if (blob.length < IV_BYTES + TAG_BYTES) throw new KeyringError('ciphertext is truncated')
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES))
    try {
      return Buffer.concat([decipher.update(blob.subarray(IV_BYTES, blob.length - TAG_BYTES)), decipher.final()])
    } catch {
      // Deliberately vague: wrong key, tampering and a ciphertext moved to another row look alike.
      throw new KeyringError(`decryption failed (key ${sealed.keyId})`)
    }
  }

  return {
    primaryKeyId,
    keyIds,
    encrypt (plaintext, aad) {
      const iv = randomBytesFromPool(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', keyFor(primaryKeyId), iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(aad, 'utf8'))
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
      return { keyId: primaryKeyId, ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]) }
    },
    decrypt,
    decryptString: (sealed, aad) => decrypt(sealed, aad).toString('utf8')
  }
}

/**
 * ENCRYPTION_KEYS and the fingerprint key: FINGERPRINT_KEY's base64, or the raw key kept in
 * the database (keyringFromDatabase).
 */
export function createKeyring (encryptionKeys: string, fingerprintKey: string | Buffer): Keyring {
  const fpKey = typeof fingerprintKey === 'string' ? decodeKey(fingerprintKey.trim(), 'FINGERPRINT_KEY') : fingerprintKey
  if (fpKey.length !== KEY_BYTES) throw new KeyringError(`fingerprint key: expected ${KEY_BYTES} bytes`)
  return {
    ...createCipherRing(encryptionKeys),
    fingerprint (purpose, value) {
      return createHmac('sha256', fpKey).update(purpose).update('\0').update(value).digest()
    }
  }
}

export function generateKeyMaterial (keyId = 'k1'): { encryptionKeys: string, fingerprintKey: string } {
  return {
    encryptionKeys: `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`,
    fingerprintKey: randomBytes(KEY_BYTES).toString('base64')
  }
}

/**
 * The embedded default keeps its keyring in DATA_DIR/keyring.json (mode 600), generated on
 * the first start and reused afterwards. Written aside and hard-linked into place, so two
 * processes racing on a fresh DATA_DIR agree on one complete file.
 */
export async function loadOrCreateKeyringFile (dataDir: string): Promise<{ encryptionKeys: string, fingerprintKey: string, created: boolean }> {
  const file = join(dataDir, 'keyring.json')
  await mkdir(dataDir, { recursive: true })
  const material = generateKeyMaterial()
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(tmp, JSON.stringify({ encryption_keys: material.encryptionKeys, fingerprint_key: material.fingerprintKey }) + '\n', { mode: 0o600 })
  let created = true
  try {
    await link(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    created = false
  } finally {
    await unlink(tmp)
  }
  await chmod(file, 0o600)
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { encryption_keys?: unknown, fingerprint_key?: unknown }
  if (typeof parsed.encryption_keys !== 'string' || typeof parsed.fingerprint_key !== 'string') {
    throw new KeyringError(`${file}: expected { "encryption_keys": "id:base64,…", "fingerprint_key": "base64" }`)
  }
  return { encryptionKeys: parsed.encryption_keys, fingerprintKey: parsed.fingerprint_key, created }
}
