import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'

/** The faults every supplier simulator plays (suppliers.md §10), changeable while it runs. */
export interface FaultKnobs {
  latencyMs: number
  /** Answer every call with this HTTP status (e.g. 502) instead of the protocol's answer. */
  httpStatus: number | null
  /** Never answer (the client's deadline must cut it). */
  hang: boolean
  /** Read each request, then destroy the socket without answering. */
  reset: boolean
  /** Answer with a body that is not JSON. */
  malformed: boolean
}

/** One POST of a callback: the receiver's status (null: no HTTP answer) and body. */
export interface CallbackAnswer {
  status: number | null
  body: string
}

/**
 * The background side of a supplier simulator: orders that complete after a delay and the
 * callbacks they send, re-sent until the receiver answers as the protocol wants. close()
 * cancels all of it (pauses, deliveries in flight) and waits for it to stop.
 */
export function simulatorBackground (): {
  /** Resolves at `at` (epoch ms); rejects when the simulator closes first. */
  until: (at: number) => Promise<void>
  /** POSTs `body` up to `attempts` times, `pauseMs` apart, until an answer is `accepted`; `record` sees each. */
  deliver: (d: { url: string, contentType: string, body: string, attempts: number, pauseMs: number, accepted: (a: CallbackAnswer) => boolean, record: (a: CallbackAnswer) => void }) => Promise<void>
  /** Runs `work` in the background until it ends or the simulator closes. */
  run: (work: Promise<void>) => void
  close: () => Promise<void>
} {
  const closing = new AbortController()
  const running = new Set<Promise<void>>()
  const post = async (url: string, contentType: string, body: string): Promise<CallbackAnswer> => {
    try {
      const res = await request(url, { method: 'POST', headers: { 'content-type': contentType }, body, signal: AbortSignal.any([closing.signal, AbortSignal.timeout(5000)]) })
      return { status: res.statusCode, body: await res.body.text() }
    } catch (err) {
      if (closing.signal.aborted) throw err
      return { status: null, body: '' }
    }
  }
  return {
    until: async (at) => { await sleep(Math.max(0, at - Date.now()), undefined, { signal: closing.signal }) },
    deliver: async ({ url, contentType, body, attempts, pauseMs, accepted, record }) => {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1) await sleep(pauseMs, undefined, { signal: closing.signal })
        const answer = await post(url, contentType, body)
        record(answer)
        if (accepted(answer)) return
      }
    },
    run: (work) => {
      const settled = work.catch(() => {}).finally(() => running.delete(settled))
      running.add(settled)
    },
    close: async () => {
      closing.abort()
      await Promise.allSettled(running)
    }
  }
}

/**
 * A simulator's HTTP server on a free loopback port: each body is read whole, the faults the
 * knobs ask for are played, and only then does `handle` answer. close() stops the background
 * work first, then every connection.
 */
export async function serveSimulator (
  knobs: FaultKnobs,
  background: { close: () => Promise<void> },
  handle: (req: IncomingMessage, raw: string, res: ServerResponse) => void
): Promise<{ origin: string, close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (d: Buffer) => { raw += d.toString() })
    req.on('end', () => {
      if (knobs.reset) { req.socket.destroy(); return }
      if (knobs.hang) return
      setTimeout(() => {
        if (knobs.httpStatus !== null) { res.statusCode = knobs.httpStatus; res.end('bad gateway'); return }
        if (knobs.malformed) { res.end('<html>oops'); return }
        handle(req, raw, res)
      }, knobs.latencyMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await background.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
