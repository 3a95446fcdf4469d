/**
 * `npm test`: runs tap against TEST_DATABASE_URL when it is set (CI points it at a real
 * server); otherwise starts an embedded PostgreSQL in a temporary folder for this run and
 * removes it afterwards. Every test file creates and drops its own database on it.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '../src/db/embedded.js'
import { packageRoot } from '../src/paths.js'

const quiet = { info: () => {}, warn: (m: string) => process.stderr.write(m + '\n'), debug: () => {} }

async function main (): Promise<number> {
  const env = { ...process.env }
  let cleanup = async (): Promise<void> => {}
  if (!env.TEST_DATABASE_URL) {
    const dir = await mkdtemp(join(tmpdir(), 'egw-test-pg-'))
    process.stderr.write('TEST_DATABASE_URL is not set: starting embedded PostgreSQL for this run\n')
    const pg = await startEmbeddedPostgres(dir, quiet)
    env.TEST_DATABASE_URL = pg.url
    cleanup = async () => {
      await pg.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  if (!env.REDIS_URL) process.stderr.write('REDIS_URL is not set: tests that need Redis will report themselves skipped\n')
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(join(packageRoot, 'node_modules', '.bin', 'tap'), process.argv.slice(2), { env, stdio: 'inherit', cwd: packageRoot })
      child.on('error', reject)
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    })
  } finally {
    await cleanup()
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
