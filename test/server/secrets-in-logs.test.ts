import { createHash } from 'node:crypto'
import postgres from 'postgres'
import t from 'tap'
import { build, createTestDatabase, runCli, spawnGateway, TEST_KEYS, testEnv } from '../helper.js'

const BOOTSTRAP = 'adm_' + 'S3cr3tBootstrap'.repeat(3)

/** Every secret this run handles: none may appear in any log line. */
function secretsOf (extra: string[]): string[] {
  const keys = TEST_KEYS.encryptionKeys.split(',').map((e) => e.split(':')[1] ?? '')
  return [BOOTSTRAP, TEST_KEYS.fingerprintKey, ...keys, ...extra].filter((s) => s.length >= 16)
}

t.test('a gateway process at trace level never logs tokens or key material', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const gw = await spawnGateway(t, testEnv(databaseUrl, { BOOTSTRAP_ADMIN_TOKEN: BOOTSTRAP, LOG_LEVEL: 'trace' }))
  const auth = { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' }

  const created = await fetch(`${gw.url}/admin/v1/operator-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'ops-bot', role: 'ops' }) })
  t.equal(created.status, 201)
  const opsToken = ((await created.json()) as { token: string }).token
  await fetch(`${gw.url}/admin/v1/skus`, { headers: { authorization: `Bearer ${opsToken}` } })
  const wrong = 'adm_' + 'WrongButSecretLooking'.repeat(2)
  t.equal((await fetch(`${gw.url}/admin/v1/skus`, { headers: { authorization: `Bearer ${wrong}` } })).status, 401)
  await fetch(`${gw.url}/admin/v1/skus`, { method: 'POST', headers: auth, body: `{"sku": "${BOOTSTRAP}", "broken` })
  await fetch(`${gw.url}/admin/v1/operator-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: opsToken, role: 'nope' }) })

  t.equal(await gw.stop(), 0)
  const out = gw.output()
  t.match(out, /request completed/, 'requests were logged')
  for (const secret of secretsOf([opsToken, wrong])) {
    t.notOk(out.includes(secret), `log holds no ${secret.slice(0, 6)}… secret`)
  }

  // Only hashes reach the database.
  const sql = postgres(databaseUrl, { max: 1 })
  t.teardown(() => sql.end())
  const dump = JSON.stringify(await sql`select * from admin_tokens`)
  t.notOk(dump.includes(opsToken) || dump.includes(BOOTSTRAP), 'tokens are not stored in clear')
  const [row] = await sql`select 1 from admin_tokens where token_hash = ${createHash('sha256').update(opsToken).digest()}`
  t.ok(row, 'stored as its SHA-256')
})

t.test('the app logger redacts secrets handed to it by mistake', async (t) => {
  const ta = await build(t)
  ta.app.log.info({ secret: 'sk_live_abcdefghijklmnopqrstuvwxyz', card: { code: 'CODE-1234-5678-9999', pin: '84736251' }, req: { headers: { authorization: 'Bearer adm_zzzzzzzzzzzzzzzzzzzzzzzz' } } }, 'oops')
  const text = ta.logs.text()
  for (const s of ['sk_live_abcdefghijklmnopqrstuvwxyz', 'CODE-1234-5678-9999', '84736251', 'adm_zzzzzzzzzzzzzzzzzzzzzzzz']) {
    t.notOk(text.includes(s), `redacted ${s.slice(0, 4)}…`)
  }
  t.match(text, /\[redacted\]/)
})

t.test('CLI admin create-token prints the token once and stores only its hash', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const run = async (args: string[]) => await runCli(args, testEnv(databaseUrl, { LOG_LEVEL: 'info' }))
  const ok = await run(['admin', 'create-token', '--role', 'finance', '--name', 'carol'])
  t.equal(ok.code, 0, ok.stderr)
  const token = ok.stdout.trim()
  t.match(token, /^adm_[A-Za-z0-9_-]{43}$/)
  t.notOk(ok.stderr.includes(token), 'the token goes to stdout only')
  t.match(ok.stderr, /issued finance token adt_/)
  const sql = postgres(databaseUrl, { max: 1 })
  t.teardown(() => sql.end())
  const [row] = await sql`select name, role, created_by from admin_tokens where token_hash = ${createHash('sha256').update(token).digest()}`
  t.match(row, { name: 'carol', role: 'finance', created_by: /^cli:/ })

  const bad = await run(['admin', 'create-token', '--role', 'root', '--name', 'x'])
  t.equal(bad.code, 64)
  t.match(bad.stderr, /--role must be one of admin, ops, support, finance/)
  const unknown = await run(['frobnicate'])
  t.equal(unknown.code, 64)
})
