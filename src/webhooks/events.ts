import { randomBytes } from 'node:crypto'
import type postgres from 'postgres'
import type { Keyring } from '../crypto/keyring.js'
import { writeAuditSql, type AuditActor } from '../db/repositories/audit-log.js'
import { webhookSecretAad } from '../db/repositories/resellers.js'
import { toDate } from '../db/timestamps.js'
import { publicFailureText, type CallbackFailure } from './failure.js'

export interface WebhookEventView {
  id: string
  reseller_id: string
  type: string
  order_id: string | null
  url: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  last_status: number | null
  last_error: string | null
  next_attempt_at: string | null
  created_at: string
  delivered_at: string | null
}

/**
 * Who reads events: a reseller sees only its own, with the class of a failure instead of
 * its detail; operators see every reseller's, with the detail.
 */
export type Viewer = { resellerId: string } | 'operator'

const iso = (v: unknown): string | null => toDate(v)?.toISOString() ?? null

function lastError (r: Record<string, unknown>, viewer: Viewer): string | null {
  if (viewer === 'operator') return r.last_error as string | null
  const kind = r.last_error_kind as CallbackFailure | null
  return kind === null ? null : publicFailureText(kind, r.last_status as number | null)
}

function toView (r: Record<string, unknown>, viewer: Viewer): WebhookEventView {
  return {
    id: r.id as string,
    reseller_id: r.reseller_id as string,
    type: r.type as string,
    order_id: r.order_id as string | null,
    url: r.url as string,
    status: r.status as WebhookEventView['status'],
    attempts: r.attempts as number,
    last_status: r.last_status as number | null,
    last_error: lastError(r, viewer),
    next_attempt_at: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    created_at: iso(r.created_at) as string,
    delivered_at: iso(r.delivered_at)
  }
}

/** `filter.resellerId` narrows an operator's list; a reseller's is always its own. */
export async function listWebhookEvents (sql: postgres.Sql, viewer: Viewer, filter: { resellerId?: string | undefined, status?: string | undefined, beforeId?: string | undefined }, limit: number): Promise<WebhookEventView[]> {
  const resellerId = viewer === 'operator' ? filter.resellerId : viewer.resellerId
  const rows = await sql`
    select * from webhook_events where true
      ${resellerId !== undefined ? sql`and reseller_id = ${resellerId}` : sql``}
      ${filter.status !== undefined ? sql`and status = ${filter.status}` : sql``}
      ${filter.beforeId !== undefined ? sql`and id < ${filter.beforeId}` : sql``}
    order by id desc limit ${limit}`
  return rows.map((r) => toView(r, viewer))
}

/**
 * Sends an event again now with a fresh retry schedule, whatever its state; the receiver
 * dedupes on the unchanged webhook-id. An attempt in flight keeps its lease (no parallel
 * send) but, seeing the new generation, records only itself. Another reseller's event is
 * not found.
 */
export async function redeliver (sql: postgres.Sql | postgres.TransactionSql, id: string, viewer: Viewer): Promise<WebhookEventView | undefined> {
  const [row] = await sql`
    update webhook_events e set status = 'pending', attempts = 0, next_attempt_at = now(), generation = generation + 1,
      -- A merchant who fixed its default callback URL gets the redelivery there.
      url = coalesce((select callback_url from orders where id = e.order_id), (select callback_url from resellers where id = e.reseller_id), e.url)
    where e.id = ${id} ${viewer !== 'operator' ? sql`and reseller_id = ${viewer.resellerId}` : sql``}
    returning *`
  return row ? toView(row, viewer) : undefined
}

/**
 * New webhook secret; the current one keeps signing beside it for `overlapSeconds`, so
 * receivers can switch without missing a callback. The new secret is returned once.
 */
export async function rotateWebhookSecret (sql: postgres.Sql, keyring: Keyring, resellerId: string, overlapSeconds: number, actor: AuditActor): Promise<string | 'overlapping' | undefined> {
  return await sql.begin(async (tx) => {
    const [r] = await tx<{ webhook_secret_key_id: string, webhook_secret_ciphertext: Buffer, overlapping: boolean }[]>`
      select webhook_secret_key_id, webhook_secret_ciphertext, coalesce(previous_webhook_secret_until > now(), false) as overlapping
      from resellers where id = ${resellerId} for no key update`
    if (!r) return undefined
    // A second rotation inside the overlap would silently drop the secret receivers may still
    // use (the one before the current): finish one rotation before starting the next.
    if (r.overlapping) return 'overlapping' as const
    const current = keyring.decryptString({ keyId: r.webhook_secret_key_id, ciphertext: r.webhook_secret_ciphertext }, webhookSecretAad(resellerId))
    const previous = keyring.encrypt(current, `${webhookSecretAad(resellerId)}:previous`)
    const secret = `whsec_${randomBytes(32).toString('base64')}`
    const sealed = keyring.encrypt(secret, webhookSecretAad(resellerId))
    await tx`
      update resellers set webhook_secret_key_id = ${sealed.keyId}, webhook_secret_ciphertext = ${sealed.ciphertext},
        previous_webhook_secret_key_id = ${previous.keyId}, previous_webhook_secret_ciphertext = ${previous.ciphertext},
        previous_webhook_secret_until = now() + ${overlapSeconds} * interval '1 second', updated_at = now()
      where id = ${resellerId}`
    await writeAuditSql(tx, actor, { action: 'reseller.webhook_secret.rotate', targetType: 'reseller', targetId: resellerId, details: { overlap_seconds: overlapSeconds } })
    return secret
  })
}
