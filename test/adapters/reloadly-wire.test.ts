import t from 'tap'
import { splitPhone, toTopupRequest, fromAirtimeRefusal, fromTopup } from '../../adapters/reloadly-airtime/map.js'
import { readTopup } from '../../adapters/reloadly-airtime/wire.js'
import { DEFAULT_RECIPIENT_EMAIL, DEFAULT_SENDER_NAME, fromGiftCardRefusal, toCodes, toOrderRequest } from '../../adapters/reloadly-giftcards/map.js'
import { GiftCards } from '../../adapters/reloadly-giftcards/wire.js'
import { isDuplicateReference, toMinorUnits } from '../../adapters/reloadly/map.js'
import { parseReloadlyWebhook } from '../../adapters/reloadly/webhook.js'
import { readError, reloadlySignature, WebhookBody } from '../../adapters/reloadly/wire.js'
import { webhookReference } from '../../adapters/reloadly/webhook.js'
import type { PurchaseRequest } from '../../src/domain/supplier.js'

const VECTOR_BODY = '{"id":"evt-1","type":"airtime_transaction.status","data":{"transactionId":12345,"customIdentifier":"GW20240101000004","status":"SUCCESSFUL"}}'
const VECTOR_SIGNATURE = 'b58be16c1aad9c5a4084b74d6ddd89b5c988c686a3966f99c73ffc770d74527e'

t.test('webhook signature matches the vector of suppliers.md §9', async (t) => {
  t.equal(reloadlySignature('whsec_test', VECTOR_BODY, '1700000000'), VECTOR_SIGNATURE)
  const request = (signature: string, timestamp = '1700000000', rawBody = VECTOR_BODY) => ({
    headers: { 'x-reloadly-signature': signature, 'x-reloadly-request-timestamp': timestamp }, contentType: 'application/json', rawBody
  })
  const at = (seconds: number) => () => seconds * 1000
  t.match(parseReloadlyWebhook('whsec_test', request(VECTOR_SIGNATURE), at(1_700_000_000)), { verified: true, reference: 'GW20240101000004', ack: { status: 200 } })
  t.match(parseReloadlyWebhook('whsec_test', request(VECTOR_SIGNATURE.toUpperCase()), at(1_700_000_100)), { verified: true }, 'hex case does not matter')
  t.match(parseReloadlyWebhook('whsec_test', request(VECTOR_SIGNATURE), at(1_700_000_301)), { verified: false, reason: /300 s/, ack: { status: 401 } }, 'too old')
  t.match(parseReloadlyWebhook('whsec_test', request(VECTOR_SIGNATURE), at(1_699_999_699)), { verified: false, reason: /300 s/ }, 'too far ahead')
  t.match(parseReloadlyWebhook('whsec_other', request(VECTOR_SIGNATURE), at(1_700_000_000)), { verified: false, reason: /signature/, ack: { status: 401 } })
  t.match(parseReloadlyWebhook('whsec_test', request(VECTOR_SIGNATURE, '1700000000', VECTOR_BODY.replace('SUCCESSFUL', 'FAILED')), at(1_700_000_000)), { verified: false }, 'body changed')
  t.match(parseReloadlyWebhook('whsec_test', request(VECTOR_SIGNATURE.slice(0, 10)), at(1_700_000_000)), { verified: false }, 'short signature')
  t.match(parseReloadlyWebhook('whsec_test', { headers: {}, contentType: '', rawBody: VECTOR_BODY }, at(1_700_000_000)), { verified: false, reason: /lacks/ })
  const ms = '1700000000000'
  t.match(parseReloadlyWebhook('whsec_test', request(reloadlySignature('whsec_test', VECTOR_BODY, ms), ms), at(1_700_000_000)), { verified: true }, 'a millisecond timestamp is read as such')
  const other = '{"id":"evt-2","type":"airtime_transaction.status","data":{"transactionId":1}}'
  t.match(parseReloadlyWebhook('whsec_test', request(reloadlySignature('whsec_test', other, '1700000000'), '1700000000', other), at(1_700_000_000)),
    { verified: false, reason: /customIdentifier/, ack: { status: 200 } }, 'genuine but about nothing of ours: acknowledged')
})

