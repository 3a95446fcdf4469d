import t from 'tap'
import {
  fitsEmptyQuota, quotaDecision, recipientKey, refusalOf, screenFacts, secondsToNextUtcDay, velocityDecision,
  type RiskRule, type RuleOf
} from '../../src/domain/risk/rules.js'

const now = new Date('2026-11-24T23:59:30.000Z')
const facts = { amount: 300, recipientKey: 'fan-1', clientIp: '203.0.113.9' }
const rule = <K extends RiskRule['kind']>(kind: K, params: RuleOf<K>['params'], action: RiskRule['action'] = 'refuse'): RuleOf<K> =>
  ({ id: `rsk_${kind}`, kind, action, sku: null, resellerId: null, params }) as RuleOf<K>

t.test('recipient keys: phone, else account, trimmed and lower-cased; none for card keys', async (t) => {
  t.equal(recipientKey({ account: '  Player.One ' }), 'player.one')
  t.equal(recipientKey({ phone: '+8613800138000' }), '+8613800138000')
  t.equal(recipientKey({ account: 'Hero', server: 'S1' }), 'hero', 'a game server does not make another person')
  t.equal(recipientKey({}), null)
  t.equal(recipientKey({ account: '   ' }), null)
})

t.test('amount ceiling', async (t) => {
  t.match(screenFacts(rule('amount_ceiling', { max_amount: 300 }), facts, now), { hit: false, measured: { amount: 300, max_amount: 300 }, at: now.toISOString() })
  t.match(screenFacts(rule('amount_ceiling', { max_amount: 299 }, 'review'), facts, now), { hit: true, action: 'review', rule_id: 'rsk_amount_ceiling' })
})

t.test('blocklists', async (t) => {
  t.match(screenFacts(rule('recipient_blocklist', { recipients: [' FAN-1'] }), facts, now), { hit: true, measured: { recipient_key: 'fan-1', listed: true } })
  t.match(screenFacts(rule('recipient_blocklist', { recipients: ['fan-2'] }), facts, now), { hit: false })
  t.equal(screenFacts(rule('recipient_blocklist', { recipients: ['fan-1'] }), { ...facts, recipientKey: null }, now), undefined, 'nothing to compare on card keys')
  const ips = rule('ip_blocklist', { cidrs: ['203.0.113.0/24', '2001:db8::/32'] })
  t.match(screenFacts(ips, facts, now), { hit: true, measured: { client_ip: '203.0.113.9' } })
  t.match(screenFacts(ips, { ...facts, clientIp: '::ffff:203.0.113.1' }, now), { hit: true }, 'IPv4-mapped IPv6')
  t.match(screenFacts(ips, { ...facts, clientIp: '2001:db8:1::1' }, now), { hit: true })
  t.match(screenFacts(ips, { ...facts, clientIp: '198.51.100.1' }, now), { hit: false })
  t.equal(screenFacts(ips, { ...facts, clientIp: null }, now), undefined)
})

t.test('velocity and quota are decided from what the database counted', async (t) => {
  const velocity = rule('recipient_velocity', { max_orders: 3, window_seconds: 60 })
  t.equal(screenFacts(velocity, facts, now), undefined, 'not decidable from the order alone')
  t.match(velocityDecision(velocity, 2, now), { hit: false, measured: { orders_in_window: 2, max_orders: 3, window_seconds: 60 } })
  t.match(velocityDecision(velocity, 3, now), { hit: true })

  const quota = rule('daily_quota', { max_amount: 1000 })
  t.equal(screenFacts(quota, facts, now), undefined)
  t.ok(fitsEmptyQuota({ max_amount: 1000 }, 1000))
  t.notOk(fitsEmptyQuota({ max_amount: 999 }, 1000), 'one order above the amount quota never fits')
  t.ok(fitsEmptyQuota({ max_orders: 1 }, 10 ** 9))
  t.match(quotaDecision(quota, true, { day: '2026-11-24', orders: 4, amount: 900 }, now), {
    hit: true, measured: { day: '2026-11-24', orders: 4, amount: 900, max_orders: null, max_amount: 1000 }
  })
})

t.test('refusals name the kind of rule, never its settings', async (t) => {
  t.same(refusalOf(velocityDecision(rule('recipient_velocity', { max_orders: 7, window_seconds: 86 }), 7, now)).code, 'risk_refused')
  const detail = refusalOf(velocityDecision(rule('recipient_velocity', { max_orders: 7, window_seconds: 86 }), 7, now)).detail
  t.match(detail, /recipient_velocity/)
  t.notMatch(detail, /7|86/)
  t.equal(refusalOf(quotaDecision(rule('daily_quota', { max_orders: 3 }), true, { day: 'x', orders: 3, amount: 0 }, now)).code, 'quota_exceeded')
  t.equal(secondsToNextUtcDay(now), 30, 'retry-after: seconds to the next UTC day')
})
