import { randomInt } from 'node:crypto'
import type postgres from 'postgres'
import { Agent, request } from 'undici'
import type { Keyring } from '../crypto/keyring.js'
import { webhookSecretAad } from '../db/repositories/resellers.js'
import { orderDeliveries } from '../orders/deliveries.js'
import { deliveryFields } from '../orders/present.js'
import { classifySendError, type FailureReason } from './failure.js'
import type { DeliveryObserver, DeliveryOutcome, WebhookMetrics } from './metrics.js'
import { checkCallbackUrl, safeLookup } from './ssrf.js'
import { signatureHeader } from './sign.js'

export interface DispatcherOptions {
  sql: postgres.Sql
  keyring: Keyring
  log: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void }
  scheduleMs: readonly number[]
  timeoutMs: number
  pollIntervalMs: number
  allowPrivate: boolean
  /** Events one process sends at once. */
  concurrency?: number
  /** `webhook_deliveries_total{outcome}`. */
  metrics?: WebhookMetrics
  /** Told of every outcome after it is recorded (callback-failure alerts). */
  observe?: DeliveryObserver
}

interface ClaimedEvent {
  id: string
  reseller_id: string
  order_id: string | null
  payload: Record<string, unknown>
  url: string
  attempts: number
  generation: number
  lease_token: string
}

/**
 * Up to +20 % jitter spreads retries of many events failing together. Only upwards, so the
 * schedule never ends sooner than it says (api.md: retries for at least 24 hours).
 */
const jitter = (ms: number): number => Math.round(ms * (1 + randomInt(0, 201) / 1000))

/** A failure of ours (database, keyring), not of the merchant's endpoint. */
class InternalFailure extends Error {}

/** Seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs (value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/**
 * The callback dispatcher of one process. Due events are claimed with SKIP LOCKED and a
 * lease longer than an attempt's total deadline, so any number of processes share the
 * outbox without sending an event twice at once; an event whose process died is picked up
 * again when its lease ends (at-least-once, with a stable webhook-id).
 */
