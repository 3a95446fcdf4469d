import { createHmac, createHash, randomBytes } from 'node:crypto'
import type { TestApp } from '../helper.js'

export interface TestReseller {
  id: string
  keyId: string
  secret: string
  webhookSecret: string
  bearer: { authorization: string }
}

export async function createReseller (ta: TestApp, overrides: Record<string, unknown> = {}, topUp = 0): Promise<TestReseller> {
  const res = await ta.app.inject({
    method: 'POST', url: '/admin/v1/resellers', headers: ta.auth('admin'),
    payload: { name: 'Reseller', tier: 'standard', currency: 'CNY', ...overrides }
  })
  if (res.statusCode !== 201) throw new Error(`reseller creation failed: ${res.statusCode} ${res.body}`)
  const body = res.json() as { id: string, api_key: { key_id: string, secret: string }, webhook_secret: string }
  if (topUp !== 0) {
    const adj = await ta.app.inject({ method: 'POST', url: `/admin/v1/resellers/${body.id}/balance-adjustments`, headers: ta.auth('finance'), payload: { amount: topUp, reason: 'test top-up' } })
    if (adj.statusCode !== 201) throw new Error(`top-up failed: ${adj.body}`)
  }
  return { id: body.id, keyId: body.api_key.key_id, secret: body.api_key.secret, webhookSecret: body.webhook_secret, bearer: { authorization: `Bearer ${body.api_key.secret}` } }
}

/** Headers of a request signed as api.md describes. */
export function signed (r: Pick<TestReseller, 'keyId' | 'secret'>, method: string, url: string, body = '', overrides: { timestamp?: number, nonce?: string } = {}): Record<string, string> {
  const timestamp = String(overrides.timestamp ?? Math.floor(Date.now() / 1000))
  const nonce = overrides.nonce ?? randomBytes(12).toString('base64url')
  const bodyHash = createHash('sha256').update(body).digest('hex')
  const signature = createHmac('sha256', r.secret).update(`${method}\n${url}\n${timestamp}\n${nonce}\n${bodyHash}`).digest('hex')
  return { 'x-egw-key': r.keyId, 'x-egw-timestamp': timestamp, 'x-egw-nonce': nonce, 'x-egw-signature': `v1=${signature}` }
}

/** A card-key SKU priced for tier `standard`, with `keys` codes in the pool. */
export async function cardSku (ta: TestApp, sku: string, price: number, keys: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const created = await ta.app.inject({
    method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'),
    payload: { sku, name: sku, category: 'gift_card', delivery: 'card_key', recipient_type: 'none', face_value: price + 100, currency: 'CNY', ...extra }
  })
  if (created.statusCode !== 201) throw new Error(`sku creation failed: ${created.body}`)
  const current = await ta.app.inject({ method: 'GET', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance') })
  const prices = (current.json() as { prices: { sku: string, price: number }[] }).prices.map((p) => ({ sku: p.sku, price: p.price }))
  await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: [...prices, { sku, price }] })
  const codes = Array.from({ length: keys }, (_, i) => `${sku.toUpperCase()}-${i}-${randomBytes(4).toString('hex')}`)
  if (keys > 0) {
    const imported = await ta.app.inject({ method: 'POST', url: `/admin/v1/skus/${sku}/card-keys`, headers: ta.auth('ops'), payload: { unit_cost: Math.floor(price / 2), codes: codes.map((code) => ({ code })) } })
    if (imported.statusCode !== 201) throw new Error(`import failed: ${imported.body}`)
  }
  return codes
}
