import { spawn } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'
import { generateKeyMaterial } from '../src/crypto/keyring.js'
import { packageRoot } from '../src/paths.js'
import { runCli } from './helper.js'

const KEYS = generateKeyMaterial('cfg1')
const WITH_DB = {
  DATABASE_URL: 'postgres://gateway:pw@db.internal:5432/gateway',
  ENCRYPTION_KEYS: KEYS.encryptionKeys,
  FINGERPRINT_KEY: KEYS.fingerprintKey
}

function configError (env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error(`expected a ConfigError for ${Object.keys(env).join(', ')}`)
}

t.test('embedded defaults', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    nodeEnv: 'production',
    port: 3000,
    host: '127.0.0.1',
    databaseUrl: undefined,
    dataDir: './.data',
    redisUrl: undefined,
    sandbox: true,
    callbackAllowPrivate: true,
    bootstrapAdminToken: undefined,
    encryptionKeys: undefined,
    fingerprintKey: undefined,
    orderSyncWaitMs: 3000,
    workers: true,
    logLevel: 'info',
    publicBaseUrl: 'http://127.0.0.1:3000',
    supplierPollIntervalMs: 5000,
    reconcileAfterMs: 60_000,
    trustProxy: false
  })
  t.same(config.webhookRetryScheduleMs, [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
})

t.test('loadConfig reads process.env by default', async (t) => {
  const saved = process.env.PORT
  process.env.PORT = '4321'
  t.teardown(() => { if (saved === undefined) delete process.env.PORT; else process.env.PORT = saved })
  t.equal(loadConfig().port, 4321)
})

t.test('DATABASE_URL turns the sandbox off and needs a keyring', async (t) => {
  const config = loadConfig(WITH_DB)
  t.equal(config.sandbox, false)
  t.equal(config.callbackAllowPrivate, false)
  t.equal(config.databaseUrl, WITH_DB.DATABASE_URL)
  t.equal(config.encryptionKeys, KEYS.encryptionKeys)
  t.equal(config.fingerprintKey, KEYS.fingerprintKey)

  const err = configError({ DATABASE_URL: WITH_DB.DATABASE_URL })
  t.match(err.message, /ENCRYPTION_KEYS/)
  t.notMatch(err.message, 'pw@', 'the connection string is not echoed')
})

t.test('explicit values override the derived defaults', async (t) => {
  t.equal(loadConfig({ ...WITH_DB, SANDBOX: 'true' }).sandbox, true)
  t.equal(loadConfig({ ...WITH_DB, SANDBOX: 'true' }).callbackAllowPrivate, true, 'sandbox allows private callbacks')
  t.equal(loadConfig({ SANDBOX: 'false' }).sandbox, false)
  t.equal(loadConfig({ SANDBOX: '0' }).sandbox, false)
  t.equal(loadConfig({ CALLBACK_ALLOW_PRIVATE: 'false' }).callbackAllowPrivate, false)
  t.equal(loadConfig({ ...WITH_DB, CALLBACK_ALLOW_PRIVATE: '1' }).callbackAllowPrivate, true)
  t.equal(loadConfig({ WORKERS: 'false' }).workers, false)
  t.equal(loadConfig({ PORT: '8080', HOST: '0.0.0.0' }).publicBaseUrl, 'http://127.0.0.1:8080', 'wildcard host is browsed on loopback')
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://gw.example/' }).publicBaseUrl, 'https://gw.example', 'trailing slash dropped')
  t.same(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0s, 250ms,1m,1h,1d' }).webhookRetryScheduleMs, [0, 250, 60_000, 3_600_000, 86_400_000])
  t.equal(loadConfig({ ORDER_SYNC_WAIT_MS: '0' }).orderSyncWaitMs, 0)
  t.equal(loadConfig({ REDIS_URL: 'rediss://cache:6380' }).redisUrl, 'rediss://cache:6380')
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy, ['10.0.0.0/8', '::1'])
  t.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1, 'a hop count, not the address 0.0.0.1')
  for (const bad of ['10.0.0.0/33', 'proxy.example', '1.2.3.4/8/9']) {
    t.throws(() => loadConfig({ TRUST_PROXY: bad }), /TRUST_PROXY: expected true, false, a hop count/, bad)
  }
  const token = `adm_${'a'.repeat(40)}`
  t.equal(loadConfig({ BOOTSTRAP_ADMIN_TOKEN: token }).bootstrapAdminToken, token)
})

t.test('an empty variable means unset', async (t) => {
  t.doesNotThrow(() => loadConfig({ SANDBOX: '' }), 'SANDBOX=')
  t.doesNotThrow(() => loadConfig({ CALLBACK_ALLOW_PRIVATE: '' }), 'CALLBACK_ALLOW_PRIVATE=')
  // z.coerce.number('') is 0: PORT= silently listens on a random port.
  t.equal(loadConfig({ PORT: '' }).port, 3000, 'PORT=')
  t.equal(loadConfig({ ORDER_SYNC_WAIT_MS: '' }).orderSyncWaitMs, 3000, 'ORDER_SYNC_WAIT_MS=')
})

t.test('an IPv6 HOST gives a valid PUBLIC_BASE_URL', async (t) => {
  const { publicBaseUrl } = loadConfig({ HOST: '::1' })
  t.doesNotThrow(() => new URL(publicBaseUrl), publicBaseUrl)
  t.equal(publicBaseUrl, 'http://[::1]:3000')
})

