import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createKeyring, generateKeyMaterial, KeyringError, loadOrCreateKeyringFile, type Sealed } from '../../src/crypto/keyring.js'
import { packageRoot } from '../../src/paths.js'

const key = (): string => randomBytes(32).toString('base64')
const OLD = key()
const NEW = key()
const FP = key()

const AAD = 'card_keys.code:ck_1'

function thrown (fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

function tamper (sealed: Sealed, index: number): Sealed {
  const ciphertext = Buffer.from(sealed.ciphertext)
  ciphertext[index] = (ciphertext[index] ?? 0) ^ 0x01
  return { ...sealed, ciphertext }
}

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'egw-keyring-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('encrypt/decrypt round trip', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  t.equal(keyring.primaryKeyId, 'k1')
  t.same(keyring.keyIds, ['k1'])

  const text = 'CODE-1234-ÄÖÜ-卡密-🎮'
  const sealed = keyring.encrypt(text, AAD)
  t.equal(sealed.keyId, 'k1')
  t.notOk(sealed.ciphertext.includes(Buffer.from(text, 'utf8')), 'ciphertext does not contain the plaintext')
  t.equal(sealed.ciphertext.length, 12 + Buffer.byteLength(text) + 16, 'iv || body || tag')
  t.equal(keyring.decryptString(sealed, AAD), text)
  t.same(keyring.decrypt(sealed, AAD), Buffer.from(text, 'utf8'))

  const bytes = randomBytes(100)
  t.same(keyring.decrypt(keyring.encrypt(bytes, AAD), AAD), bytes, 'Buffer plaintext')

  t.equal(keyring.decryptString(keyring.encrypt('', AAD), AAD), '', 'empty plaintext')
})

t.test('ciphertext differs on every call (random IV)', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const a = keyring.encrypt('same secret', AAD)
  const b = keyring.encrypt('same secret', AAD)
  t.notSame(a.ciphertext, b.ciphertext)
  t.notSame(a.ciphertext.subarray(0, 12), b.ciphertext.subarray(0, 12), 'IVs differ')
  t.equal(keyring.decryptString(a, AAD), keyring.decryptString(b, AAD))
})

t.test('AAD mismatch is refused without revealing the plaintext', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const plaintext = 'SUPER-SECRET-CODE'
  const sealed = keyring.encrypt(plaintext, AAD)
  const err = thrown(() => keyring.decrypt(sealed, 'card_keys.pin:ck_1'))
  t.type(err, KeyringError)
  t.notMatch(err.message, plaintext)
  t.notMatch(err.message, OLD)
})

t.test('a ciphertext copied to another row does not decrypt', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const sealed = keyring.encrypt('code of row 1', 'card_keys.code:ck_1')
  t.throws(() => keyring.decrypt(sealed, 'card_keys.code:ck_2'), KeyringError)
  t.equal(keyring.decryptString(sealed, 'card_keys.code:ck_1'), 'code of row 1', 'still fine at home')
})

t.test('tampering with any part of the envelope fails', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const sealed = keyring.encrypt('tamper me', AAD)
  const last = sealed.ciphertext.length - 1
  for (const [what, index] of [['iv', 0], ['body', 12], ['tag', last]] as const) {
    t.throws(() => keyring.decrypt(tamper(sealed, index), AAD), KeyringError, what)
  }
})

t.test('truncated ciphertext fails', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const sealed = keyring.encrypt('truncate me', AAD)
  t.throws(() => keyring.decrypt({ ...sealed, ciphertext: sealed.ciphertext.subarray(0, sealed.ciphertext.length - 1) }, AAD), KeyringError, 'one byte short')
  t.throws(() => keyring.decrypt({ ...sealed, ciphertext: sealed.ciphertext.subarray(0, 20) }, AAD), KeyringError, 'shorter than iv + tag')
  t.throws(() => keyring.decrypt({ ...sealed, ciphertext: Buffer.alloc(0) }, AAD), KeyringError, 'empty')
})

t.test('unknown key id fails with a message naming it', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const sealed = keyring.encrypt('x', AAD)
  const err = thrown(() => keyring.decrypt({ ...sealed, keyId: 'gone7' }, AAD))
  t.type(err, KeyringError)
  t.match(err.message, 'gone7')
  t.notMatch(err.message, OLD)
})

