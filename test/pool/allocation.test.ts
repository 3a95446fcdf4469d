import { spawn } from 'node:child_process'
import { join } from 'node:path'
import postgres from 'postgres'
import t, { type Test } from 'tap'
import { createKeyring } from '../../src/crypto/keyring.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { openCardKey } from '../../src/db/repositories/card-keys.js'
import { CARD_KEY_STATUSES, CARD_KEY_TRANSITIONS, type CardKeyStatus } from '../../src/domain/pool/card-key.js'
import { InsufficientStockError } from '../../src/domain/pool/errors.js'
import { importBatch } from '../../src/pool/import-batch.js'
import { reportLowStock, sellCardKeys } from '../../src/pool/sell.js'
import { createLogger } from '../../src/observability/logger.js'
import { packageRoot } from '../../src/paths.js'
import { createTestDatabase, exclusive, LogCapture, TEST_KEYS } from '../helper.js'

const keyring = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
const actor = { actorId: 'test', actorRole: 'admin' as const, requestId: 'test', ip: 'local' }

async function setup (t: Test, skus: string[]): Promise<{ url: string, sql: postgres.Sql }> {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const sql = postgres(url, { max: 10, onnotice: () => {} })
  t.teardown(() => sql.end())
  for (const sku of skus) {
    await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
      values (${sku}, ${sku}, 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
  }
  return { url, sql }
}

const codes = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ line: i + 1, key: { code: `${prefix}-${String(i).padStart(6, '0')}` } }))

t.test('sells soonest-expiring then oldest keys, never expired ones, all or nothing', async (t) => {
  const { sql } = await setup(t, ['gc-a'])
  const late = await importBatch(sql, keyring, { sku: 'gc-a', unitCost: 900, expiresAt: null, source: null, actor }, codes('NEVER', 3))
  const soon = await importBatch(sql, keyring, { sku: 'gc-a', unitCost: 900, expiresAt: new Date(Date.now() + 86_400_000), source: null, actor }, codes('SOON', 2))
  const gone = await importBatch(sql, keyring, { sku: 'gc-a', unitCost: 900, expiresAt: new Date(Date.now() + 86_400_000), source: null, actor }, codes('GONE', 4))
  // Expire the last batch as if its date had passed.
  await sql`update card_keys set expires_at = now() - interval '1 second' where batch_id = ${gone.batchId}`

  const first = await sql.begin(async (tx) => await sellCardKeys(tx, { sku: 'gc-a', quantity: 3, orderId: 'ord_1', lowStockThreshold: null }))
  const firstCodes = first.keys.map((k) => openCardKey(keyring, k).code)
  t.same(firstCodes.slice(0, 2).sort(), ['SOON-000000', 'SOON-000001'], 'soonest-expiring first')
  t.ok(first.keys[0]?.expiresAt instanceof Date)
  t.equal(first.keys[2]?.expiresAt, null)

  const short = sql.begin(async (tx) => await sellCardKeys(tx, { sku: 'gc-a', quantity: 3, orderId: 'ord_2', lowStockThreshold: null }))
  await t.rejects(short, InsufficientStockError, 'two sellable keys cannot fill an order of three')
  const [counts] = await sql`select count(*) filter (where status = 'sold')::int as sold, count(*) filter (where status = 'available')::int as available from card_keys`
  t.same(counts, { sold: 3, available: 6 }, 'the failed order sold nothing')

  t.equal(firstCodes[2], 'NEVER-000000', 'the oldest of equal expiry first')
  const rest = await sql.begin(async (tx) => await sellCardKeys(tx, { sku: 'gc-a', quantity: 2, orderId: 'ord_3', lowStockThreshold: null }))
  t.same(rest.keys.map((k) => openCardKey(keyring, k).code), ['NEVER-000001', 'NEVER-000002'])
  await t.rejects(sql.begin(async (tx) => await sellCardKeys(tx, { sku: 'gc-a', quantity: 1, orderId: 'ord_4', lowStockThreshold: null })), InsufficientStockError, 'expired keys are never sold')
  const [expired] = await sql`select count(*)::int as n from card_keys where batch_id = ${gone.batchId} and status = 'available'`
  t.equal(expired?.n, 4)
  t.ok(late.imported === 3 && soon.imported === 2)
})

