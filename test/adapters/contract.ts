import { createServer } from 'node:net'
import type { Test } from 'tap'
import { build, type TestApp } from '../helper.js'
import { createReseller, type TestReseller } from '../v1/helpers.js'
import { until } from '../webhooks/helpers.js'

/** The knobs every supplier simulator has (suppliers.md §10), whatever else it offers. */
export interface ContractKnobs {
  latencyMs: number
  /** Answer every call with this HTTP status instead of the protocol's answer. */
  httpStatus: number | null
  hang: boolean
  reset: boolean
  malformed: boolean
  /** Purchases create the order, then never answer. */
  acceptThenHang: boolean
  /** Orders stay pending this long before their final state. */
  completeAfterMs: number
  finalState: 'success' | 'failed'
  /** Where the simulator sends its callbacks; null sends none (but see `silenceCallbacks`). */
  callbackUrl: string | null
}

export interface ContractSimulator {
  url: string
  knobs: ContractKnobs
  /** Our references, one per purchase request that reached the simulator. */
  submits: string[]
  /** Our references, one per status query. */
  queries: string[]
  callbacks: { status: number | null, body: string }[]
  close: () => Promise<void>
}

/** How one adapter and its simulator take part in the shared contract. */
export interface ContractTarget<S extends ContractSimulator> {
  adapter: string
  start: (t: Test) => Promise<S>
  baseUrl: (sim: S) => string
  credentials: (sim: S) => Record<string, unknown>
  /** Values that must never reach a log line (credentials, signing keys). */
  secrets: (sim: S) => string[]
  sku: { category: string, delivery: 'direct_recharge' | 'card_key', recipient_type: string }
  route: { supplier_product_id: string, supplier_params?: Record<string, unknown> }
  recipient: Record<string, string>
  /** Makes the simulator refuse a recipient as invalid, and returns that recipient (SKUs with a recipient). */
  badRecipient?: (sim: S) => Record<string, string>
  /** Makes the simulator refuse purchases as a business refusal (nothing bought, retryable). */
  refuse: (sim: S, on: boolean) => void
  /** A callback for `reference` whose signature is wrong. */
  forgedCallback: (sim: S, reference: string) => { headers: Record<string, string>, body: string }
  /**
   * Stops the simulator's callbacks where a null `callbackUrl` cannot: protocols whose orders
   * carry their own callback URL (kashangwl's notify_url) still call back there.
   */
  silenceCallbacks?: (sim: S) => void
  /** Expires every token the simulator issued (OAuth suppliers only). */
  expireTokens?: (sim: S) => void
  /** Tokens the simulator issued so far (OAuth suppliers only). */
  tokensIssued?: (sim: S) => number
}

const PRICE = 100

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

interface Order { id: string, status: string, failure: { code: string } | null, deliveries: { type: string, code?: string }[] }

/**
 * The contract every adapter passes, through the whole gateway: orders placed over the
 * public API, the adapter behind the executor and its breaker, the simulator over real
 * sockets, callbacks into the real route, the poller driven in compressed time.
 */