t.test('rotation: the first key encrypts, older keys still decrypt', async (t) => {
  const before = createKeyring(`k1:${OLD}`, FP)
  const oldData = before.encrypt('written before rotation', AAD)

  const rotated = createKeyring(`k2:${NEW},k1:${OLD}`, FP)
  t.equal(rotated.primaryKeyId, 'k2')
  t.same(rotated.keyIds, ['k2', 'k1'])
  const newData = rotated.encrypt('written after rotation', AAD)
  t.equal(newData.keyId, 'k2')
  t.equal(rotated.decryptString(oldData, AAD), 'written before rotation')
  t.equal(rotated.decryptString(newData, AAD), 'written after rotation')

  const retired = createKeyring(`k2:${NEW}`, FP)
  t.equal(retired.decryptString(newData, AAD), 'written after rotation')
  const err = thrown(() => retired.decrypt(oldData, AAD))
  t.type(err, KeyringError)
  t.match(err.message, 'k1')

  const swapped = createKeyring(`k1:${NEW}`, FP)
  t.throws(() => swapped.decrypt(oldData, AAD), KeyringError, 'same id, different key material')
})

t.test('fingerprint', async (t) => {
  const keyring = createKeyring(`k1:${OLD}`, FP)
  const a = keyring.fingerprint('card_key.code', 'ABC-123')
  t.type(a, Buffer)
  t.equal(a.length, 32)
  t.same(keyring.fingerprint('card_key.code', 'ABC-123'), a, 'deterministic')
  t.same(keyring.fingerprint('card_key.code', Buffer.from('ABC-123')), a, 'string and Buffer agree')
  t.notSame(keyring.fingerprint('card_key.code', 'ABC-124'), a, 'depends on the value')
  t.notSame(keyring.fingerprint('api_key.secret', 'ABC-123'), a, 'depends on the purpose')
  // The separator keeps purpose/value boundaries from sliding into each other.
  t.notSame(keyring.fingerprint('ab', 'c'), keyring.fingerprint('a', 'bc'), 'purpose and value do not run together')

  t.same(createKeyring(`k9:${NEW}`, FP).fingerprint('card_key.code', 'ABC-123'), a, 'independent of the encryption keys')
  t.notSame(createKeyring(`k1:${OLD}`, key()).fingerprint('card_key.code', 'ABC-123'), a, 'depends on FINGERPRINT_KEY')
})

t.test('bad key material raises KeyringError without echoing the material', async (t) => {
  const short = randomBytes(31).toString('base64')
  const long = randomBytes(33).toString('base64')
  const notBase64 = 'not*base64!' + 'A'.repeat(33)
  const urlSafe = Buffer.from(Array.from({ length: 32 }, () => 0xfb)).toString('base64url')
  const cases: Array<[string, string, string, string[]]> = [
    ['key too short', `k1:${short}`, FP, [short]],
    ['key too long', `k1:${long}`, FP, [long]],
    ['key not base64', `k1:${notBase64}`, FP, [notBase64]],
    ['key base64url instead of base64', `k1:${urlSafe}`, FP, [urlSafe]],
    ['missing id', `:${OLD}`, FP, [OLD]],
    ['no separator', OLD, FP, [OLD]],
    ['bad id characters', `k 1!:${OLD}`, FP, [OLD]],
    ['id too long', `${'k'.repeat(33)}:${OLD}`, FP, [OLD]],
    ['duplicate id', `k1:${OLD},k1:${NEW}`, FP, [OLD, NEW]],
    ['empty keyring', '', FP, []],
    ['trailing comma', `k1:${OLD},`, FP, [OLD]],
    ['fingerprint key too short', `k1:${OLD}`, short, [OLD, short]],
    ['fingerprint key not base64', `k1:${OLD}`, notBase64, [OLD, notBase64]],
    ['fingerprint key empty', `k1:${OLD}`, '', [OLD]]
  ]
  for (const [name, encryptionKeys, fingerprintKey, secrets] of cases) {
    const err = thrown(() => createKeyring(encryptionKeys, fingerprintKey))
    t.type(err, KeyringError, name)
    for (const secret of secrets) {
      t.notOk(err.message.includes(secret), `${name}: message does not contain key material`)
      t.notOk(err.message.includes(secret.slice(0, 12)), `${name}: message does not contain a prefix of key material`)
    }
  }
  const dup = thrown(() => createKeyring(`k1:${OLD},k1:${NEW}`, FP))
  t.match(dup.message, /k1/, 'duplicate names the id')
  t.match(thrown(() => createKeyring(`k1:${OLD}`, short)).message, /FINGERPRINT_KEY/)
  t.match(thrown(() => createKeyring(`k1:${short}`, FP)).message, /ENCRYPTION_KEYS/)
})

