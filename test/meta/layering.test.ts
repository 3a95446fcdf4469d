import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { packageRoot } from '../../src/paths.js'

t.test('domain is framework-free', async (t) => {
  const dir = join(packageRoot, 'src/domain')
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts'))
  t.ok(files.length > 0, 'has domain files')
  for (const f of files) {
    t.notMatch(await readFile(join(dir, f), 'utf8'), /from '(fastify|drizzle-orm|postgres|opossum|pino|undici)/, f)
  }
})
