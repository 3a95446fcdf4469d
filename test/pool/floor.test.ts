import postgres from 'postgres'
import t, { type Test } from 'tap'
import { createKeyring } from '../../src/crypto/keyring.js'
import { migrateDatabase } from '../../src/db/migrate.js'
import { availableUpTo, openCardKey } from '../../src/db/repositories/card-keys.js'
import { InsufficientStockError } from '../../src/domain/pool/errors.js'
import { importBatch } from '../../src/pool/import-batch.js'
import { sellCardKeys } from '../../src/pool/sell.js'
import { createTestDatabase, exclusive, TEST_KEYS } from '../helper.js'

const keyring = createKeyring(TEST_KEYS.encryptionKeys, TEST_KEYS.fingerprintKey)
const actor = { actorId: 'test', actorRole: 'admin' as const, requestId: 'test', ip: 'local' }
const DAY = 86_400_000

async function setup (t: Test, sku: string): Promise<postgres.Sql> {
  const url = await createTestDatabase(t)
  await migrateDatabase(url)
  const sql = postgres(url, { max: 6, onnotice: () => {} })
  t.teardown(() => sql.end())
  await sql`insert into skus (sku, name, category, delivery, recipient_type, face_value, currency, max_quantity, fulfilment)
    values (${sku}, ${sku}, 'gift_card', 'card_key', 'none', 1000, 'CNY', 100, ${sql.json({ strategy: 'priority', card_pool: 'only', routes: [] })})`
  return sql
}

const codes = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ line: i + 1, key: { code: `${prefix}-${String(i).padStart(6, '0')}` } }))

async function sell (sql: postgres.Sql, sku: string, orderId: string, quantity = 1): Promise<string[]> {
  const sale = await sql.begin(async (tx) => await sellCardKeys(tx, { sku, quantity, orderId, lowStockThreshold: null }))
  return sale.keys.map((k) => openCardKey(keyring, k).code)
}

const raise = async (sql: postgres.Sql | postgres.TransactionSql, sku: string): Promise<void> => { await sql`select card_key_floors_advance(${sku})` }
/** The SKU's floor, its expiry in epoch seconds (Infinity for keys that never expire). */
const floorOf = async (sql: postgres.Sql, sku: string) =>
  (await sql<{ expires: number, card_key_id: string }[]>`select extract(epoch from expires_at)::float8 as expires, card_key_id from card_key_floors where sku = ${sku}`)[0]

// Several connections per test, beside a large import: this file takes its turn with the
// other heavy files, so that together they stay under the server's max_connections.
t.before(async () => { await exclusive(t) })

t.test('on a large half-sold pool an allocation reads a few index pages, not every key sold before it', async (t) => {
  const sql = await setup(t, 'gc-floor')
  await sql`insert into card_key_batches (id, sku, unit_cost, currency, imported_by) values ('bat_floor', 'gc-floor', 1, 'CNY', 'test')`
  // Content is irrelevant here: fill quickly with dummy ciphertexts.
  await sql`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at)
    select 'ck_' || lpad(g::text, 26, '0'), 'bat_floor', 'gc-floor', 'test1', '\\x00', decode(md5(g::text), 'hex'), 'infinity'
    from generate_series(1, 60000) g`
  // Half of it sold behind the allocator's back, as the drain benchmark does: 30,000 dead
  // entries at the front of the allocation index, and no VACUUM since.
  await sql`update card_keys set status = 'sold', order_id = 'ord_bulk', sold_at = now() where id <= 'ck_' || lpad('30000', 26, '0')`
  await sql`analyze card_keys`
  await raise(sql, 'gc-floor')
  t.match(await floorOf(sql, 'gc-floor'), { card_key_id: 'ck_' + '30001'.padStart(26, '0') }, 'the floor is the first sellable key')

  // Index pages this transaction read, before and after one sale.
  const pagesRead = async (tx: postgres.TransactionSql) => (await tx<{ n: number }[]>`select pg_stat_get_xact_blocks_fetched('card_keys_allocation_idx'::regclass)::int as n`)[0]!.n
  const salePages = async (orderId: string): Promise<{ pages: number, key: string }> => await sql.begin(async (tx) => {
    const before = await pagesRead(tx)
    const [key] = (await sellCardKeys(tx, { sku: 'gc-floor', quantity: 1, orderId, lowStockThreshold: null })).keys
    return { pages: await pagesRead(tx) - before, key: key!.id }
  })
  const bounded = await salePages('ord_f1')
  t.equal(bounded.key, 'ck_' + '30001'.padStart(26, '0'), 'still the soonest-expiring, oldest key')
  t.ok(bounded.pages < 20, `${bounded.pages} index pages read from the floor`)

  // The same sale without a floor walks the dead entries: what the floor is for.
  await sql`delete from card_key_floors where sku = 'gc-floor'`
  const unbounded = await salePages('ord_f2')
  t.equal(unbounded.key, 'ck_' + '30002'.padStart(26, '0'), 'no floor row: no bound, same key order')
  t.ok(unbounded.pages > 100, `${unbounded.pages} index pages read without one`)

  const plan = (await sql.unsafe(`explain with picked as (
      select id from card_keys where sku = 'gc-floor' and status = 'available' and expires_at <> now()
        and (expires_at, id) >= (greatest(coalesce((select f.expires_at from card_key_floors f where f.sku = 'gc-floor'), '-infinity'), now()),
                                 coalesce((select f.card_key_id from card_key_floors f where f.sku = 'gc-floor' and f.expires_at > now()), ''))
      order by expires_at, id limit 1 for update skip locked)
    update card_keys k set status = 'sold', order_id = 'ord_z', sold_at = now() from picked where k.id = picked.id`)).map((r) => r['QUERY PLAN']).join('\n')
  t.match(plan, /Index Cond: .*ROW\(expires_at, id\) >= ROW/, plan)
  t.match(plan, /card_keys_allocation_idx/)
})

