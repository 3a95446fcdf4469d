import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { count, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Keyring } from '../crypto/keyring.js'
import type { Database } from '../db/client.js'
import { hasActiveAdmin, issueAdminTokenInTx, systemActor } from '../db/repositories/admin-tokens.js'
import { adjustBalance, createReseller } from '../db/repositories/resellers.js'
import { insertSku, replaceTierPrices, setFulfilment, type SkuInput } from '../db/repositories/skus.js'
import { skus } from '../db/schema/index.js'
import type { Fulfilment } from '../domain/catalog.js'
import { credentialsAad, SUPPLIER_CHANGES_CHANNEL } from '../suppliers/registry.js'
import type { SandboxSupplier } from './suppliers.js'

const route = (supplier: string, productId: string, cost: number, params?: Record<string, unknown>): Fulfilment['routes'][number] => (
  { supplier, supplier_product_id: productId, ...(params ? { supplier_params: params } : {}), cost, priority: 100, weight: 1, enabled: true })

/**
 * One demo SKU per category, each routed to the sandbox supplier of its kind (see
 * sandbox/suppliers.ts), so a newcomer can buy each kind. The gift card goes to the
 * supplier first and falls back to the (empty until imported) card pool.
 */
const DEMO_SKUS: (SkuInput & { price: number, fulfilment: Fulfilment })[] = [
  {
    sku: 'tencent-video-vip-1m', name: 'Tencent Video VIP, 1 month', category: 'video', delivery: 'direct_recharge', recipientType: 'account', faceValue: 3000, currency: 'CNY', price: 2650,
    fulfilment: { strategy: 'priority', card_pool: 'never', routes: [route('fulu-sandbox', '10000498', 2500)] }
  },
  {
    sku: 'china-mobile-topup-50', name: 'China Mobile airtime, 50 CNY', category: 'mobile', delivery: 'direct_recharge', recipientType: 'phone', faceValue: 5000, currency: 'CNY', price: 4900,
    fulfilment: { strategy: 'priority', card_pool: 'never', routes: [route('reloadly-airtime-sandbox', '1066', 4850, { amount: 7 })] }
  },
  {
    sku: 'genshin-genesis-crystals-60', name: 'Genshin Impact, 60 Genesis Crystals', category: 'game', delivery: 'direct_recharge', recipientType: 'game_account', faceValue: 600, currency: 'CNY', price: 580,
    fulfilment: { strategy: 'priority', card_pool: 'never', routes: [route('kashangwl-sandbox', '41847', 540, { safe_cost: '3.50', server_field: '区服' })] }
  },
  {
    sku: 'steam-wallet-cny-50', name: 'Steam Wallet code, 50 CNY', category: 'gift_card', delivery: 'card_key', recipientType: 'none', faceValue: 5000, currency: 'CNY', price: 4800,
    fulfilment: { strategy: 'priority', card_pool: 'fallback', routes: [route('reloadly-giftcards-sandbox', '20', 4600, { unit_price: 7 })] }
  }
]

export const SANDBOX_TIER = 'standard'
const DEMO_BALANCE = 1_000_000 // 10,000.00 CNY of play money
const RESELLER_FILE = 'sandbox-reseller.json'

export interface SandboxOptions {
  database: Database
  keyring: Keyring
  dataDir: string
  log: Logger
  /** The sandbox supplier instances, pointed at this start's simulators. */
  suppliers: SandboxSupplier[]
}

interface DemoReseller { reseller_id: string, key_id: string, secret: string, webhook_secret: string }

/**
 * Seeds an empty database with the demo catalog, a funded demo reseller, and an admin token
 * when no operator exists; the secrets go to files in DATA_DIR (mode 0600), never to the
 * log. On every start the sandbox supplier instances are pointed at this start's simulators. Safe when several processes start together: the advisory lock makes
 * them take turns, and only the one that seeds the catalog creates the reseller.
 */
