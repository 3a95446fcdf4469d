import t, { type Test } from 'tap'
import { build } from '../helper.js'
import { cardSku, createReseller } from '../v1/helpers.js'
import { accountSku, adminOrder, balanceOf, createRule, order, orderCount } from './helpers.js'

/**
 * Each kind of rule, refusing and holding. A refusal charges nothing and keeps no order, so
 * the client_order_id is free again (even for another body); a hold accepts the order
 * `pending_review`, charged and not fulfilled. Each subtest uses its own SKU, so the rules
 * of one do not reach the others.
 */
t.test('risk rules', async (t) => {
  const ta = await build(t)
  const buyer = await createReseller(ta, {}, 1_000_000)

  const expectRefused = async (t: Test, placed: Awaited<ReturnType<typeof order>>, code: string, kind: string): Promise<void> => {
    t.equal(placed.status, code === 'quota_exceeded' ? 429 : 403, `${kind}: refused`)
    t.equal(placed.body.code, code)
    t.match(placed.body.detail, code === 'quota_exceeded' ? /daily order quota/ : new RegExp(kind))
  }

  t.test('amount_ceiling refuses: nothing charged, no order, client_order_id reusable', async (t) => {
    await cardSku(ta, 'gc-ceiling', 100, 10)
    await createRule(ta, { kind: 'amount_ceiling', sku: 'gc-ceiling', params: { max_amount: 250 } })
    const before = await balanceOf(ta, buyer)
    const orders = await orderCount(ta, buyer)
    const refused = await order(ta, buyer, { client_order_id: 'CEIL-1', sku: 'gc-ceiling', quantity: 3 })
    await expectRefused(t, refused, 'risk_refused', 'amount_ceiling')
    t.notMatch(refused.body.detail, /250/, 'the ceiling itself is not told')
    t.equal(await balanceOf(ta, buyer), before, 'nothing charged')
    t.equal(await orderCount(ta, buyer), orders, 'no order kept')
    const [stock] = await ta.database.sql`select count(*)::int as n from card_keys where sku = 'gc-ceiling' and status = 'available'`
    t.equal(stock?.n, 10, 'no key left the shelf')
    const again = await order(ta, buyer, { client_order_id: 'CEIL-1', sku: 'gc-ceiling', quantity: 2 })
    t.equal(again.status, 201, 'the same client_order_id with another body is a new order')
    t.equal(again.body.status, 'succeeded')
    t.equal(await balanceOf(ta, buyer), before - 200)
    const view = await adminOrder(ta, again.body.id)
    t.match(view.risk, [{ type: 'rule', kind: 'amount_ceiling', action: 'refuse', hit: false, measured: { amount: 200, max_amount: 250 } }], 'the passing decision is recorded')
    t.equal(view.client_ip, '127.0.0.1')
  })

  t.test('amount_ceiling holds for review: charged, not fulfilled', async (t) => {
    await cardSku(ta, 'gc-ceiling-review', 100, 10)
    const rule = await createRule(ta, { kind: 'amount_ceiling', action: 'review', sku: 'gc-ceiling-review', params: { max_amount: 100 } })
    const before = await balanceOf(ta, buyer)
    const held = await order(ta, buyer, { client_order_id: 'CEILR-1', sku: 'gc-ceiling-review', quantity: 2 })
    t.equal(held.status, 201)
    t.equal(held.body.status, 'pending_review')
    t.same(held.body.deliveries, [], 'no codes')
    t.equal(await balanceOf(ta, buyer), before - 200, 'charged')
    const [ledger] = await ta.database.sql`select kind, amount::int from ledger_entries where order_id = ${held.body.id}`
    t.same(ledger, { kind: 'order_debit', amount: -200 }, 'one ledger row')
    const [keys] = await ta.database.sql`select count(*)::int as n from card_keys where order_id = ${held.body.id}`
    t.equal(keys?.n, 0, 'no pool key allocated')
    const [events] = await ta.database.sql`select count(*)::int as n from webhook_events where order_id = ${held.body.id}`
    t.equal(events?.n, 0, 'no outcome callback yet')
    const view = await adminOrder(ta, held.body.id)
    t.match(view.risk, [{ type: 'rule', rule_id: rule, kind: 'amount_ceiling', action: 'review', hit: true, measured: { amount: 200, max_amount: 100 } }])
    const replay = await order(ta, buyer, { client_order_id: 'CEILR-1', sku: 'gc-ceiling-review', quantity: 2 })
    t.equal(replay.status, 200, 'a retry gets the held order back')
    t.equal(replay.body.id, held.body.id)
    t.equal(replay.body.status, 'pending_review')
    const small = await order(ta, buyer, { client_order_id: 'CEILR-2', sku: 'gc-ceiling-review', quantity: 1 })
    t.equal(small.body.status, 'succeeded', 'under the ceiling: fulfilled at once')
  })

  t.test('recipient_blocklist compares normalised recipients', async (t) => {
    await accountSku(ta, 'acct-block', 100, 10)
    const listed = await ta.app.inject({
      method: 'POST', url: '/admin/v1/risk-rules', headers: ta.auth('ops'),
      payload: { kind: 'recipient_blocklist', action: 'refuse', sku: 'acct-block', params: { recipients: ['  Scalper-01 ', '+8613800000000'] } }
    })
    t.same(listed.json().params, { recipients: ['scalper-01', '+8613800000000'] }, 'stored normalised')
    const before = await balanceOf(ta, buyer)
    const refused = await order(ta, buyer, { client_order_id: 'BL-1', sku: 'acct-block', recipient: { account: 'SCALPER-01 ' } })
    await expectRefused(t, refused, 'risk_refused', 'recipient_blocklist')
    t.equal(await balanceOf(ta, buyer), before)
    const ok = await order(ta, buyer, { client_order_id: 'BL-1', sku: 'acct-block', recipient: { account: 'honest-02' } })
    t.equal(ok.status, 201)
    t.equal(ok.body.status, 'succeeded')
    const [row] = await ta.database.sql`select recipient_key, client_ip from orders where id = ${ok.body.id}`
    t.same(row, { recipient_key: 'honest-02', client_ip: '127.0.0.1' }, 'recipient key and caller address stored')

    await createRule(ta, { kind: 'recipient_blocklist', action: 'review', sku: 'acct-block', params: { recipients: ['suspect-03'] } })
    const held = await order(ta, buyer, { client_order_id: 'BL-2', sku: 'acct-block', recipient: { account: 'Suspect-03' } })
    t.equal(held.status, 201)
    t.equal(held.body.status, 'pending_review', 'a review rule holds')
    const view = await adminOrder(ta, held.body.id)
    t.match(view.risk.filter((d) => d.hit), [{ kind: 'recipient_blocklist', action: 'review', measured: { recipient_key: 'suspect-03', listed: true } }])
  })

  t.test('ip_blocklist matches IPv4, IPv6 and IPv4-mapped callers', async (t) => {
    await cardSku(ta, 'gc-ip', 100, 10)
    await createRule(ta, { kind: 'ip_blocklist', sku: 'gc-ip', params: { cidrs: ['203.0.113.0/24', '2001:db8::/32'] } })
    await expectRefused(t, await order(ta, buyer, { client_order_id: 'IP-1', sku: 'gc-ip' }, '203.0.113.9'), 'risk_refused', 'ip_blocklist')
    await expectRefused(t, await order(ta, buyer, { client_order_id: 'IP-1', sku: 'gc-ip' }, '2001:db8::7'), 'risk_refused', 'ip_blocklist')
    await expectRefused(t, await order(ta, buyer, { client_order_id: 'IP-1', sku: 'gc-ip' }, '::ffff:203.0.113.10'), 'risk_refused', 'ip_blocklist')
    const ok = await order(ta, buyer, { client_order_id: 'IP-1', sku: 'gc-ip' }, '198.51.100.4')
    t.equal(ok.status, 201)
    t.equal((await adminOrder(ta, ok.body.id)).client_ip, '198.51.100.4')

    await cardSku(ta, 'gc-ip-review', 100, 10)
    await createRule(ta, { kind: 'ip_blocklist', action: 'review', sku: 'gc-ip-review', params: { cidrs: ['198.51.100.0/24'] } })
    const held = await order(ta, buyer, { client_order_id: 'IP-2', sku: 'gc-ip-review' }, '198.51.100.4')
    t.equal(held.body.status, 'pending_review')
  })

  t.test('recipient_velocity: N orders per recipient per window, then refused until the window passes', async (t) => {
    await accountSku(ta, 'acct-velocity', 100, 20)
    await accountSku(ta, 'acct-velocity-other', 100, 5)
    await createRule(ta, { kind: 'recipient_velocity', sku: 'acct-velocity', params: { max_orders: 2, window_seconds: 1 } })
    const buy = async (id: string, account: string, sku = 'acct-velocity') => await order(ta, buyer, { client_order_id: id, sku, recipient: { account } })
    t.equal((await buy('V-1', 'fan-1')).status, 201)
    t.equal((await buy('V-2', 'FAN-1')).status, 201, 'the same recipient however written')
    const before = await balanceOf(ta, buyer)
    await expectRefused(t, await buy('V-3', 'fan-1'), 'risk_refused', 'recipient_velocity')
    t.equal(await balanceOf(ta, buyer), before, 'nothing charged')
    t.equal((await buy('V-4', 'fan-2')).status, 201, 'another recipient is not limited')
    t.equal((await buy('V-5', 'fan-1', 'acct-velocity-other')).status, 201, 'a per-SKU rule counts only its SKU')
    // The window is one second: poll until the earlier orders age out (refusals leave nothing behind).
    let placed = await buy('V-3', 'fan-1')
    for (let i = 0; placed.status === 403 && i < 60; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      placed = await buy('V-3', 'fan-1')
    }
    t.equal(placed.status, 201, 'accepted again once the window passed')
    const view = await adminOrder(ta, placed.body.id)
    t.match(view.risk, [{ kind: 'recipient_velocity', hit: false, measured: { max_orders: 2, window_seconds: 1 } }])

    await accountSku(ta, 'acct-velocity-review', 100, 5)
    await createRule(ta, { kind: 'recipient_velocity', action: 'review', sku: 'acct-velocity-review', params: { max_orders: 1, window_seconds: 600 } })
    t.equal((await buy('VR-1', 'fan-9', 'acct-velocity-review')).body.status, 'succeeded')
    const held = await buy('VR-2', 'fan-9', 'acct-velocity-review')
    t.equal(held.body.status, 'pending_review')
    t.match((await adminOrder(ta, held.body.id)).risk, [{ kind: 'recipient_velocity', hit: true, measured: { orders_in_window: 1, max_orders: 1 } }])
  })

  t.test('daily_quota per reseller and UTC day: refuses with 429 or holds', async (t) => {
    await cardSku(ta, 'gc-quota', 100, 20)
    const other = await createReseller(ta, {}, 10_000)
    const rule = await createRule(ta, { kind: 'daily_quota', sku: 'gc-quota', params: { max_orders: 2 } })
    t.equal((await order(ta, buyer, { client_order_id: 'Q-1', sku: 'gc-quota' })).status, 201)
    t.equal((await order(ta, buyer, { client_order_id: 'Q-2', sku: 'gc-quota' })).status, 201)
    const before = await balanceOf(ta, buyer)
    const refused = await order(ta, buyer, { client_order_id: 'Q-3', sku: 'gc-quota' })
    await expectRefused(t, refused, 'quota_exceeded', 'daily_quota')
    const retryAfter = Number(refused.headers['retry-after'])
    t.ok(retryAfter > 0 && retryAfter <= 86_400, `retry-after until the UTC day ends: ${retryAfter}`)
    t.equal(await balanceOf(ta, buyer), before)
    t.equal((await order(ta, other, { client_order_id: 'Q-1', sku: 'gc-quota' })).status, 201, 'a rule for every reseller counts each one separately')
    const counters = await ta.database.sql`select reseller_id, orders, amount::int from risk_counters where rule_id = ${rule} order by orders desc`
    t.match(counters, [{ reseller_id: buyer.id, orders: 2, amount: 200 }, { reseller_id: other.id, orders: 1, amount: 100 }], 'refused orders are not counted')

    await cardSku(ta, 'gc-quota-amount', 100, 20)
    await createRule(ta, { kind: 'daily_quota', action: 'review', sku: 'gc-quota-amount', reseller_id: buyer.id, params: { max_amount: 300 } })
    t.equal((await order(ta, buyer, { client_order_id: 'QA-1', sku: 'gc-quota-amount', quantity: 2 })).body.status, 'succeeded')
    const held = await order(ta, buyer, { client_order_id: 'QA-2', sku: 'gc-quota-amount', quantity: 2 })
    t.equal(held.body.status, 'pending_review', 'over the amount quota: held')
    t.match((await adminOrder(ta, held.body.id)).risk, [{ kind: 'daily_quota', hit: true, measured: { orders: 1, amount: 200, max_amount: 300, max_orders: null } }])
    t.equal((await order(ta, buyer, { client_order_id: 'QA-3', sku: 'gc-quota-amount', quantity: 1 })).body.status, 'succeeded', 'what still fits passes')
    t.equal((await order(ta, other, { client_order_id: 'QA-1', sku: 'gc-quota-amount', quantity: 5 })).body.status, 'succeeded', 'a rule for one reseller leaves the others alone')
  })

  t.test('a disabled or deleted rule no longer applies; a refuse beats a review', async (t) => {
    await cardSku(ta, 'gc-toggle', 100, 10)
    const rule = await createRule(ta, { kind: 'amount_ceiling', sku: 'gc-toggle', params: { max_amount: 50 } })
    t.equal((await order(ta, buyer, { client_order_id: 'T-1', sku: 'gc-toggle' })).status, 403)
    const off = await ta.app.inject({ method: 'PATCH', url: `/admin/v1/risk-rules/${rule}`, headers: ta.auth('ops'), payload: { enabled: false } })
    t.equal(off.statusCode, 200)
    t.equal((await order(ta, buyer, { client_order_id: 'T-1', sku: 'gc-toggle' })).status, 201, 'disabled')
    await ta.app.inject({ method: 'PATCH', url: `/admin/v1/risk-rules/${rule}`, headers: ta.auth('ops'), payload: { enabled: true } })
    await createRule(ta, { kind: 'amount_ceiling', action: 'review', sku: 'gc-toggle', params: { max_amount: 10 } })
    t.equal((await order(ta, buyer, { client_order_id: 'T-2', sku: 'gc-toggle' })).status, 403, 'refused although another rule would hold it')
    const del = await ta.app.inject({ method: 'DELETE', url: `/admin/v1/risk-rules/${rule}`, headers: ta.auth('ops') })
    t.equal(del.statusCode, 200)
    t.equal((await order(ta, buyer, { client_order_id: 'T-2', sku: 'gc-toggle' })).body.status, 'pending_review', 'only the review rule is left')
  })
})
