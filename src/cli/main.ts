#!/usr/bin/env node
import { writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { parseArgs } from 'node:util'
import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { KeyringError } from '../crypto/keyring.js'
import { createDatabase } from '../db/client.js'
import { migrateDatabase } from '../db/migrate.js'
import { issueAdminToken, systemActor } from '../db/repositories/admin-tokens.js'
import { operatorRole, type OperatorRole } from '../db/schema/index.js'
import { GatewayError, loggableCause } from '../errors/gateway-error.js'
import { createLogger } from '../observability/logger.js'
import { openDatabaseUrl, startGateway } from '../server.js'
import { importKeys, rotateKeys, UsageError } from './keys.js'
import { exportOrdersCommand, reconcileCommand, statementsCommand } from './reports.js'
import { generateOpenApi, OPENAPI_FILE } from './openapi.js'

// One entry per command: the global help lists them all, `<command> --help` only its own.
const COMMANDS: ReadonlyArray<{ command: string, usage: string }> = [
  { command: 'serve', usage: '  serve                                  start the gateway (default)' },
  { command: 'migrate', usage: '  migrate                                apply database migrations and exit' },
  { command: 'admin create-token', usage: `  admin create-token --role R --name N   issue an operator token (roles: ${operatorRole.enumValues.join(', ')})` },
  {
    command: 'keys import',
    usage: `  keys import --sku S --file F --unit-cost N [--expires-at T] [--source S] [--report FILE]
                                         import card keys from a CSV file (code,pin,serial) as one batch`
  },
  { command: 'keys rotate', usage: '  keys rotate [--batch-size N]           re-encrypt card keys under the first key of ENCRYPTION_KEYS' },
  {
    command: 'reconcile',
    usage: `  reconcile [--days N] [--json]          print the reconciliation findings and N UTC days of supplier spend (default 1);
                                         exit code 2 when there are findings`
  },
  {
    command: 'statements',
    usage: `  statements --from T --to T [--reseller ID] --out DIR
                                         write one CSV statement per reseller (DIR/<reseller_id>.csv) for [from, to)`
  },
  {
    command: 'orders export',
    usage: `  orders export --from T --to T --out FILE
                                         write the orders placed in [from, to) as CSV (no recipients, no codes)`
  },
  { command: 'openapi', usage: `  openapi [--out FILE]                   write the OpenAPI document (default ${OPENAPI_FILE})` }
]

function usage (commands = COMMANDS): string {
  return `usage: entitlement-gateway <command> [options]\n\ncommands:\n${commands.map((c) => c.usage + '\n').join('')}`
}

const USAGE = usage()

/** The usage of the command (`keys import`) or, failing that, the group (`keys`) argv names. */
function commandUsage ([command, sub]: string[]): string | undefined {
  const group = COMMANDS.filter((c) => c.command.split(' ')[0] === command)
  const exact = group.filter((c) => c.command === `${command} ${sub}`)
  if (exact.length > 0) return usage(exact)
  return group.length > 0 ? usage(group) : undefined
}


async function serve (config: Config): Promise<void> {
  const logger = createLogger(config.logLevel)
  const gateway = await startGateway(config, logger)
  closeWithGrace({ delay: config.shutdownTimeoutMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an unexpected error')
    else logger.info({ signal }, 'shutting down: finishing in-flight requests')
    await gateway.stop()
    logger.info('shutdown complete')
  })
  gateway.releaseSignals()
  logger.info({ url: gateway.url, docs: `${gateway.url}/docs` }, 'gateway listening')
}

async function migrate (config: Config): Promise<void> {
  const logger = createLogger(config.logLevel)
  const handle = await openDatabaseUrl(config, logger, { reuseRunning: true })
  try {
    const { applied } = await migrateDatabase(handle.url)
    logger.info({ applied }, 'migrations applied')
  } finally {
    await handle.embedded?.stop()
  }
}

async function createToken (config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { role: { type: 'string' }, name: { type: 'string' } } })
  const role = values.role as OperatorRole | undefined
  if (!role || !operatorRole.enumValues.includes(role)) throw new UsageError(`--role must be one of ${operatorRole.enumValues.join(', ')}`)
  if (!values.name?.trim()) throw new UsageError('--name is required (who holds the token)')
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  const handle = await openDatabaseUrl(config, logger, { reuseRunning: true })
  try {
    await migrateDatabase(handle.url)
    const database = createDatabase(handle.url, { max: 1 })
    try {
      const { row, token } = await issueAdminToken(database.db, { name: values.name.trim(), role, actor: systemActor(`cli:${userInfo().username}`) })
      process.stderr.write(`issued ${row.role} token ${row.id} for ${row.name}; it is shown once:\n`)
      process.stdout.write(token + '\n')
    } finally {
      await database.close()
    }
  } finally {
    await handle.embedded?.stop()
  }
}

async function main (argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE)
    return
  }
  // Before the config loads and the command runs: asking for help has no side effects.
  if (argv.some((arg) => arg === '--help' || arg === '-h')) {
    const help = commandUsage(argv)
    if (help === undefined) throw new UsageError(`unknown command: ${argv.join(' ')}`)
    process.stdout.write(help)
    return
  }
  if (command === 'openapi') {
    const { values } = parseArgs({ args: rest, options: { out: { type: 'string', default: OPENAPI_FILE } } })
    const doc = await generateOpenApi()
    await writeFile(values.out, doc)
    process.stderr.write(`wrote ${values.out}\n`)
    return
  }
  const config = loadConfig()
  if (command === 'serve') return await serve(config)
  if (command === 'migrate') return await migrate(config)
  if (command === 'admin' && rest[0] === 'create-token') return await createToken(config, rest.slice(1))
  const quietLogger = () => createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  if (command === 'keys' && rest[0] === 'import') return await importKeys(config, quietLogger(), rest.slice(1))
  if (command === 'keys' && rest[0] === 'rotate') return await rotateKeys(config, quietLogger(), rest.slice(1))
  if (command === 'reconcile') return await reconcileCommand(config, quietLogger(), rest)
  if (command === 'statements') return await statementsCommand(config, quietLogger(), rest)
  if (command === 'orders' && rest[0] === 'export') return await exportOrdersCommand(config, quietLogger(), rest.slice(1))
  throw new UsageError(`unknown command: ${argv.join(' ')}`)
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // A keyring that cannot be loaded from the database (a FINGERPRINT_KEY it disagrees with, a
  // stored key sealed under a key no longer in ENCRYPTION_KEYS) is as much a configuration
  // error as a bad PORT. Its messages name the variable and never echo key material.
  if (err instanceof ConfigError || err instanceof KeyringError) {
    process.stderr.write(`${err.message}\n`)
    process.exit(78) // EX_CONFIG
  }
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`)
    process.exit(64) // EX_USAGE
  }
  if (err instanceof GatewayError) {
    process.stderr.write(`error: ${err.detail ?? err.message}\n`)
    process.exit(1)
  }
  const cause = loggableCause(err)
  process.stderr.write(`fatal: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}\n`)
  process.exit(1)
})