t.test('ENCRYPTION_KEYS alone is enough (the fingerprint key is then kept in the database); FINGERPRINT_KEY alone is refused', async (t) => {
  const config = loadConfig({ DATABASE_URL: WITH_DB.DATABASE_URL, ENCRYPTION_KEYS: KEYS.encryptionKeys })
  t.equal(config.fingerprintKey, undefined)
  const err = configError({ DATABASE_URL: WITH_DB.DATABASE_URL, FINGERPRINT_KEY: KEYS.fingerprintKey })
  t.match(err.message, /ENCRYPTION_KEYS: required when FINGERPRINT_KEY is set/)
  t.notMatch(err.message, KEYS.fingerprintKey, 'key material not echoed')
})

t.test('each bad value is a ConfigError naming its variable', async (t) => {
  const cases: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['SANDBOX', 'maybe'],
    ['CALLBACK_ALLOW_PRIVATE', 'yes please'],
    ['WORKERS', 'on'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['WEBHOOK_RETRY_SCHEDULE', '5x'],
    ['WEBHOOK_RETRY_SCHEDULE', '5s,,5m'],
    ['BOOTSTRAP_ADMIN_TOKEN', 'short'],
    ['REDIS_URL', 'http://x'],
    ['PUBLIC_BASE_URL', 'ftp://gw.example'],
    ['ORDER_SYNC_WAIT_MS', '-1'],
    ['ORDER_SYNC_WAIT_MS', '60001'],
    ['SUPPLIER_POLL_INTERVAL_MS', '1'],
    ['RECONCILE_AFTER_MS', 'soon'],
    ['DATABASE_POOL_SIZE', '0']
  ]
  for (const [name, value] of cases) {
    const err = configError({ [name]: value })
    t.type(err, ConfigError, `${name}=${value}`)
    t.equal(err.problems.length, 1, `${name}=${value}: one problem`)
    t.match(err.problems[0], new RegExp(`^${name}: `), `${name}=${value}: names the variable`)
    t.match(err.message, /^Invalid configuration:\n {2}- /, `${name}=${value}: readable message`)
  }
})

t.test('several bad values are reported together', async (t) => {
  const err = configError({ PORT: 'abc', SANDBOX: 'maybe', LOG_LEVEL: 'loud', REDIS_URL: 'http://x' })
  t.equal(err.problems.length, 4)
  for (const name of ['PORT', 'SANDBOX', 'LOG_LEVEL', 'REDIS_URL']) t.match(err.message, name)
})

t.test('a missing keyring is reported together with bad values', async (t) => {
  const err = configError({ PORT: 'abc', DATABASE_URL: WITH_DB.DATABASE_URL })
  t.match(err.message, /PORT/)
  t.match(err.message, /ENCRYPTION_KEYS/)
})

t.test('messages never echo secret values', async (t) => {
  const token = 'adm_tooShortButSecret-7f3a'
  const tokenErr = configError({ BOOTSTRAP_ADMIN_TOKEN: token })
  t.match(tokenErr.message, /BOOTSTRAP_ADMIN_TOKEN/)
  t.notOk(tokenErr.message.includes(token), 'bad token not echoed')
  t.notOk(tokenErr.message.includes('tooShortButSecret'), 'no part of the token echoed')

  const password = 'hunter2-db-Pa55'
  const dbErr = configError({ DATABASE_URL: `mysql://app:${password}@db:3306/app` })
  t.match(dbErr.message, /DATABASE_URL/)
  t.notOk(dbErr.message.includes(password), 'database password not echoed')

  const redisErr = configError({ REDIS_URL: `http://:${password}@cache:6379` })
  t.notOk(redisErr.message.includes(password), 'redis password not echoed')

  const missingKeys = configError({ DATABASE_URL: `postgres://app:${password}@db/app` })
  t.notOk(missingKeys.message.includes(password), 'valid DATABASE_URL not echoed in the ENCRYPTION_KEYS problem')
})

t.test('the CLI exits 78 (EX_CONFIG) naming the bad variable', async (t) => {
  const { code, stderr } = await new Promise<{ code: number | null, stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts'), 'serve'], {
      cwd: packageRoot,
      env: { PATH: '/usr/bin:/bin', PORT: 'abc' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stderr }))
  })
  t.equal(code, 78, stderr)
  t.match(stderr, /PORT/)
  t.match(stderr, /Invalid configuration/)
  t.notMatch(stderr, /at .*\.ts:\d+/, 'no stack trace')
})

t.test('a malformed ENCRYPTION_KEYS exits 78 (EX_CONFIG) too, without a stack trace', async (t) => {
  // loadConfig checks the keys' format, before anything touches the database (DATABASE_URL
  // given, so nothing is started), hence the unreachable port: reaching the database would
  // be a different failure.
  const { code, stderr } = await runCli(['serve'], {
    DATABASE_URL: 'postgres://127.0.0.1:1/x',
    ENCRYPTION_KEYS: 'k1:abc',
    FINGERPRINT_KEY: KEYS.fingerprintKey,
    PORT: '0'
  })
  t.equal(code, 78, stderr)
  t.match(stderr, /ENCRYPTION_KEYS entry 1 \(k1\)/)
  t.notMatch(stderr, /fatal|KeyringError/)
  t.notMatch(stderr, /at .*\.ts:\d+/, 'no stack trace')
  t.notMatch(stderr, KEYS.fingerprintKey, 'key material not echoed')
})
