import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import postgres from 'postgres'
import { buildApp } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import { createKeyring, generateKeyMaterial, type Keyring } from '../src/crypto/keyring.js'
import { createDatabase, type Database } from '../src/db/client.js'
import { migrateDatabase } from '../src/db/migrate.js'
import { issueAdminToken, systemActor } from '../src/db/repositories/admin-tokens.js'
import { operatorRole, type OperatorRole } from '../src/db/schema/index.js'
import { createLogger } from '../src/observability/logger.js'
import { createMetrics } from '../src/observability/metrics.js'
import { packageRoot } from '../src/paths.js'

/** The slice of a tap Test these helpers use. */
export interface T {
  teardown (fn: () => unknown): void
}

export function testServerUrl (): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the suite with `npm test`, which provides one')
  return url
}

export function withDatabase (url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** A fresh, empty database for one test file (or one test), dropped at teardown. */
export async function createTestDatabase (t: T): Promise<string> {
  const server = testServerUrl()
  const name = `egw_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = postgres(server, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  t.teardown(async () => {
    const drop = postgres(server, { max: 1, onnotice: () => {} })
    await drop.unsafe(`drop database if exists ${name} with (force)`)
    await drop.end()
  })
  return withDatabase(server, name)
}

/**
 * Serialises the heaviest tests (dozens of connections each) across parallel test files,
 * so together they stay under the server's max_connections. A session advisory lock on
 * the test server, held until teardown.
 */
export async function exclusive (t: T): Promise<void> {
  const lock = postgres(testServerUrl(), { max: 1, onnotice: () => {} })
  await lock`select pg_advisory_lock(7316042599)`
  t.teardown(async () => {
    await lock`select pg_advisory_unlock(7316042599)`
    await lock.end()
  })
}

export const TEST_KEYS = generateKeyMaterial('test1')

export function testEnv (databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    ENCRYPTION_KEYS: TEST_KEYS.encryptionKeys,
    FINGERPRINT_KEY: TEST_KEYS.fingerprintKey,
    LOG_LEVEL: 'debug',
    ...extra
  }
}

export class LogCapture extends Writable {
  readonly chunks: string[] = []
  override _write (chunk: Buffer, _enc: string, done: () => void): void {
    this.chunks.push(chunk.toString('utf8'))
    done()
  }

  text (): string {
    return this.chunks.join('')
  }
}

export interface TestApp {
  app: FastifyInstance
  config: Config
  database: Database
  databaseUrl: string
  keyring: Keyring
  logs: LogCapture
  /** One operator token per role. */
  tokens: Record<OperatorRole, string>
  auth (role: OperatorRole): { authorization: string }
}

/** A migrated database and an app on it, with captured logs; closed at teardown. */
export async function build (t: T, env: Record<string, string> = {}, options: { databaseUrl?: string } = {}): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? await createTestDatabase(t)
  await migrateDatabase(databaseUrl)
  const config = loadConfig(testEnv(databaseUrl, env))
  const database = createDatabase(databaseUrl, { max: 5 })
  const keyring = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
  const logs = new LogCapture()
  const logger = createLogger('debug', logs)
  const app = await buildApp({ config, database, keyring, metrics: createMetrics(), logger })
  t.teardown(async () => {
    await app.close()
    await database.close()
  })
  const tokens = {} as Record<OperatorRole, string>
  for (const role of operatorRole.enumValues) {
    tokens[role] = (await issueAdminToken(database.db, { name: `test-${role}`, role, actor: systemActor('test') })).token
  }
  await app.ready()
  return { app, config, database, databaseUrl, keyring, logs, tokens, auth: (role) => ({ authorization: `Bearer ${tokens[role]}` }) }
}

/** Runs one `entitlement-gateway` CLI command from source; resolves when it exits. */
export async function runCli (args: string[], env: Record<string, string>): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

export interface GatewayProcess {
  child: ChildProcess
  output (): string
  url: string
  /** Sends SIGTERM and resolves with the exit code. */
  stop (): Promise<number | null>
}

/**
 * Runs `entitlement-gateway serve` in its own process (LOG_LEVEL must let info through:
 * readiness is read from the log): from source, or with `compiled`, the built dist/ as
 * `npm start` runs it (benchmarks measure that).
 */
export async function spawnGateway (t: T, env: Record<string, string>, readyTimeoutMs = 60_000, options: { compiled?: boolean, nodeArgs?: string[] } = {}): Promise<GatewayProcess> {
  const entry = options.compiled === true ? [join(packageRoot, 'dist/src/cli/main.js')] : ['--import', 'tsx', join(packageRoot, 'src/cli/main.ts')]
  const child = spawn(process.execPath, [...options.nodeArgs ?? [], ...entry, 'serve'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // SIGTERM first: a killed gateway would leave its embedded PostgreSQL running.
  t.teardown(async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway not listening after ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs)
    // Scan only what arrived since the last look, and stop once ready: a busy gateway logs a lot.
    let scanned = 0
    const check = (): void => {
      const end = out.lastIndexOf('\n')
      if (end < scanned) return
      const line = out.slice(scanned, end).split('\n').find((l) => l.includes('"gateway listening"'))
      scanned = end + 1
      if (line) {
        clearTimeout(timer)
        child.stdout?.off('data', check)
        resolve((JSON.parse(line) as { url: string }).url)
      }
    }
    child.stdout?.on('data', check)
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`gateway exited with ${code}:\n${out}`)) })
  })
  return {
    child,
    output: () => out,
    url,
    stop: async () => {
      child.kill('SIGTERM')
      return await exited
    }
  }
}