t.test('the webhook reader finds our reference in every known variant', async (t) => {
  const ref = (body: unknown) => webhookReference(WebhookBody.parse(body))
  t.equal(ref({ type: 'airtime_transaction.status', data: { customIdentifier: 'A' } }), 'A', 'data')
  t.equal(ref({ type: 'giftcard_transaction.status', data: { transaction: { customIdentifier: 'B', transactionId: 7 } } }), 'B', 'data.transaction')
  t.equal(ref({ transaction: { customIdentifier: 'C' } }), 'C', 'transaction')
  t.equal(ref({ customIdentifier: 'D', status: 'SUCCESSFUL' }), 'D', 'top level')
  t.equal(ref({ data: 'weird', customIdentifier: 'E' }), 'E', 'odd fields are tolerated')
  t.equal(ref({ data: { transactionId: 1 } }), null)
})

t.test('E.164 recipients split into ISO country and national number', async (t) => {
  t.same(splitPhone('+2348147658720'), { countryCode: 'NG', number: '8147658720' }, 'Nigeria (MTN)')
  t.same(splitPhone('+8613800138000'), { countryCode: 'CN', number: '13800138000' }, 'China (China Mobile)')
  t.same(splitPhone('+447951631337'), { countryCode: 'GB', number: '7951631337' })
  t.equal(splitPhone('+15555555555'), null, 'well-formed but not a real US number')
  t.equal(splitPhone('+8612345678901'), null, 'not a Chinese range')
  t.equal(splitPhone('+8613800138000x'), null, 'trailing characters')
  t.equal(splitPhone('8613800138000'), null, 'no plus')
  t.equal(splitPhone('+86 138 0013 8000'), null, 'E.164 has no spaces')
})

const purchase = (extra: Partial<PurchaseRequest> = {}): PurchaseRequest =>
  ({ reference: 'att_1', supplierProductId: '341', supplierParams: { amount: 10 }, quantity: 1, recipient: { phone: '+2348147658720' }, ...extra })

t.test('top-up requests: route parameters and recipients are checked before anything is sent', async (t) => {
  t.same(toTopupRequest(purchase()), { body: { operatorId: 341, amount: 10, useLocalAmount: false, customIdentifier: 'att_1', recipientPhone: { countryCode: 'NG', number: '8147658720' } } })
  t.match(toTopupRequest(purchase({ supplierParams: { amount: 500, use_local_amount: true } })), { body: { amount: 500, useLocalAmount: true } })
  for (const supplierParams of [{}, { amount: '10' }, { amount: -1 }, { amount: 10, ammount: 10 }, { amount: 10, use_local_amount: 'yes' }]) {
    t.match(toTopupRequest(purchase({ supplierParams })), { failure: { status: 'failed', retryable: false, code: 'route_params_invalid' } }, JSON.stringify(supplierParams))
  }
  t.match(toTopupRequest(purchase({ supplierProductId: 'mtn' })), { failure: { code: 'route_params_invalid' } })
  t.match(toTopupRequest(purchase({ quantity: 2 })), { failure: { code: 'route_params_invalid' } })
  t.match(toTopupRequest(purchase({ recipient: { phone: '+15555555555' } })), { failure: { status: 'failed', retryable: false, code: 'recipient_invalid' } })
  t.match(toTopupRequest(purchase({ recipient: { account: 'x' } })), { failure: { code: 'recipient_invalid' } })
})