t.test('whitespace around entries is tolerated', async (t) => {
  const keyring = createKeyring(` k2 : ${NEW} , k1:${OLD} `, ` ${FP}\n`)
  t.same(keyring.keyIds, ['k2', 'k1'])
})

t.test('generateKeyMaterial produces a usable keyring', async (t) => {
  const m = generateKeyMaterial('gen1')
  t.match(m.encryptionKeys, /^gen1:[A-Za-z0-9+/]+=*$/)
  const keyring = createKeyring(m.encryptionKeys, m.fingerprintKey)
  t.equal(keyring.primaryKeyId, 'gen1')
  t.equal(keyring.decryptString(keyring.encrypt('ok', AAD), AAD), 'ok')
  t.notSame(generateKeyMaterial('gen1'), m, 'random each time')
})

t.test('loadOrCreateKeyringFile', async (t) => {
  t.test('creates keyring.json (mode 600) once and reuses it', async (t) => {
    const dir = join(await tempDir(t), 'nested', 'data')
    const first = await loadOrCreateKeyringFile(dir)
    t.equal(first.created, true)
    const file = join(dir, 'keyring.json')
    t.equal((await stat(file)).mode & 0o777, 0o600)
    const keyring = createKeyring(first.encryptionKeys, first.fingerprintKey)
    const sealed = keyring.encrypt('persisted', AAD)

    const second = await loadOrCreateKeyringFile(dir)
    t.equal(second.created, false)
    t.equal(second.encryptionKeys, first.encryptionKeys)
    t.equal(second.fingerprintKey, first.fingerprintKey)
    t.equal(createKeyring(second.encryptionKeys, second.fingerprintKey).decryptString(sealed, AAD), 'persisted')

    t.same(JSON.parse(await readFile(file, 'utf8')), { encryption_keys: first.encryptionKeys, fingerprint_key: first.fingerprintKey })
    t.same(await readdir(dir), ['keyring.json'], 'no temporary files left behind')
  })

  t.test('two processes racing on a fresh dir agree', async (t) => {
    const dir = await tempDir(t)
    const script = `
      import { loadOrCreateKeyringFile } from ${JSON.stringify(join(packageRoot, 'src/crypto/keyring.ts'))}
      process.stdout.write(JSON.stringify(await loadOrCreateKeyringFile(${JSON.stringify(dir)})))`
    const run = async (): Promise<{ encryptionKeys: string, fingerprintKey: string, created: boolean }> => await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => { out += d.toString() })
      child.stderr.on('data', (d: Buffer) => { err += d.toString() })
      child.on('error', reject)
      child.on('exit', (code) => code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)))
    })
    const results = await Promise.all([run(), run(), run()])
    t.equal(results.filter((r) => r.created).length, 1, 'exactly one created the file')
    for (const r of results) {
      t.equal(r.encryptionKeys, results[0]?.encryptionKeys)
      t.equal(r.fingerprintKey, results[0]?.fingerprintKey)
    }
    t.same(await readdir(dir), ['keyring.json'])
  })

  t.test('two concurrent calls in one process agree', async (t) => {
    const dir = await tempDir(t)
    const results = await Promise.all([loadOrCreateKeyringFile(dir), loadOrCreateKeyringFile(dir)])
    t.equal(results.filter((r) => r.created).length, 1, 'exactly one created the file')
    t.equal(results[0].encryptionKeys, results[1].encryptionKeys)
    t.equal(results[0].fingerprintKey, results[1].fingerprintKey)
    t.same(await readdir(dir), ['keyring.json'])
  })

  t.test('a corrupt keyring.json is refused with KeyringError', async (t) => {
    const dir = await tempDir(t)
    await writeFile(join(dir, 'keyring.json'), JSON.stringify({ encryption_keys: 42 }))
    await t.rejects(loadOrCreateKeyringFile(dir), KeyringError)
  })
})