export async function seedSandbox (o: SandboxOptions): Promise<void> {
  const { db } = o.database
  const { token, seeded } = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7316042520)`)
    const [catalog] = await tx.select({ n: count() }).from(skus)
    const seeded = catalog?.n === 0
    if (seeded) {
      for (const { price: _price, fulfilment: _fulfilment, ...sku } of DEMO_SKUS) await insertSku(tx, sku)
      await replaceTierPrices(tx, SANDBOX_TIER, DEMO_SKUS.map((s) => ({ sku: s.sku, price: s.price })))
    }
    // The simulators listen on new ports each start (Reloadly's token URL is in its
    // credentials): point the instances at them, and let every process reload.
    for (const s of o.suppliers) {
      const sealed = o.keyring.encrypt(JSON.stringify(s.credentials), credentialsAad(s.id))
      await tx.execute(sql`
        insert into suppliers (id, adapter, base_url, credentials_key_id, credentials_ciphertext, timeout_ms, error_threshold_percentage, reset_timeout_ms, volume_threshold)
        values (${s.id}, ${s.adapter}, ${s.baseUrl}, ${sealed.keyId}, ${sealed.ciphertext}, 5000, 50, 30000, 10)
        on conflict (id) do update set base_url = excluded.base_url, credentials_key_id = excluded.credentials_key_id,
          credentials_ciphertext = excluded.credentials_ciphertext, version = suppliers.version + 1, updated_at = now()`)
      await tx.execute(sql`select pg_notify(${SUPPLIER_CHANGES_CHANNEL}, ${s.id})`)
    }
    if (seeded) {
      // Routes name the instances, so they are set once the instances exist.
      for (const { sku, fulfilment } of DEMO_SKUS) await setFulfilment(tx, sku, fulfilment)
      o.log.info({ skus: DEMO_SKUS.length, tier: SANDBOX_TIER, suppliers: o.suppliers.map((s) => s.id) }, 'sandbox: demo catalog and suppliers seeded')
    }
    if (await hasActiveAdmin(tx)) return { token: undefined, seeded }
    const issued = await issueAdminTokenInTx(tx, { name: 'sandbox', role: 'admin', actor: systemActor('sandbox') })
    if (!issued) throw new Error('sandbox admin token collided with an existing one')
    return { token: issued.token, seeded }
  })
  // Written after commit, so the files never name credentials the database does not have.
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 })
  if (token !== undefined) {
    const file = join(resolve(o.dataDir), 'sandbox-admin-token')
    await writeFile(file, token + '\n', { mode: 0o600 })
    o.log.info({ file }, 'sandbox: admin token written to file')
  }
  if (seeded) await createDemoReseller(o)
}

async function createDemoReseller (o: SandboxOptions): Promise<void> {
  const actor = systemActor('sandbox')
  const { view, apiKey, webhookSecret } = await createReseller(o.database, o.keyring, {
    name: 'Demo reseller', tier: SANDBOX_TIER, currency: 'CNY', callbackUrl: null, callbackIncludesCodes: false,
    authMode: 'bearer_or_signature', ipAllowlist: [], rateLimitPerMinute: 600, creditLimit: 0
  }, actor)
  const topUp = await adjustBalance(o.database.sql, view.id, DEMO_BALANCE, 'sandbox play money', actor, 'sandbox-initial-balance')
  if (typeof topUp === 'string') throw new Error(`sandbox reseller top-up refused: ${topUp}`)
  const demo: DemoReseller = { reseller_id: view.id, key_id: apiKey.keyId, secret: apiKey.secret, webhook_secret: webhookSecret }
  const file = join(resolve(o.dataDir), RESELLER_FILE)
  await writeFile(file, JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 })
  o.log.info({ reseller: view.id, key_id: apiKey.keyId, file }, 'sandbox: demo reseller created, credentials written to file')
}

/**
 * The demo reseller's credentials for the start banner: on a terminal the secret itself,
 * otherwise only where to find it, so that collected logs never carry it.
 */
export async function sandboxBanner (dataDir: string, url: string, tty: boolean): Promise<string | undefined> {
  const file = join(resolve(dataDir), RESELLER_FILE)
  let demo: DemoReseller
  try {
    demo = JSON.parse(await readFile(file, 'utf8')) as DemoReseller
  } catch {
    return undefined
  }
  const secret = tty ? demo.secret : `(in ${file})`
  return [
    '',
    'Sandbox: the suppliers are simulators in this process; the money is play money.',
    `  demo reseller  ${demo.reseller_id}`,
    `  API key        ${demo.key_id}`,
    `  API secret     ${secret}`,
    `  admin token    (in ${join(resolve(dataDir), 'sandbox-admin-token')})`,
    `  try            curl -s ${url}/v1/products -H "authorization: Bearer $SECRET"`,
    ''
  ].join('\n')
}