t.test('top-up statuses, flat and wrapped', async (t) => {
  const flat = {
    transactionId: 4602843, status: 'SUCCESSFUL', customIdentifier: 'GW20240101000004', operatorId: 535, requestedAmount: 3168.4,
    pinDetail: { serial: 558111, info1: 'DIAL *611', code: '773709733097662', validity: '30 days', value: null }
  }
  const topup = readTopup(flat)
  t.match(topup, { transactionId: '4602843', status: 'SUCCESSFUL', pinDetail: { code: '773709733097662', serial: '558111' } }, 'ids and serials read as strings')
  t.same(fromTopup(topup!), { status: 'succeeded', supplierOrderId: '4602843', codes: [{ code: '773709733097662', pin: null, serial: '558111', expiresAt: null }] }, 'a PIN top-up delivers its PIN')
  t.same(fromTopup(readTopup({ ...flat, pinDetail: null })!), { status: 'succeeded', supplierOrderId: '4602843', codes: [] }, 'a plain top-up delivers nothing to show')
  const wrapped = { code: null, message: null, status: 'SUCCESSFUL', transaction: { ...flat, status: 'PROCESSING', pinDetail: null } }
  t.match(fromTopup(readTopup(wrapped)!), { status: 'succeeded', supplierOrderId: '4602843' }, 'the wrapper status wins')
  t.match(fromTopup(readTopup({ code: null, message: null, transaction: { ...flat, status: 'PROCESSING' } })!), { status: 'pending' }, 'or the inner one when the wrapper has none')
  t.match(fromTopup(readTopup({ ...flat, status: 'PROCESSING' })!), { status: 'pending', supplierOrderId: '4602843' })
  t.match(fromTopup(readTopup({ ...flat, status: 'FAILED' })!), { status: 'failed', retryable: false, code: 'supplier_failed' })
  t.match(fromTopup(readTopup({ ...flat, status: 'REFUNDED' })!), { status: 'failed', retryable: false, code: 'supplier_refunded' })
  t.match(fromTopup(readTopup({ ...flat, status: 'REVERSED' })!), { status: 'unknown' }, 'an unheard-of status is unknown, not a guess')
  t.equal(readTopup({ transactionId: 'abc', status: 'SUCCESSFUL' }), null)
  t.equal(readTopup('<html>'), null)
})

t.test('airtime refusals by errorCode (suppliers.md §1.6)', async (t) => {
  const cases: [number, string | null, object][] = [
    [400, 'INVALID_RECIPIENT_PHONE', { retryable: false, code: 'recipient_invalid' }],
    [400, 'INVALID_PHONE_NUMBER', { retryable: false, code: 'recipient_invalid' }],
    [400, 'COULD_NOT_AUTO_DETECT_OPERATOR', { retryable: false, code: 'recipient_invalid' }],
    [400, 'INSUFFICIENT_BALANCE', { retryable: true, code: 'supplier_insufficient_balance', message: /ALERT/ }],
    [429, 'RATE_LIMIT_REACHED', { retryable: true, code: 'supplier_rate_limited' }],
    [429, null, { retryable: true, code: 'supplier_rate_limited' }],
    [401, 'INVALID_CREDENTIALS', { retryable: true, code: 'supplier_auth_failed' }],
    [400, 'OPERATOR_UNAVAILABLE_OR_CURRENTLY_INACTIVE', { retryable: true, code: 'product_unavailable' }],
    [400, 'TRANSACTION_CANNOT_BE_PROCESSED_AT_THE_MOMENT', { retryable: true, code: 'product_unavailable' }],
    [400, 'INVALID_AMOUNT_FOR_OPERATOR', { retryable: true, code: 'route_refused' }],
    [400, 'MAX_DAILY_TRANSACTION_COUNT_REACHED', { retryable: true, code: 'route_refused' }],
    [400, 'PHONE_RECENTLY_RECHARGED', { retryable: false, code: 'phone_recently_recharged' }],
    [400, 'TOPUP_TRANSACTION_FAILED', { retryable: false, code: 'supplier_rejected' }],
    [400, 'SOMETHING_NEW', { retryable: true, code: 'reloadly_something_new' }],
    [404, null, { retryable: true, code: 'reloadly_http_404' }]
  ]
  for (const [status, errorCode, expected] of cases) {
    t.match(fromAirtimeRefusal(status, errorCode, 'message'), { status: 'failed', ...expected }, `${status} ${errorCode}`)
  }
  t.ok(isDuplicateReference('CUSTOM_IDENTIFIER_ALREADY_USED', ''))
  t.same(readError({ timeStamp: '2022-01-06 18:37:10', message: 'Recipient phone number is not valid', path: '/topups', errorCode: 'INVALID_RECIPIENT_PHONE', infoLink: null, details: [] }),
    { errorCode: 'INVALID_RECIPIENT_PHONE', message: 'Recipient phone number is not valid' })
  t.same(readError({ timestamp: 'x', status: 404, error: 'Not Found', message: 'No message available', path: '/nope' }), { errorCode: null, message: 'No message available' }, 'Spring 404')
  t.same(readError(null), { errorCode: null, message: '' })
})

