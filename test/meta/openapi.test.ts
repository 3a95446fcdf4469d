import { readFile } from 'node:fs/promises'
import t from 'tap'
import { generateOpenApi, OPENAPI_FILE } from '../../src/cli/openapi.js'
import { build } from '../helper.js'

interface Operation {
  operationId?: string
  tags?: string[]
  security?: Array<Record<string, string[]>>
}

interface Document {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components?: { securitySchemes?: Record<string, unknown> }
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

function operations (doc: Document): Array<{ name: string, path: string, op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item)
    .filter(([method]) => METHODS.has(method))
    .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, op })))
}

const committed = await readFile(OPENAPI_FILE, 'utf8')

t.test('openapi/openapi.json is up to date', async (t) => {
  const generated = await generateOpenApi()
  // Compared as text, not as objects: key order and formatting are part of the reviewed diff.
  t.ok(generated === committed, 'openapi/openapi.json differs from what the routes describe: run `npm run openapi` and commit the result')
  t.match(committed, /\n$/, 'ends with a newline')
})

t.test('document shape', async (t) => {
  const doc = JSON.parse(committed) as Document
  t.match(doc.openapi, /^3\./, 'OpenAPI 3.x')
  const ops = operations(doc)
  t.ok(ops.length > 0, 'has operations')

  const ids = new Map<string, string>()
  for (const { name, path, op } of ops) {
    t.ok(typeof op.operationId === 'string' && op.operationId.length > 0, `${name} has an operationId`)
    if (op.operationId) {
      const other = ids.get(op.operationId)
      t.notOk(other, `${name}: operationId ${op.operationId} is unique${other ? ` (also on ${other})` : ''}`)
      ids.set(op.operationId, name)
    }
    t.ok(Array.isArray(op.tags) && op.tags.length > 0, `${name} has tags`)
    if (path.startsWith('/admin/')) {
      t.ok(Array.isArray(op.security) && op.security.length > 0, `${name} declares security`)
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) {
          t.ok(doc.components?.securitySchemes?.[scheme], `${name}: security scheme ${scheme} is defined`)
        }
      }
    }
  }
})

t.test('the running app serves the committed document and the docs UI', async (t) => {
  const { app } = await build(t)

  t.test('GET /openapi.json', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), JSON.parse(committed))
  })

  t.test('GET /docs', async (t) => {
    let url = '/docs'
    let res = await app.inject({ method: 'GET', url })
    for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 5; hops++) {
      const location = res.headers.location
      t.type(location, 'string', `redirect from ${url} has a location`)
      url = new URL(String(location), `http://localhost${url}`).pathname
      res = await app.inject({ method: 'GET', url })
    }
    t.equal(res.statusCode, 200, `GET ${url}`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(res.body, /swagger/i)
  })
})