t.test('the schema refuses to put a key back on sale or sell it to a second order', async (t) => {
  const { sql } = await setup(t, ['gc-b'])
  await importBatch(sql, keyring, { sku: 'gc-b', unitCost: 1, expiresAt: null, source: null, actor }, codes('B', 1))
  const [key] = await sql.begin(async (tx) => (await sellCardKeys(tx, { sku: 'gc-b', quantity: 1, orderId: 'ord_x', lowStockThreshold: null })).keys)
  await t.rejects(sql`update card_keys set status = 'available', order_id = null, sold_at = null where id = ${key!.id}`, /is not allowed/)
  await t.rejects(sql`update card_keys set order_id = 'ord_y' where id = ${key!.id}`, /already sold to another order/)
  await t.rejects(sql`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at)
    select 'ck_dupe', batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at from card_keys limit 1`, /card_keys_fingerprint_key/, 'one code, one row')
  await t.rejects(sql`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at, status) select 'ck_sold', batch_id, sku, key_id, code_ciphertext, '\\x00', expires_at, 'sold' from card_keys limit 1`, /card_keys_sold_has_order/, 'a sold key has an order')
})

t.test("the schema keeps every key under its batch's SKU", async (t) => {
  const { sql } = await setup(t, ['gc-own', 'gc-other'])
  const batch = await importBatch(sql, keyring, { sku: 'gc-own', unitCost: 1, expiresAt: null, source: null, actor }, codes('OWN', 1))
  await t.rejects(sql`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at)
    values ('ck_elsewhere', ${batch.batchId}, 'gc-other', 'k', '\\x00', '\\x01', 'infinity')`, /card_keys_batch_sku_fk/,
  'a key cannot be sold under another SKU than the one its batch was bought for')
  await t.rejects(sql`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at)
    values ('ck_orphan', 'bat_none', 'gc-own', 'k', '\\x00', '\\x02', 'infinity')`, /card_keys_batch_sku_fk/, 'nor without a batch')
  await t.rejects(sql`delete from skus where sku = 'gc-own'`, /foreign key/, 'nor outlive its SKU')
})

t.test('a sale that crosses the low-stock threshold says so once', async (t) => {
  const { sql } = await setup(t, ['gc-c'])
  await sql`update skus set low_stock_threshold = 3 where sku = 'gc-c'`
  await importBatch(sql, keyring, { sku: 'gc-c', unitCost: 1, expiresAt: null, source: null, actor }, codes('C', 8))
  const flags: (number | null)[] = []
  for (const quantity of [2, 2, 1, 1, 1]) {
    const sale = await sql.begin(async (tx) => await sellCardKeys(tx, { sku: 'gc-c', quantity, orderId: `ord_c${flags.length}`, lowStockThreshold: 3 }))
    flags.push(sale.lowStock?.remaining ?? null)
  }
  // 8 → 6 → 4 → 3 (crossed) → 2 → 1
  t.same(flags, [null, null, 3, null, null])

  const logs = new LogCapture()
  const log = createLogger('info', logs)
  reportLowStock(log, null)
  reportLowStock(log, { sku: 'gc-c', remaining: 3, threshold: 3 })
  const lines = logs.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(lines.length, 1, 'one warning, for the crossing sale only')
  t.match(lines[0], { level: 40, sku: 'gc-c', remaining: 3, threshold: 3, msg: 'card pool stock fell to its low-stock threshold' })
})

