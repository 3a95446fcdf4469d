import { createCipheriv, createHash } from 'node:crypto'
import t from 'tap'
import { FuluOrder, fuluDecryptCard, fuluSign, fuluTimestamp } from '../../adapters/fulu/wire.js'
import { fromFuluRefusal, isOrderMissing } from '../../adapters/fulu/map.js'

const SECRET = '0123456789abcdef0123456789abcdef'
const base = { app_key: 'TESTAPPKEY', method: 'fulu.order.direct.add', timestamp: '2024-01-01 12:00:00', version: '2.0', format: 'json', charset: 'utf-8', sign_type: 'md5', app_auth_token: '' }

t.test('request signatures match the vectors of suppliers.md §9', async (t) => {
  const biz1 = JSON.stringify({ customer_order_no: 'GW20240101000001', product_id: 10000001, charge_account: '888888', buy_num: 1 })
  t.equal(fuluSign({ ...base, biz_content: biz1 }, SECRET), '956eaeaa1cadca3e002415e307512d5a')
  const reordered = { biz_content: biz1, ...base }
  t.equal(fuluSign(reordered, SECRET), '956eaeaa1cadca3e002415e307512d5a', 'key order is irrelevant')
  const biz2 = JSON.stringify({ customer_order_no: 'GW20240101000002', product_id: 10000001, charge_account: '888888', buy_num: 1, charge_game_name: '三国群英传', charge_game_region: '电信一区' })
  t.equal(fuluSign({ ...base, biz_content: biz2 }, SECRET), '2542c115b310b932566c4a5c6f17aa6e', 'non-ASCII left unescaped')
  t.equal(fuluSign('{"order_id":"22113024595794711936","customer_order_no":"GW20240101000001","order_state":"processing"}', SECRET), '9f47c4360f28fba81d733c24b21ef6d1', 'response sign over the result string')
  // Code points, not UTF-16 units: an astral character sorts after U+FFFD, its surrogates would not.
  const astral = 'b\u{1F600}a\uFFFD名'
  t.equal(fuluSign(astral, SECRET), createHash('md5').update(`ab名\uFFFD\u{1F600}${SECRET}`, 'utf8').digest('hex'), 'sorted by code point')
})

t.test('card codes decrypt with the app secret (AES-256-ECB)', async (t) => {
  t.equal(fuluDecryptCard('wi/SjKgNvyBez3LqNU/kvQ==', SECRET), 'CARD-PWD-123')
  const cipher = createCipheriv('aes-256-ecb', Buffer.from(SECRET), null)
  const round = Buffer.concat([cipher.update('卡密-9', 'utf8'), cipher.final()]).toString('base64')
  t.equal(fuluDecryptCard(round, SECRET), '卡密-9')
})

t.test('orders keep 20-digit ids as strings and unknown states as unknown', async (t) => {
  const order = FuluOrder.parse({ order_id: '22113019210922951925', customer_order_no: 'GW1', order_state: 'success' })
  t.equal(order.order_id, '22113019210922951925')
  t.equal(FuluOrder.parse({ order_id: '1', customer_order_no: 'GW1', order_state: 'refunding' }).order_state, 'unknown')
  t.equal(fuluTimestamp(new Date('2024-01-01T04:00:00Z')), '2024-01-01 12:00:00', 'China time')
})

t.test('only a refusal about the order itself means "no such order"; unrecognised refusals are unknown', async (t) => {
  t.ok(isOrderMissing('订单不存在'))
  t.ok(isOrderMissing('order not found'))
  for (const m of ['app_key不存在', '商户不存在', '方法不存在', 'Not Found', '签名错误']) t.notOk(isOrderMissing(m), m)
  t.match(fromFuluRefusal(1005, '签名错误'), { status: 'failed', retryable: true, code: 'supplier_auth_failed' })
  t.match(fromFuluRefusal(4001, '商户余额不足'), { status: 'failed', retryable: true, code: 'supplier_insufficient_balance' })
  t.match(fromFuluRefusal(2003, '充值账号格式不正确'), { status: 'failed', retryable: false, code: 'recipient_invalid' })
  t.match(fromFuluRefusal(9999, '系统繁忙'), { status: 'unknown' }, 'said maybe after the order was taken: ask, do not buy elsewhere')
})
