import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface Received { headers: IncomingHttpHeaders, body: string, at: number }

/** A merchant endpoint answering from a script of status codes (then 200). */
export async function receiver (t: Test, script: number[] = []): Promise<{ url: string, received: Received[], ids: string[] }> {
  const received: Received[] = []
  const ids: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() })
      ids.push(String(req.headers['webhook-id']))
      res.statusCode = script[received.length - 1] ?? 200
      // 429 asks for a pause: the dispatcher honours Retry-After within its bounds.
      if (res.statusCode === 429) res.setHeader('retry-after', '1')
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, ids }
}

/** Polls until `check` holds (no fixed sleeps); fails after `ms`. */
export async function until (check: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!await check()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
