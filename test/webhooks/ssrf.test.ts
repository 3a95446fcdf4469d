import t from 'tap'
import { addressAllowed, checkCallbackUrl, safeLookup } from '../../src/webhooks/ssrf.js'

t.test('every private, special and disguised target is refused', async (t) => {
  const refused = [
    'http://merchant.example/hook', // plain http
    'ftp://merchant.example/hook',
    'https://user:pw@merchant.example/hook',
    'https://127.0.0.1/hook', 'https://127.1.2.3/', 'https://localhost/hook', 'https://api.localhost/', 'https://intranet/',
    'https://10.1.2.3/', 'https://172.16.0.1/', 'https://192.168.1.1/',
    'https://169.254.169.254/latest/meta-data/', // cloud metadata (link-local)
    'https://100.64.0.1/', // CGNAT
    'https://224.0.0.1/', 'https://239.255.255.250/', // multicast
    'https://0.0.0.0/', 'https://255.255.255.255/', 'https://240.0.0.1/', 'https://192.0.2.10/', 'https://198.18.0.1/',
    'https://[::1]/', 'https://[::]/', 'https://[fe80::1]/', 'https://[fc00::1]/', 'https://[fd00:ec2::254]/', 'https://[ff02::1]/',
    'https://[::ffff:127.0.0.1]/', 'https://[::ffff:7f00:1]/', 'https://[::ffff:169.254.169.254]/', // IPv4-mapped
    'https://[64:ff9b::7f00:1]/', 'https://[64:ff9b::a00:1]/', // NAT64
    'https://[2002:7f00:1::]/', 'https://[2002:a9fe:a9fe::]/', // 6to4
    'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', // Teredo
    'https://2130706433/', 'https://0x7f000001/', 'https://0177.0.0.1/', 'https://0x7f.1/', 'https://127.1/', // numeric spellings of 127.0.0.1
    'https://3232235777/', // 192.168.1.1
    'https://168.63.129.16/', 'https://100.100.100.200/', // Azure and Alibaba metadata
    'https://[::7f00:1]/', 'https://[::a9fe:a9fe]/', // IPv4-compatible IPv6
    'https://localhost./', 'https://api.localhost./'
  ]
  for (const url of refused) t.throws(() => checkCallbackUrl(url, false), url)
  for (const url of ['https://merchant.example/hooks/egw', 'https://8.8.8.8/hook', 'https://[2606:4700:4700::1111]/hook']) {
    t.doesNotThrow(() => checkCallbackUrl(url, false), url)
  }
  t.doesNotThrow(() => checkCallbackUrl('http://127.0.0.1:8080/hook', true), 'CALLBACK_ALLOW_PRIVATE lifts it')
  t.notOk(addressAllowed('not-an-ip'))
})

t.test('the connection-time lookup refuses names that resolve to private addresses', async (t) => {
  const lookup = safeLookup(false)
  const resolve = async (host: string) => await new Promise<string>((resolve, reject) => {
    lookup(host, {}, (err, address) => err ? reject(err) : resolve(address as string))
  })
  await t.rejects(resolve('localhost'), { code: 'EUNSAFETARGET' })
  const allowed = safeLookup(true)
  const local = await new Promise<string>((resolve, reject) => allowed('localhost', {}, (err, address) => err ? reject(err) : resolve(address as string)))
  t.ok(['127.0.0.1', '::1'].includes(local), 'allowed when private targets are allowed')
})