export async function runAdapterContract<S extends ContractSimulator> (t: Test, target: ContractTarget<S>): Promise<void> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let ta: TestApp
  let buyer: TestReseller
  let n = 0
  const delivered: string[] = []
  const secrets: string[] = []

  t.before(async () => {
    ta = await build(t, { ORDER_SYNC_WAIT_MS: '1000', SUPPLIER_POLL_INTERVAL_MS: '60000', RECONCILE_AFTER_MS: '200', PUBLIC_BASE_URL: base })
    await ta.app.listen({ port, host: '127.0.0.1' })
    buyer = await createReseller(ta, {}, 1_000_000)
  })

  /** A simulator, a supplier instance on it (own breaker), and a SKU routed to it then to a backup. */
  const setup = async (t: Test): Promise<{ sim: S, backup: S, sku: string, supplier: string }> => {
    const id = `c${++n}`
    const [sim, backup] = [await target.start(t), await target.start(t)]
    for (const [supplier, s] of [[`${id}-main`, sim], [`${id}-backup`, backup]] as const) {
      s.knobs.callbackUrl = `${base}/callbacks/suppliers/${supplier}`
      secrets.push(...target.secrets(s))
      const res = await ta.app.inject({
        method: 'POST', url: '/admin/v1/suppliers', headers: ta.auth('ops'),
        payload: { id: supplier, adapter: target.adapter, base_url: target.baseUrl(s), credentials: target.credentials(s), timeout_ms: 500 }
      })
      if (res.statusCode !== 201) throw new Error(`supplier refused: ${res.body}`)
    }
    const sku = `${id}-sku`
    const created = await ta.app.inject({
      method: 'POST', url: '/admin/v1/skus', headers: ta.auth('ops'),
      payload: { sku, name: sku, ...target.sku, face_value: PRICE, currency: 'CNY', max_quantity: 1 }
    })
    if (created.statusCode !== 201) throw new Error(`sku refused: ${created.body}`)
    const routes = [`${id}-main`, `${id}-backup`].map((supplier, i) => ({ supplier, ...target.route, cost: 90, priority: i }))
    const routed = await ta.app.inject({ method: 'PUT', url: `/admin/v1/skus/${sku}/fulfilment`, headers: ta.auth('ops'), payload: { routes } })
    if (routed.statusCode !== 200) throw new Error(`routing refused: ${routed.body}`)
    const prices = await ta.app.inject({ method: 'GET', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance') })
    const list = (prices.json() as { prices: { sku: string, price: number }[] }).prices.map((p) => ({ sku: p.sku, price: p.price }))
    await ta.app.inject({ method: 'PUT', url: '/admin/v1/tiers/standard/prices', headers: ta.auth('finance'), payload: [...list, { sku, price: PRICE }] })
    return { sim, backup, sku, supplier: `${id}-main` }
  }

  const buy = async (sku: string, recipient = target.recipient): Promise<Order> => {
    const res = await ta.app.inject({ method: 'POST', url: '/v1/orders', headers: buyer.bearer, payload: { client_order_id: `c-${++n}`, sku, recipient } })
    if (res.statusCode !== 201) throw new Error(`order refused: ${res.statusCode} ${res.body}`)
    const order = res.json() as Order
    for (const d of order.deliveries) if (d.code) delivered.push(d.code)
    return order
  }
  const money = async (orderId: string): Promise<{ debits: number, refunds: number }> => {
    const rows = await ta.database.sql<{ kind: string, amount: string }[]>`select kind, amount from ledger_entries where order_id = ${orderId}`
    const sum = (kind: string): number => rows.filter((r) => r.kind === kind).reduce((s, r) => s + Math.abs(Number(r.amount)), 0)
    return { debits: sum('order_debit'), refunds: sum('order_refund') }
  }
  /**
   * Runs the poller (as the worker would, compressed) until the order leaves `processing`.
   * Time is compressed too: open attempts age a day per look, so an adapter's wait before it
   * believes "no such order" (notFoundTrustedAfterMs) has passed.
   */
  const settle = async (orderId: string): Promise<Order> => {
    await until(async () => {
      await ta.database.sql`update supplier_attempts set created_at = created_at - interval '1 day' where order_id = ${orderId} and status in ('submitting', 'unknown')`
      await ta.database.sql`update orders set next_check_at = now() where id = ${orderId} and lease_until is null`
      await ta.app.fulfilment.runDue()
      const [o] = await ta.database.sql`select status from orders where id = ${orderId}`
      return o?.status !== 'processing'
    }, 10_000)
    const res = await ta.app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: buyer.bearer })
    const order = res.json() as Order
    for (const d of order.deliveries) if (d.code) delivered.push(d.code)
    return order
  }
  const expectDelivery = (t: Test, order: Order): void => {
    t.equal(order.status, 'succeeded')
    t.equal(order.deliveries[0]?.type, target.sku.delivery, `delivered as ${target.sku.delivery}`)
    if (target.sku.delivery === 'card_key') t.ok(order.deliveries.every((d) => typeof d.code === 'string' && d.code.length > 0), 'with codes')
  }

  t.test('success: one submit, charged once', async (t) => {
    const { sim, sku } = await setup(t)
    const order = await buy(sku)
    const done = order.status === 'processing' ? await settle(order.id) : order
    expectDelivery(t, done)
    t.equal(sim.submits.length, 1)
    t.same(await money(order.id), { debits: PRICE, refunds: 0 })
  })

  t.test('refusal: the next route serves the order', async (t) => {
    const { sim, backup, sku } = await setup(t)
    target.refuse(sim, true)
    const order = await buy(sku)
    expectDelivery(t, order.status === 'processing' ? await settle(order.id) : order)
    t.equal(sim.submits.length, 1)
    t.equal(backup.submits.length, 1)
    t.same(await money(order.id), { debits: PRICE, refunds: 0 })
  })

  const badRecipient = target.badRecipient
  if (badRecipient) {
    t.test('bad recipient: failed and refunded, no other supplier asked', async (t) => {
      const { sim, backup, sku } = await setup(t)
      const order = await buy(sku, badRecipient(sim))
      t.match(order, { status: 'failed', failure: { code: 'recipient_invalid' } })
      t.equal(backup.submits.length, 0)
      t.same(await money(order.id), { debits: PRICE, refunds: PRICE })
    })
  }

  for (const fault of ['5xx', 'hang', 'reset', 'malformed body'] as const) {
    t.test(`${fault}: the outcome is unknown, so the supplier is asked again before anyone else`, async (t) => {
      const { sim, backup, sku } = await setup(t)
      const set = (on: boolean): void => {
        if (fault === '5xx') sim.knobs.httpStatus = on ? 503 : null
        else if (fault === 'hang') sim.knobs.hang = on
        else if (fault === 'reset') sim.knobs.reset = on
        else sim.knobs.malformed = on
      }
      set(true)
      const order = await buy(sku)
      t.equal(order.status, 'processing', 'kept processing while unclear')
      t.equal(backup.submits.length, 0, 'no other supplier while this one may deliver')
      set(false)
      const done = await settle(order.id)
      expectDelivery(t, done)
      t.same(await money(order.id), { debits: PRICE, refunds: 0 }, 'charged once')
      t.ok(sim.submits.length + backup.submits.length <= 2 && !(sim.submits.length === 0 && backup.submits.length === 0))
    })
  }

  t.test('accept-then-hang: exactly one submit, settled by a status query', async (t) => {
    const { sim, backup, sku } = await setup(t)
    sim.knobs.acceptThenHang = true
    const order = await buy(sku)
    const done = order.status === 'processing' ? await settle(order.id) : order
    expectDelivery(t, done)
    t.equal(sim.submits.length, 1, 'exactly one submit')
    t.ok(sim.queries.length >= 1, 'at least one status query')
    t.equal(backup.submits.length, 0)
  })

  t.test('slow completion, finished by the supplier callback', async (t) => {
    const { sim, sku } = await setup(t)
    sim.knobs.completeAfterMs = 1500
    const order = await buy(sku)
    t.equal(order.status, 'processing')
    await until(async () => {
      const [o] = await ta.database.sql`select status from orders where id = ${order.id}`
      return o?.status === 'succeeded'
    }, 10_000)
    t.ok(sim.callbacks.some((c) => c.status !== null && c.status < 300), 'the callback was acknowledged')
    t.ok(sim.queries.length >= 1, 'and confirmed by a query')
    const res = await ta.app.inject({ method: 'GET', url: `/v1/orders/${order.id}`, headers: buyer.bearer })
    expectDelivery(t, res.json() as Order)
    for (const d of (res.json() as Order).deliveries) if (d.code) delivered.push(d.code)
  })

  t.test('slow completion, finished by polling', async (t) => {
    const { sim, sku } = await setup(t)
    sim.knobs.completeAfterMs = 800
    sim.knobs.callbackUrl = null
    target.silenceCallbacks?.(sim)
    const order = await buy(sku)
    t.equal(order.status, 'processing')
    expectDelivery(t, await settle(order.id))
    t.equal(sim.callbacks.length, 0, 'no callback was sent')
  })

  t.test('a failed completion fails the order and refunds it', async (t) => {
    const { sim, sku } = await setup(t)
    sim.knobs.completeAfterMs = 300
    sim.knobs.finalState = 'failed'
    sim.knobs.callbackUrl = null
    target.silenceCallbacks?.(sim)
    const order = await buy(sku)
    const done = order.status === 'processing' ? await settle(order.id) : order
    t.equal(done.status, 'failed')
    t.same(await money(order.id), { debits: PRICE, refunds: PRICE })
  })

  t.test('a callback with a bad signature is refused and changes nothing', async (t) => {
    const { sim, supplier, sku } = await setup(t)
    sim.knobs.completeAfterMs = 60_000
    const order = await buy(sku)
    const [attempt] = await ta.database.sql<{ id: string }[]>`select id from supplier_attempts where order_id = ${order.id}`
    const queries = sim.queries.length
    const forged = target.forgedCallback(sim, attempt!.id)
    const res = await ta.app.inject({ method: 'POST', url: `/callbacks/suppliers/${supplier}`, headers: forged.headers, payload: forged.body })
    t.ok(res.statusCode < 500, `answered ${res.statusCode}`)
    t.match(ta.logs.text(), /supplier callback refused/)
    t.equal(sim.queries.length, queries, 'no look-up was triggered')
    const [o] = await ta.database.sql`select status from orders where id = ${order.id}`
    t.equal(o?.status, 'processing')
  })

  if (target.expireTokens && target.tokensIssued) {
    const expire = target.expireTokens
    const issued = target.tokensIssued
    t.test('an expired token is refreshed and the order goes through', async (t) => {
      const { sim, sku } = await setup(t)
      expectDelivery(t, await settleIfNeeded(await buy(sku)))
      const before = issued(sim)
      expire(sim)
      expectDelivery(t, await settleIfNeeded(await buy(sku)))
      t.ok(issued(sim) > before, 'a new token was fetched')
      t.equal(sim.submits.length, 2, 'each order submitted once')
    })
  }
  const settleIfNeeded = async (order: Order): Promise<Order> => order.status === 'processing' ? await settle(order.id) : order

  t.test('secrets and codes never reach the logs', async (t) => {
    const text = ta.logs.text()
    t.ok(text.length > 0)
    if (target.sku.delivery === 'card_key') t.ok(delivered.length > 0, `${delivered.length} codes were delivered`)
    for (const value of [...new Set([...secrets, ...delivered])].filter((s) => s.length >= 6)) {
      t.notOk(text.includes(value), `log holds no ${value.slice(0, 3)}…`)
    }
  })
}
