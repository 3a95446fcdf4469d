import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { count, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import { hasActiveAdmin, issueAdminTokenInTx, systemActor } from '../db/repositories/admin-tokens.js'
import { insertSku, replaceTierPrices, type SkuInput } from '../db/repositories/skus.js'
import type { Db } from '../db/client.js'
import { skus } from '../db/schema/index.js'

/** One demo SKU per category, so a newcomer can browse and price the catalog at once. */
const DEMO_SKUS: (SkuInput & { price: number })[] = [
  { sku: 'tencent-video-vip-1m', name: 'Tencent Video VIP, 1 month', category: 'video', delivery: 'direct_recharge', recipientType: 'account', faceValue: 3000, currency: 'CNY', price: 2650 },
  { sku: 'china-mobile-topup-50', name: 'China Mobile airtime, 50 CNY', category: 'mobile', delivery: 'direct_recharge', recipientType: 'phone', faceValue: 5000, currency: 'CNY', price: 4900 },
  { sku: 'genshin-genesis-crystals-60', name: 'Genshin Impact, 60 Genesis Crystals', category: 'game', delivery: 'direct_recharge', recipientType: 'game_account', faceValue: 600, currency: 'CNY', price: 580 },
  { sku: 'steam-wallet-cny-50', name: 'Steam Wallet code, 50 CNY', category: 'gift_card', delivery: 'card_key', recipientType: 'none', faceValue: 5000, currency: 'CNY', price: 4800 }
]

export const SANDBOX_TIER = 'standard'

/**
 * Seeds the demo catalog into an empty database, and gives the sandbox an admin token
 * (written to DATA_DIR, never logged) when no operator exists. Safe when several
 * processes start together: the advisory lock makes them take turns.
 */
export async function seedSandbox (db: Db, dataDir: string, log: Logger): Promise<void> {
  const token = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7316042520)`)
    const [catalog] = await tx.select({ n: count() }).from(skus)
    if (catalog?.n === 0) {
      for (const { price: _price, ...sku } of DEMO_SKUS) await insertSku(tx, sku)
      await replaceTierPrices(tx, SANDBOX_TIER, DEMO_SKUS.map((s) => ({ sku: s.sku, price: s.price })))
      log.info({ skus: DEMO_SKUS.length, tier: SANDBOX_TIER }, 'sandbox: demo catalog seeded')
    }
    if (await hasActiveAdmin(tx)) return undefined
    const issued = await issueAdminTokenInTx(tx, { name: 'sandbox', role: 'admin', actor: systemActor('sandbox') })
    if (!issued) throw new Error('sandbox admin token collided with an existing one')
    return issued.token
  })
  if (token === undefined) return
  // Written after commit, so the file never names a token the database does not have.
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const file = join(resolve(dataDir), 'sandbox-admin-token')
  await writeFile(file, token + '\n', { mode: 0o600 })
  log.info({ file }, 'sandbox: admin token written to file')
}