t.test('keys that sort before the floor lower it: a later import expiring sooner, a key whose expiry moves', async (t) => {
  const sql = await setup(t, 'gc-low')
  await importBatch(sql, keyring, { sku: 'gc-low', unitCost: 1, expiresAt: null, source: null, actor }, codes('LATE', 5))
  t.same(await sell(sql, 'gc-low', 'ord_1', 2), ['LATE-000000', 'LATE-000001'])
  await raise(sql, 'gc-low')
  t.same(await floorOf(sql, 'gc-low'), { expires: Number.POSITIVE_INFINITY, card_key_id: (await sql`select min(id) as id from card_keys where status = 'available'`)[0]!.id }, 'at the first unsold key')

  const soon = new Date(Date.now() + DAY)
  await importBatch(sql, keyring, { sku: 'gc-low', unitCost: 1, expiresAt: soon, source: null, actor }, codes('SOON', 2))
  t.equal((await floorOf(sql, 'gc-low'))?.expires, soon.getTime() / 1000, 'lowered by the import')
  t.same(await sell(sql, 'gc-low', 'ord_2', 2), ['SOON-000000', 'SOON-000001'], 'soonest-expiring first')
  await raise(sql, 'gc-low')

  // A key already on the shelf whose expiry is brought forward sorts before the floor now.
  await sql`update card_keys set expires_at = now() + interval '1 hour' where id = (select max(id) from card_keys where sku = 'gc-low' and status = 'available')`
  t.same(await sell(sql, 'gc-low', 'ord_3'), ['LATE-000004'], 'sold first after its move')
  // One moved into the past is expired, never sold, and the floor passes it.
  await sql`update card_keys set expires_at = now() - interval '1 second' where id = (select min(id) from card_keys where sku = 'gc-low' and status = 'available')`
  await raise(sql, 'gc-low')
  t.same(await sell(sql, 'gc-low', 'ord_4'), ['LATE-000003'])
  await t.rejects(sell(sql, 'gc-low', 'ord_5'), InsufficientStockError)
  t.equal(await availableUpTo(sql, 'gc-low', 10), 0)
})

t.test('a key skipped while locked by a sale that rolls back stays reachable', async (t) => {
  const sql = await setup(t, 'gc-skip')
  await importBatch(sql, keyring, { sku: 'gc-skip', unitCost: 1, expiresAt: null, source: null, actor }, codes('S', 4))
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let held!: () => void
  const holding = new Promise<void>((resolve) => { held = resolve })
  const first = sql.begin(async (tx) => {
    await sellCardKeys(tx, { sku: 'gc-skip', quantity: 1, orderId: 'ord_rolled_back', lowStockThreshold: null })
    held()
    await released
    throw new Error('rolled back')
  })
  await holding
  // Meanwhile another sale skips the locked first key and raises the floor in its transaction.
  const second = await sql.begin(async (tx) => {
    const sale = await sellCardKeys(tx, { sku: 'gc-skip', quantity: 1, orderId: 'ord_2', lowStockThreshold: null })
    await raise(tx, 'gc-skip')
    return sale.keys.map((k) => openCardKey(keyring, k).code)
  })
  t.same(second, ['S-000001'])
  release()
  await t.rejects(first, /rolled back/)
  await raise(sql, 'gc-skip')
  t.same(await sell(sql, 'gc-skip', 'ord_3', 3), ['S-000000', 'S-000002', 'S-000003'], 'the first key is still first')
})

