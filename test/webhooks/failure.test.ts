import t from 'tap'
import { classifySendError, publicFailureText } from '../../src/webhooks/failure.js'

const coded = (code: string, message: string): Error => Object.assign(new Error(message), { code })

t.test('send errors fall into a few classes whose text names no host or address', async (t) => {
  const cases: [Error, string][] = [
    [new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timed out'],
    [coded('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error (attempted address: hooks.merchant.example:443, timeout: 2000ms)'), 'timed out'],
    [coded('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'), 'timed out'],
    [coded('EUNSAFETARGET', 'hooks.merchant.example resolves to a non-public address'), 'host name did not resolve to a public address'],
    [coded('ENOTFOUND', 'getaddrinfo ENOTFOUND db.corp.internal'), 'host name did not resolve to a public address'],
    [coded('ECONNREFUSED', 'connect ECONNREFUSED 203.0.113.7:443'), 'connection failed'],
    [coded('CERT_HAS_EXPIRED', 'certificate has expired'), 'connection failed']
  ]
  for (const [err, text] of cases) t.equal(publicFailureText(classifySendError(err), null), text, err.message)
  t.equal(publicFailureText('http_status', 503), 'HTTP 503')
})
