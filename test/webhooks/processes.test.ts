import t from 'tap'
import { newId } from '../../src/domain/ids.js'
import { build, createTestDatabase, exclusive, spawnGateway, testEnv } from '../helper.js'
import { cardSku, createReseller } from '../v1/helpers.js'
import { receiver, until } from './helpers.js'

t.test('3 processes deliver 1,000 events, none twice', async (t) => {
  await exclusive(t)
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, { CALLBACK_ALLOW_PRIVATE: 'true' }, { databaseUrl })
  const hook = await receiver(t)
  const rsl = await createReseller(ta, { callback_url: hook.url })
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: newId('evt'), i }))
  await ta.database.sql`
    insert into webhook_events (id, reseller_id, type, payload, url)
    select id, ${rsl.id}, 'order.succeeded', jsonb_build_object('type', 'order.succeeded', 'n', n), ${hook.url}
    from unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.i)}::int[]) as u(id, n)`
  const env = testEnv(databaseUrl, { LOG_LEVEL: 'info', CALLBACK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '20', DATABASE_POOL_SIZE: '5' })
  await Promise.all([1, 2, 3].map(async () => await spawnGateway(t, env)))
  await until(async () => (await ta.database.sql`select count(*)::int as n from webhook_events where status = 'delivered'`)[0]?.n === 1000)
  t.equal(hook.ids.length, 1000, 'exactly 1,000 requests')
  t.equal(new Set(hook.ids).size, hook.ids.length, 'no webhook-id twice')
  const [attempts] = await ta.database.sql`select count(*)::int as n from webhook_attempts`
  t.equal(attempts?.n, 1000)
})

t.test('events survive a restart mid-schedule; refused orders never announce anything', async (t) => {
  await exclusive(t)
  const databaseUrl = await createTestDatabase(t)
  const ta = await build(t, { CALLBACK_ALLOW_PRIVATE: 'true' }, { databaseUrl })
  await cardSku(ta, 'gc-restart', 100, 1)
  const hook = await receiver(t, [500])
  const rsl = await createReseller(ta, { callback_url: hook.url }, 150)
  const env = testEnv(databaseUrl, { LOG_LEVEL: 'info', CALLBACK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '20', WEBHOOK_RETRY_SCHEDULE: '0s,1500ms', DATABASE_POOL_SIZE: '5' })
  const first = await spawnGateway(t, env)
  const placed = await fetch(`${first.url}/v1/orders`, { method: 'POST', headers: { ...rsl.bearer, 'content-type': 'application/json' }, body: JSON.stringify({ client_order_id: 'R-1', sku: 'gc-restart' }) })
  t.equal(placed.status, 201)
  const refused = await fetch(`${first.url}/v1/orders`, { method: 'POST', headers: { ...rsl.bearer, 'content-type': 'application/json' }, body: JSON.stringify({ client_order_id: 'R-2', sku: 'gc-restart' }) })
  t.equal(refused.status, 409, 'no stock left: refused, rolled back')
  await until(() => hook.ids.length === 1)
  t.equal(await first.stop(), 0, 'stopped after the first (failed) attempt, before the retry')
  const [pending] = await ta.database.sql`select status, attempts from webhook_events`
  t.same(pending, { status: 'pending', attempts: 1 }, 'the event waits in the outbox')
  await spawnGateway(t, env)
  await until(() => hook.ids.length === 2)
  t.equal(hook.ids[0], hook.ids[1], 'the retry after the restart carries the same webhook-id')
  await until(async () => (await ta.database.sql`select status from webhook_events`)[0]?.status === 'delivered')
  const [events] = await ta.database.sql`select count(*)::int as n from webhook_events`
  t.equal(events?.n, 1, 'the refused order left no event')
})
