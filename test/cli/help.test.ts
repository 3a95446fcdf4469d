import t from 'tap'
import { runCli } from '../helper.js'

// Nothing listens on port 1 and there are no keys: a command that ran instead of printing
// its usage would fail (78 without ENCRYPTION_KEYS, 1 on the refused connection), not exit 0.
const UNREACHABLE = { DATABASE_URL: 'postgres://127.0.0.1:1/x', PORT: '0' }

for (const [args, shown, notShown] of [
  [['migrate', '--help'], /^ {2}migrate {2,}apply database migrations and exit$/m, /^ {2}serve /m],
  [['serve', '--help'], /^ {2}serve {2,}start the gateway/m, /^ {2}migrate /m],
  [['serve', '-h'], /^ {2}serve {2,}start the gateway/m, /^ {2}migrate /m],
  [['keys', '--help'], /^ {2}keys import [\s\S]*^ {2}keys rotate /m, /^ {2}serve /m],
  [['keys', 'import', '--sku', 'x', '--help'], /^ {2}keys import --sku S/m, /^ {2}keys rotate /m],
  [['admin', '--help'], /^ {2}admin create-token --role R/m, /^ {2}keys /m],
  [['orders', '--help'], /^ {2}orders export --from T/m, /^ {2}statements /m],
  [['reconcile', '--help'], /^ {2}reconcile \[--days N\]/m, /^ {2}serve /m]
] as const) {
  t.test(`${args.join(' ')} prints that usage and runs nothing`, async (t) => {
    const { code, stdout, stderr } = await runCli([...args], UNREACHABLE)
    t.equal(code, 0, stderr)
    t.match(stdout, /^usage: entitlement-gateway /)
    t.match(stdout, shown)
    t.notMatch(stdout, notShown, 'only the usage of the command asked about')
    t.equal(stderr, '', 'no log lines: nothing started')
  })
}

t.test('--help after an unknown command is a usage error', async (t) => {
  const { code, stdout, stderr } = await runCli(['bogus', '--help'], UNREACHABLE)
  t.equal(code, 64)
  t.equal(stdout, '')
  t.match(stderr, /^unknown command: bogus --help\n\nusage: /)
})
