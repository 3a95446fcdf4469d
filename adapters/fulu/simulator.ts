import { createCipheriv } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fuluSign } from './wire.js'

/** Behaviour knobs, changeable while the simulator runs. */
export interface FuluKnobs {
  latencyMs: number
  /** Envelope code for every add call (e.g. 3001: product unavailable); 0 accepts. */
  refuseCode: number
  /** Answer every call with this HTTP status (e.g. 502) instead of an envelope. */
  httpStatus: number | null
  /** Accept orders, then keep them `processing` this long before the final state. */
  completeAfterMs: number
  /** The final state orders reach. */
  finalState: 'success' | 'failed'
  /** Never answer (the client's deadline must cut it). */
  hang: boolean
  /** Answer with a body that is not JSON. */
  malformed: boolean
}

interface SimOrder {
  order_id: string
  customer_order_no: string
  product_id: number
  buy_num: number
  kind: 'direct' | 'card'
  created: number
}

/**
 * A Fulu gateway over real HTTP (suppliers.md §10): one endpoint dispatching on `method`,
 * char-sort MD5 verification, `result` as a signed JSON string, unique customer_order_no,
 * orders that move from processing to a final state, AES-encrypted cards on success.
 */
export async function startFuluSimulator (options: { appKey: string, appSecret: string, knobs?: Partial<FuluKnobs> }): Promise<{ url: string, knobs: FuluKnobs, submits: string[], queries: string[], close: () => Promise<void> }> {
  const knobs: FuluKnobs = { latencyMs: 0, refuseCode: 0, httpStatus: null, completeAfterMs: 0, finalState: 'success', hang: false, malformed: false, ...options.knobs }
  const orders = new Map<string, SimOrder>()
  const submits: string[] = []
  const queries: string[] = []
  let seq = 22113000000000000000n
  const encrypt = (text: string): string => {
    const cipher = createCipheriv('aes-256-ecb', Buffer.from(options.appSecret, 'utf8'), null)
    return Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]).toString('base64')
  }
  const view = (o: SimOrder) => {
    const done = Date.now() - o.created >= knobs.completeAfterMs
    const state = done ? knobs.finalState : 'processing'
    return {
      order_id: o.order_id, customer_order_no: o.customer_order_no, product_id: o.product_id, buy_num: o.buy_num, order_state: state,
      cards: state === 'success' && o.kind === 'card'
        ? Array.from({ length: o.buy_num }, (_, i) => ({ card_number: encrypt(`FULU-${o.customer_order_no}-${i}`), card_pwd: encrypt(`PWD-${i}`), card_type: '0', card_deadline: '2030-12-31' }))
        : null
    }
  }
  const envelope = (code: number, message: string, result?: object) => {
    const text = result ? JSON.stringify(result) : ''
    return JSON.stringify({ code, message, result: text, sign: text ? fuluSign(text, options.appSecret) : '' })
  }

  const server: Server = createServer((req, res) => {
    let raw = ''
    req.on('data', (d: Buffer) => { raw += d.toString() })
    req.on('end', () => {
      if (knobs.hang) return
      setTimeout(() => {
        if (knobs.httpStatus !== null) { res.statusCode = knobs.httpStatus; res.end('bad gateway'); return }
        if (knobs.malformed) { res.end('<html>oops'); return }
        let body: Record<string, string>
        try { body = JSON.parse(raw) as Record<string, string> } catch { res.end(envelope(1001, '参数错误')); return }
        const { sign, ...unsigned } = body
        if (body.app_key !== options.appKey || fuluSign(unsigned, options.appSecret) !== sign) { res.end(envelope(1005, '签名错误')); return }
        const biz = JSON.parse(body.biz_content ?? '{}') as Record<string, unknown>
        const ref = String(biz.customer_order_no ?? '')
        if (body.method === 'fulu.order.direct.add' || body.method === 'fulu.order.card.add') {
          submits.push(ref)
          if (knobs.refuseCode !== 0) { res.end(envelope(knobs.refuseCode, '商品暂不可购买')); return }
          if (orders.has(ref)) { res.end(envelope(2001, '外部订单号重复')); return }
          seq += 1n
          const order: SimOrder = { order_id: seq.toString(), customer_order_no: ref, product_id: Number(biz.product_id), buy_num: Number(biz.buy_num ?? 1), kind: body.method === 'fulu.order.card.add' ? 'card' : 'direct', created: Date.now() }
          orders.set(ref, order)
          res.end(envelope(0, '接口调用成功', view(order)))
        } else if (body.method === 'fulu.order.info.get') {
          queries.push(ref)
          const order = orders.get(ref)
          res.end(order ? envelope(0, '接口调用成功', view(order)) : envelope(2002, '订单不存在'))
        } else {
          res.end(envelope(1002, '方法不存在'))
        }
      }, knobs.latencyMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/getway`,
    knobs,
    submits,
    queries,
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}