export function startDispatcher (options: DispatcherOptions): { stop: () => Promise<void>, runOnce: () => Promise<number> } {
  const { sql, keyring, log, scheduleMs, timeoutMs } = options
  const concurrency = options.concurrency ?? 16
  const leaseMs = timeoutMs * 2 + 5000
  // Connections go only to the address the guarded lookup approved; redirects are not followed.
  const agent = new Agent({ connect: { lookup: safeLookup(options.allowPrivate), timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })

  const claim = async (limit: number): Promise<ClaimedEvent[]> => await sql<ClaimedEvent[]>`
    update webhook_events set lease_until = now() + ${leaseMs} * interval '1 millisecond', lease_token = md5(random()::text || clock_timestamp()::text)
    where id in (
      select id from webhook_events
      where status = 'pending' and next_attempt_at <= now() and (lease_until is null or lease_until < now())
      order by next_attempt_at limit ${limit}
      for update skip locked)
    returning id, reseller_id, order_id, payload, url, attempts, generation, lease_token`

  const secretsOf = async (resellerId: string): Promise<{ secrets: string[], withCodes: boolean }> => {
    const [r] = await sql<{ webhook_secret_key_id: string, webhook_secret_ciphertext: Buffer, previous_webhook_secret_key_id: string | null, previous_webhook_secret_ciphertext: Buffer | null, previous_active: boolean, callback_includes_codes: boolean }[]>`
      select webhook_secret_key_id, webhook_secret_ciphertext, previous_webhook_secret_key_id, previous_webhook_secret_ciphertext,
             coalesce(previous_webhook_secret_until > now(), false) as previous_active, callback_includes_codes
      from resellers where id = ${resellerId}`
    if (!r) throw new Error(`reseller ${resellerId} vanished`)
    const secrets = [keyring.decryptString({ keyId: r.webhook_secret_key_id, ciphertext: r.webhook_secret_ciphertext }, webhookSecretAad(resellerId))]
    if (r.previous_active && r.previous_webhook_secret_key_id && r.previous_webhook_secret_ciphertext) {
      secrets.push(keyring.decryptString({ keyId: r.previous_webhook_secret_key_id, ciphertext: r.previous_webhook_secret_ciphertext }, `${webhookSecretAad(resellerId)}:previous`))
    }
    return { secrets, withCodes: r.callback_includes_codes }
  }

  /** Body and signing secrets; failures here are ours, never the merchant's. */
  const prepare = async (event: ClaimedEvent): Promise<{ body: string, secrets: string[] }> => {
    try {
      const { secrets, withCodes } = await secretsOf(event.reseller_id)
      let payload = event.payload
      if (event.order_id) {
        // Serials always; codes and PINs only for resellers who opted in. Decrypted now, so
        // the outbox row never holds them.
        const deliveries = await orderDeliveries(sql, keyring, event.order_id)
        if (deliveries.length > 0) payload = { ...payload, data: { ...(payload.data as object), deliveries: deliveries.map((d) => deliveryFields(d, withCodes)) } }
      }
      return { body: JSON.stringify(payload), secrets }
    } catch (err) {
      throw new InternalFailure((err as Error).message, { cause: err })
    }
  }

  /** Records an outcome only while this claim still holds the lease; otherwise just the attempt row. */
  const record = async (event: ClaimedEvent, update: { status: 'pending' | 'delivered' | 'failed', attempts: number, delayMs: number, statusCode: number | null, lastError: FailureReason | null }, attempt: { latency: number, error: string | null } | null): Promise<void> => {
    await sql.begin(async (tx) => {
      if (attempt) await tx`insert into webhook_attempts (event_id, status_code, latency_ms, error) values (${event.id}, ${update.statusCode}, ${attempt.latency}, ${attempt.error})`
      await tx`
        update webhook_events set status = ${update.status}, attempts = ${update.attempts}, lease_until = null, lease_token = null,
          last_status = ${update.statusCode}, last_error = ${update.lastError?.detail ?? null}, last_error_kind = ${update.lastError?.kind ?? null},
          next_attempt_at = now() + ${update.delayMs} * interval '1 millisecond',
          delivered_at = ${update.status === 'delivered' ? sql`now()` : sql`delivered_at`}
        where id = ${event.id} and lease_token = ${event.lease_token} and generation = ${event.generation}`
      // Redelivered meanwhile (new generation): free our lease, leave the fresh schedule alone.
      await tx`update webhook_events set lease_until = null, lease_token = null where id = ${event.id} and lease_token = ${event.lease_token}`
    })
  }

  /** Counts the outcome and tells the observer; an observer's failure never fails delivery. */
  const report = async (event: ClaimedEvent, outcome: DeliveryOutcome, attempts: number, statusCode: number | null): Promise<void> => {
    options.metrics?.deliveries.inc({ outcome })
    try {
      await options.observe?.({ eventId: event.id, resellerId: event.reseller_id, outcome, attempts, statusCode })
    } catch (err) {
      log.warn({ err, event: event.id }, 'callback outcome could not be reported')
    }
  }

  const deliver = async (event: ClaimedEvent, leaseEnds: number): Promise<void> => {
    try {
      checkCallbackUrl(event.url, options.allowPrivate)
    } catch (err) {
      // The URL breaks the current policy: no attempt can ever succeed; say so and stop.
      await record(event, { status: 'failed', attempts: event.attempts, delayMs: 0, statusCode: null, lastError: { detail: `callback URL not allowed: ${(err as Error).message}`, kind: 'url_refused' } }, null)
      await report(event, 'url_refused', event.attempts, null)
      return
    }
    let prepared: { body: string, secrets: string[] }
    try {
      prepared = await prepare(event)
    } catch (err) {
      log.warn({ err, event: event.id }, 'callback could not be prepared; retrying later without counting an attempt')
      await record(event, { status: 'pending', attempts: event.attempts, delayMs: 30_000, statusCode: null, lastError: null }, null)
      await report(event, 'deferred', event.attempts, null)
      return
    }
    // Never send unless the whole attempt fits inside our lease: past it another process may
    // claim the event, and two sends at once are what the lease exists to prevent.
    if (Date.now() + timeoutMs + 1000 > leaseEnds) {
      await record(event, { status: 'pending', attempts: event.attempts, delayMs: 0, statusCode: null, lastError: null }, null)
      await report(event, 'deferred', event.attempts, null)
      return
    }
    const started = Date.now()
    let statusCode: number | null = null
    let error: FailureReason | null = null
    let retryAfter: number | undefined
    try {
      const timestamp = Math.floor(Date.now() / 1000)
      const res = await request(event.url, {
        method: 'POST',
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'entitlement-gateway-webhooks',
          'webhook-id': event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(prepared.secrets, event.id, timestamp, prepared.body)
        },
        body: prepared.body
      })
      statusCode = res.statusCode
      retryAfter = retryAfterMs(res.headers['retry-after'])
      await res.body.dump({ limit: 64 * 1024 })
    } catch (err) {
      error = { detail: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message, kind: classifySendError(err) }
    }
    const attempts = event.attempts + 1
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300
    // 410 Gone: the receiver says this endpoint is retired; stop trying this event.
    const gone = statusCode === 410
    const base = scheduleMs[attempts]
    let status: 'pending' | 'delivered' | 'failed' = 'pending'
    let delayMs = 0
    if (ok) status = 'delivered'
    else if (gone || base === undefined) status = 'failed'
    else delayMs = retryAfter === undefined ? jitter(base) : Math.min(Math.max(retryAfter, base), Math.max(base * 2, 1000))
    const lastError = error ?? (ok ? null : { detail: `HTTP ${statusCode}`, kind: 'http_status' as const })
    await record(event, { status, attempts, delayMs, statusCode, lastError }, { latency: Date.now() - started, error: error?.detail ?? null })
    if (status === 'failed') log.warn({ event: event.id, attempts, last_error: lastError?.detail }, 'callback gave up')
    await report(event, status === 'delivered' ? 'delivered' : status === 'failed' ? 'gave_up' : 'failed_attempt', attempts, statusCode)
  }

  // A rolling pool: each free slot is refilled on the next pass, so one slow endpoint
  // never holds up a whole batch.
  const inFlight = new Set<Promise<void>>()
  const start = async (limit: number): Promise<Promise<void>[]> => {
    if (limit <= 0) return []
    const leaseEnds = Date.now() + leaseMs
    const events = await claim(limit)
    return events.map((e) => {
      const p = deliver(e, leaseEnds).catch((err: unknown) => log.warn({ err, event: e.id }, 'callback attempt could not be recorded'))
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
      return p
    })
  }

  /** One pass that waits for the attempts it started (tests and tools). */
  const runOnce = async (): Promise<number> => {
    const started = await start(concurrency - inFlight.size)
    await Promise.all(started)
    return started.length
  }

  let stopped = false
  let claiming: Promise<unknown> | undefined
  const tick = (): void => {
    if (stopped) return
    const free = concurrency - inFlight.size
    claiming = start(free)
      .catch((err: unknown) => { log.warn({ err }, 'callback dispatcher pass failed'); return [] })
      .then((started) => { if (!stopped) timer = setTimeout(tick, started.length > 0 && started.length === free ? 0 : options.pollIntervalMs) })
  }
  let timer: NodeJS.Timeout = setTimeout(tick, options.pollIntervalMs)
  return {
    runOnce,
    async stop () {
      stopped = true
      clearTimeout(timer)
      await claiming
      await Promise.all([...inFlight])
      await agent.close()
    }
  }
}