t.test('raising never hides keys an import is adding, whichever transaction locks the floor first', async (t) => {
  const sql = await setup(t, 'gc-race')
  await importBatch(sql, keyring, { sku: 'gc-race', unitCost: 1, expiresAt: null, source: null, actor }, codes('OLD', 6))
  await sell(sql, 'gc-race', 'ord_0')

  // The import locks the floor row first (its insert trigger): a raise skips it without waiting.
  const reserved = await sql.reserve()
  t.teardown(() => reserved.release())
  await reserved`begin`
  await reserved`insert into card_key_batches (id, sku, unit_cost, currency, imported_by) values ('bat_r1', 'gc-race', 1, 'CNY', 'test')`
  await reserved`insert into card_keys (id, batch_id, sku, key_id, code_ciphertext, fingerprint, expires_at)
    values ('ck_000000race1', 'bat_r1', 'gc-race', 'test1', '\\x00', '\\x01', now() + interval '1 day')`
  // The import commits only after this, so a raise that waited for its lock would wait for
  // ever: the lock timeout turns that into an error instead of a hung test.
  await t.resolves(sql.begin(async (tx) => {
    await tx`set local lock_timeout = '10s'`
    await tx`update card_keys set status = 'sold', order_id = 'ord_r', sold_at = now() where id = (select min(id) from card_keys where sku = 'gc-race' and status = 'available' and batch_id <> 'bat_r1')`
    await raise(tx, 'gc-race')
  }), 'the raise did not wait for the import')
  await reserved`commit`
  t.equal((await floorOf(sql, 'gc-race'))?.card_key_id, 'ck_000000race1')

  // The raise locks first: the import's trigger waits for it, then lowers the floor again.
  await sql`update card_keys set status = 'sold', order_id = 'ord_r1', sold_at = now() where id = 'ck_000000race1'`
  await raise(sql, 'gc-race')
  const before = await floorOf(sql, 'gc-race')
  let commitRaise!: () => void
  const raiseMayCommit = new Promise<void>((resolve) => { commitRaise = resolve })
  let raised!: () => void
  const raisedNow = new Promise<void>((resolve) => { raised = resolve })
  const raising = sql.begin(async (tx) => {
    await tx`update card_keys set status = 'sold', order_id = 'ord_r2', sold_at = now() where id = ${before!.card_key_id}`
    await raise(tx, 'gc-race')
    raised()
    await raiseMayCommit
  })
  await raisedNow
  const importing = importBatch(sql, keyring, { sku: 'gc-race', unitCost: 1, expiresAt: new Date(Date.now() + 2 * DAY), source: null, actor }, codes('NEW', 2))
  await new Promise((resolve) => setTimeout(resolve, 300))
  commitRaise()
  await raising
  t.match(await importing, { imported: 2 })
  t.same(await sell(sql, 'gc-race', 'ord_r3', 2), ['NEW-000000', 'NEW-000001'], 'the imported keys are first in line')
  t.same(await sell(sql, 'gc-race', 'ord_r4', 3), ['OLD-000003', 'OLD-000004', 'OLD-000005'])
  await t.rejects(sell(sql, 'gc-race', 'ord_r5'), InsufficientStockError, 'all sold')
})

t.test('raising the floor does nothing under a transaction-wide snapshot', async (t) => {
  const sql = await setup(t, 'gc-rr')
  await importBatch(sql, keyring, { sku: 'gc-rr', unitCost: 1, expiresAt: null, source: null, actor }, codes('RR', 3))
  await sql`update card_keys set status = 'sold', order_id = 'ord_1', sold_at = now() where id = (select min(id) from card_keys)`
  const before = await floorOf(sql, 'gc-rr')
  await sql.begin('isolation level repeatable read', async (tx) => { await raise(tx, 'gc-rr') })
  t.same(await floorOf(sql, 'gc-rr'), before)
  await raise(sql, 'gc-rr')
  t.not((await floorOf(sql, 'gc-rr'))?.card_key_id, before?.card_key_id)
})
