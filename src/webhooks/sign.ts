import { createHmac } from 'node:crypto'

/**
 * Standard Webhooks signatures: base64 HMAC-SHA256 over `${id}.${timestamp}.${body}` with
 * the base64-decoded part of `whsec_…`. Several secrets (during a rotation's overlap) give
 * several space-separated `v1,…` signatures; verifiers accept any one that matches.
 */
export function signatureHeader (secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets.map((secret) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
    return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
  }).join(' ')
}