t.test('64 concurrent allocators in 3 processes sell every key exactly once, never more than the stock', async (t) => {
  await exclusive(t)
  const { url, sql } = await setup(t, ['gc-hot', 'gc-other'])
  const stock = 700
  await importBatch(sql, keyring, { sku: 'gc-hot', unitCost: 1, expiresAt: null, source: null, actor }, codes('HOT', stock))
  await importBatch(sql, keyring, { sku: 'gc-other', unitCost: 1, expiresAt: null, source: null, actor }, codes('OTHER', 50))

  const startProcess = (prefix: string, concurrency: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot, 'test/fixtures/allocator.ts')], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, SKU: 'gc-hot', CONCURRENCY: String(concurrency), PREFIX: prefix }
    })
    let out = ''
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.startsWith('ready\n')) resolve()
    }))
    const done = new Promise<{ sales: { orderId: string, requested: number, keys: string[] }[], shortfalls: number }>((resolve, reject) =>
      child.on('exit', (code) => code === 0 ? resolve(JSON.parse(out.slice('ready\n'.length))) : reject(new Error(`allocator ${prefix} exited ${code}: ${err}`))))
    return { child, ready, done }
  }
  const processes = [startProcess('p1', 22), startProcess('p2', 21), startProcess('p3', 21)]
  await Promise.all(processes.map((p) => p.ready))
  for (const p of processes) p.child.stdin.write('go\n')
  const results = await Promise.all(processes.map((p) => p.done))
  const sales = results.flatMap((r) => r.sales)
  const sold = sales.flatMap((s) => s.keys)
  t.equal(new Set(sold).size, sold.length, 'no key sold twice')
  t.equal(sold.length, stock, 'every key sold')
  t.ok(sales.every((s) => s.keys.length === s.requested), 'every order got exactly what it asked for')
  t.ok(results.every((r) => r.sales.length > 0), 'all three processes sold')
  t.comment(`${sales.length} orders; ${results.reduce((n, r) => n + r.shortfalls, 0)} refused for short stock`)

  const rows = await sql<{ id: string, order_id: string }[]>`select id, order_id from card_keys where sku = 'gc-hot' and status = 'sold'`
  t.equal(rows.length, stock)
  const owner = new Map(sales.flatMap((s) => s.keys.map((k) => [k, s.orderId] as const)))
  t.ok(rows.every((r) => owner.get(r.id) === r.order_id), 'the database agrees with what each process was told')
  const [other] = await sql`select count(*)::int as n from card_keys where sku = 'gc-other' and status = 'available'`
  t.equal(other?.n, 50, 'other SKUs untouched')
})

t.test('on a large half-sold pool, allocation reads the partial index, not the primary key', async (t) => {
  const { sql } = await setup(t, ['gc-big', 'gc-small'])
  const [batch] = await sql`insert into card_key_batches (id, sku, unit_cost, currency, imported_by) values ('bat_plan', 'gc-big', 1, 'CNY', 'test') returning id`
  // Content is irrelevant to the plan: fill quickly with dummy ciphertexts.
  await sql`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at)
    select 'ck_' || lpad(g::text, 26, '0'), ${batch!.id}, 'gc-big', 'test1', '\\x00', decode(md5(g::text), 'hex'), 'infinity'
    from generate_series(1, 60000) g`
  await sql`update card_keys set status = 'sold', order_id = 'ord_plan', sold_at = now() where id <= 'ck_' || lpad('30000', 26, '0')`
  await sql`analyze card_keys`
  const plan = (await sql.unsafe(`explain with picked as (
      select id from card_keys where sku = 'gc-big' and status = 'available' and expires_at > now()
      order by expires_at, id limit 1 for update skip locked)
    update card_keys k set status = 'sold', order_id = 'ord_z', sold_at = now() from picked where k.id = picked.id`)).map((r) => r['QUERY PLAN']).join('\n')
  t.match(plan, /card_keys_allocation_idx/, plan)
  t.notMatch(plan, /Seq Scan on card_keys/)
})

t.test('the database trigger allows exactly the transitions of the domain table', async (t) => {
  const { sql } = await setup(t, ['gc-t'])
  await importBatch(sql, keyring, { sku: 'gc-t', unitCost: 1, expiresAt: null, source: null, actor }, codes('T', 1))
  const [row] = await sql<{ id: string }[]>`select id from card_keys`
  const columnsFor: Record<CardKeyStatus, string> = {
    available: "status = 'available', order_id = null, sold_at = null, voided_at = null, redeemed_at = null",
    sold: "status = 'sold', order_id = 'ord_t', sold_at = now(), voided_at = null, redeemed_at = null",
    redeemed: "status = 'redeemed', order_id = 'ord_t', sold_at = now(), redeemed_at = now(), voided_at = null",
    voided: "status = 'voided', order_id = 'ord_t', sold_at = now(), voided_at = now()"
  }
  for (const from of CARD_KEY_STATUSES) {
    for (const to of CARD_KEY_STATUSES) {
      if (from === to) continue
      // Put the row in `from` behind the trigger's back, then try the move.
      await sql.begin(async (tx) => {
        await tx`alter table card_keys disable trigger card_keys_guard_transition`
        await tx.unsafe(`update card_keys set ${columnsFor[from]}, revealed_at = null where id = $1`, [row!.id])
        await tx`alter table card_keys enable trigger card_keys_guard_transition`
      })
      const allowed = CARD_KEY_TRANSITIONS[from].includes(to)
      const attempt = sql.unsafe(`update card_keys set ${columnsFor[to]} where id = $1`, [row!.id])
      if (allowed) await t.resolves(attempt, `${from} -> ${to} allowed`)
      else await t.rejects(attempt, /is not allowed/, `${from} -> ${to} refused`)
    }
  }
})
