import { isIP } from 'node:net'
import { z } from 'zod'
import { createCipherRing, createKeyring, KeyringError } from './crypto/keyring.js'
import { parseDuration } from './domain/duration.js'

/**
 * The only place that reads the environment. Every variable is validated here so that a
 * bad value stops start-up with a message naming the variable, instead of failing later
 * in the middle of an order.
 */

const bool = () => z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1').optional()

/** Decimal digits only: `Number()` would also take '', '0x50' and '1e3'. */
const int = (min: number, max: number) => {
  const message = `expected an integer ${min}..${max}`
  return z.string({ error: message }).regex(/^\d{1,15}$/, message).transform(Number)
    .pipe(z.number().min(min, message).max(max, message))
}

const url = (protocols: string[]) => z.string().refine((v) => {
  try { return protocols.includes(new URL(v).protocol) } catch { return false }
}, `expected a URL (${protocols.map((p) => p.replace(':', '://')).join(' or ')}…)`)

const durationList = z.string().transform((v, ctx) => {
  try {
    return v.split(',').map((part) => parseDuration(part.trim()))
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated durations like 0s,5s,5m,2h (${(err as Error).message})` })
    return z.NEVER
  }
})

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_SIZE: int(1, 500).default(10),
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  SANDBOX: bool(),
  BOOTSTRAP_ADMIN_TOKEN: z.string()
    .regex(/^adm_[A-Za-z0-9_-]{32,128}$/, 'expected adm_ followed by 32..128 characters of [A-Za-z0-9_-]')
    .optional(),
  ENCRYPTION_KEYS: z.string().min(1).optional(),
  FINGERPRINT_KEY: z.string().min(1).optional(),
  CALLBACK_ALLOW_PRIVATE: bool(),
  ORDER_SYNC_WAIT_MS: int(0, 60_000).default(3000),
  WORKERS: bool(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),
  WEBHOOK_RETRY_SCHEDULE: durationList.default(['0s', '5s', '5m', '30m', '2h', '5h', '10h', '10h'].map(parseDuration)),
  SUPPLIER_POLL_INTERVAL_MS: int(10, 3_600_000).default(5000),
  RECONCILE_AFTER_MS: int(10, 86_400_000).default(60_000),
  ORDER_SLA_MS: int(1000, 30 * 86_400_000).default(86_400_000),
  RECONCILE_REPORT_INTERVAL_MS: int(1000, 86_400_000).default(900_000),
  REQUEST_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(72_000),
  SHUTDOWN_TIMEOUT_MS: int(1000, 600_000).default(25_000),
  RATE_LIMIT_WINDOW_MS: int(100, 3_600_000).default(60_000),
  UNAUTHENTICATED_RATE_LIMIT: int(1, 1_000_000).default(120),
  NONCE_CLEANUP_INTERVAL_MS: int(100, 3_600_000).default(60_000),
  WEBHOOK_POLL_INTERVAL_MS: int(10, 60_000).default(500),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  SUPPLIER_BALANCE_INTERVAL_MS: int(10, 86_400_000).default(300_000),
  LOW_STOCK_CHECK_INTERVAL_MS: int(10, 3_600_000).default(60_000),
  CALLBACK_ALERT_ATTEMPTS: int(1, 100).default(3),
  ORDERS_METRICS_WINDOW_MS: int(1000, 86_400_000).default(900_000),
  TRUST_PROXY: z.string().transform((v, ctx) => {
    const parsed = parseTrustProxy(v)
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected true, false, a hop count, or comma-separated proxy IPs/CIDRs' })
      return z.NEVER
    }
    return parsed
  }).optional()
})

export type Env = z.input<typeof EnvSchema>

export interface Config {
  nodeEnv: 'development' | 'production' | 'test'
  port: number
  host: string
  /** Unset means: start embedded PostgreSQL under dataDir. */
  databaseUrl: string | undefined
  databasePoolSize: number
  dataDir: string
  redisUrl: string | undefined
  sandbox: boolean
  bootstrapAdminToken: string | undefined
  /** Unset only on the embedded default, which generates a keyring file in dataDir. */
  encryptionKeys: string | undefined
  fingerprintKey: string | undefined
  callbackAllowPrivate: boolean
  orderSyncWaitMs: number
  workers: boolean
  logLevel: string
  publicBaseUrl: string
  webhookRetryScheduleMs: number[]
  supplierPollIntervalMs: number
  reconcileAfterMs: number
  /** A `processing` or `pending_review` order older than this is a reconciliation finding. */
  orderSlaMs: number
  /** How often each WORKERS process runs the reconciliation checks and refreshes their metrics. */
  reconcileReportIntervalMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  shutdownTimeoutMs: number
  /** Window of per-reseller limits (rate_limit_per_minute counts within it); shorter only in tests. */
  rateLimitWindowMs: number
  /** Requests per window from one IP that fail reseller authentication. */
  unauthenticatedRateLimit: number
  nonceCleanupIntervalMs: number
  /** How often each process's dispatcher looks for due callbacks. */
  webhookPollIntervalMs: number
  /** Total deadline of one callback attempt (connect, send, answer). */
  webhookTimeoutMs: number
  /** How often each supplier's balance is polled (once per interval across all processes). */
  supplierBalanceIntervalMs: number
  /** How often SKUs with a low-stock threshold are checked for the `low_stock` alert. */
  lowStockCheckIntervalMs: number
  /** Failed attempts in a row of one callback that raise `callback_failures` for its reseller. */
  callbackAlertAttempts: number
  /** The `orders_recent` gauge counts orders created within this window. */
  ordersMetricsWindowMs: number
  /** Which proxies' X-Forwarded-For to believe (client IPs in the audit log depend on it). */
  trustProxy: boolean | number | string[]
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Checks between variables; a variable that is itself invalid triggers nothing here. */
function crossFieldProblems (env: Record<string, string | undefined>, invalid: Set<string>): string[] {
  const e = Object.fromEntries(Object.entries(env).filter(([k]) => !invalid.has(k)))
  const problems: string[] = []
  if (e.DATABASE_URL && !e.ENCRYPTION_KEYS) {
    problems.push('ENCRYPTION_KEYS: required when DATABASE_URL is set (format id:base64key,… with 32-byte keys)')
  }
  if (e.FINGERPRINT_KEY && !e.ENCRYPTION_KEYS) {
    problems.push('ENCRYPTION_KEYS: required when FINGERPRINT_KEY is set (the keyring file is only for the embedded default)')
  }
  // The keys' format, here rather than when the keyring loads: that needs the database, and
  // a malformed key must stop start-up before anything is touched. The messages name the
  // variable and never echo key material.
  if (e.ENCRYPTION_KEYS) {
    try {
      if (e.FINGERPRINT_KEY) createKeyring(e.ENCRYPTION_KEYS, e.FINGERPRINT_KEY)
      else createCipherRing(e.ENCRYPTION_KEYS)
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err
      problems.push(err.message)
    }
  }
  return problems
}

export function loadConfig (rawEnv: Record<string, string | undefined> = process.env): Config {
  // An empty variable means unset, as in most shells' `VAR=` and docker's `-e VAR=`.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = EnvSchema.safeParse(env)
  // Values are deliberately not echoed: several variables hold secrets.
  const issues = parsed.success ? [] : parsed.error.issues
  const problems = [
    ...issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    ...crossFieldProblems(env, new Set(issues.map((issue) => String(issue.path[0]))))
  ]
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems)
  const e = parsed.data

  const embedded = e.DATABASE_URL === undefined
  const sandbox = e.SANDBOX ?? embedded
  const browsableHost = e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    sandbox,
    bootstrapAdminToken: e.BOOTSTRAP_ADMIN_TOKEN,
    encryptionKeys: e.ENCRYPTION_KEYS,
    fingerprintKey: e.FINGERPRINT_KEY,
    callbackAllowPrivate: e.CALLBACK_ALLOW_PRIVATE ?? sandbox,
    orderSyncWaitMs: e.ORDER_SYNC_WAIT_MS,
    workers: e.WORKERS ?? true,
    logLevel: e.LOG_LEVEL,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${browsableHost}:${e.PORT}`).replace(/\/+$/, ''),
    webhookRetryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
    supplierPollIntervalMs: e.SUPPLIER_POLL_INTERVAL_MS,
    reconcileAfterMs: e.RECONCILE_AFTER_MS,
    orderSlaMs: e.ORDER_SLA_MS,
    reconcileReportIntervalMs: e.RECONCILE_REPORT_INTERVAL_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    unauthenticatedRateLimit: e.UNAUTHENTICATED_RATE_LIMIT,
    nonceCleanupIntervalMs: e.NONCE_CLEANUP_INTERVAL_MS,
    webhookPollIntervalMs: e.WEBHOOK_POLL_INTERVAL_MS,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    supplierBalanceIntervalMs: e.SUPPLIER_BALANCE_INTERVAL_MS,
    lowStockCheckIntervalMs: e.LOW_STOCK_CHECK_INTERVAL_MS,
    callbackAlertAttempts: e.CALLBACK_ALERT_ATTEMPTS,
    ordersMetricsWindowMs: e.ORDERS_METRICS_WINDOW_MS,
    trustProxy: e.TRUST_PROXY ?? false
  }
}

function parseTrustProxy (v: string): boolean | number | string[] | undefined {
  if (v === 'true' || v === 'false') return v === 'true'
  if (/^\d{1,2}$/.test(v)) return Number(v)
  const entries = v.split(',').map((e) => e.trim())
  const valid = entries.every((entry) => {
    const [address = '', prefix, extra] = entry.split('/')
    const family = isIP(address)
    if (family === 0 || extra !== undefined) return false
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
  })
  return valid ? entries : undefined
}