t.test('gift-card refusals by status and message when errorCode is null (suppliers.md §2)', async (t) => {
  t.match(fromGiftCardRefusal(400, null, 'The product was either not found or is no longer available, Please contact support'), { retryable: true, code: 'product_unavailable' })
  t.match(fromGiftCardRefusal(400, null, 'Invalid price, please ensure you selected the right price.'), { retryable: true, code: 'route_refused' })
  t.match(fromGiftCardRefusal(400, null, 'Insufficient balance to place this order'), { retryable: true, code: 'supplier_insufficient_balance' })
  t.match(fromGiftCardRefusal(400, 'INSUFFICIENT_BALANCE', 'x'), { code: 'supplier_insufficient_balance' })
  t.match(fromGiftCardRefusal(429, null, ''), { code: 'supplier_rate_limited' })
  t.match(fromGiftCardRefusal(400, null, 'Something else'), { retryable: true, code: 'reloadly_http_400' })
  t.ok(isDuplicateReference(null, 'A transaction with this custom identifier already exists'))
  t.ok(isDuplicateReference(null, 'customIdentifier must be unique'))
  t.notOk(isDuplicateReference(null, 'Invalid price'))
})

t.test('gift-card orders: defaults, parameters, codes', async (t) => {
  const req = (supplierParams: Record<string, unknown>, quantity = 1): PurchaseRequest => ({ reference: 'att_2', supplierProductId: '10', supplierParams, quantity, recipient: {} })
  t.same(toOrderRequest(req({ unit_price: 25 }, 2)), { body: { productId: 10, quantity: 2, unitPrice: 25, customIdentifier: 'att_2', senderName: DEFAULT_SENDER_NAME, recipientEmail: DEFAULT_RECIPIENT_EMAIL } })
  t.match(toOrderRequest(req({ unit_price: 25, country_code: 'US', sender_name: 'Acme', recipient_email: 'codes@acme.test' })), { body: { countryCode: 'US', senderName: 'Acme', recipientEmail: 'codes@acme.test' } })
  for (const p of [{}, { unit_price: 0 }, { unit_price: 25, country_code: 'usa' }, { unit_price: 25, recipient_email: 'nope' }, { unit_price: 25, extra: 1 }]) {
    t.match(toOrderRequest(req(p)), { failure: { retryable: false, code: 'route_params_invalid' } }, JSON.stringify(p))
  }
  t.same(GiftCards.parse([{ cardNumber: '6120200345149064', pinCode: '5821' }]), [{ cardNumber: '6120200345149064', pinCode: '5821' }], 'an array')
  t.same(GiftCards.parse({ cardNumber: 6120200345149064, pinCode: 5821 }), [{ cardNumber: '6120200345149064', pinCode: '5821' }], 'a single object, numbers as text')
  t.same(toCodes([{ cardNumber: 'N1', pinCode: 'P1' }, { cardNumber: null, pinCode: 'P2' }], 2), [
    { code: 'N1', pin: 'P1', serial: null, expiresAt: null },
    { code: 'P2', pin: null, serial: null, expiresAt: null }
  ], 'a lone PIN is the code')
  t.equal(toCodes([{ cardNumber: 'N1', pinCode: null }], 2), null, 'fewer cards than ordered')
  t.equal(toCodes([], undefined), null)
  t.equal(toCodes([{ cardNumber: null, pinCode: null }], 1), null)
})

t.test('amounts are parsed as text into minor units of their currency', async (t) => {
  t.equal(toMinorUnits(5000, 'USD'), 500000)
  t.equal(toMinorUnits(5109.53732, 'NGN'), 510953, 'sub-kobo digits are dropped (rounded down)')
  t.equal(toMinorUnits('2004.50532', 'NGN'), 200450)
  t.equal(toMinorUnits(' 0.1 ', 'USD'), 10)
  t.equal(toMinorUnits('1234.5', 'JPY'), 1234, 'no minor unit')
  t.equal(toMinorUnits('1.2345', 'KWD'), 1234, 'three decimals')
  t.equal(toMinorUnits('-1.001', 'USD'), -101, 'a negative fraction rounds away from an overstated balance')
  t.equal(toMinorUnits('9007199254740.99', 'USD'), 900719925474099)
  t.throws(() => toMinorUnits('1e5', 'USD'))
  t.throws(() => toMinorUnits(1e21, 'USD'), 'exponent notation is not read')
  t.throws(() => toMinorUnits('99999999999999999', 'USD'), /range/)
})
