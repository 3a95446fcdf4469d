import { Agent, request } from 'undici'
import type { HttpCall } from '../domain/supplier.js'

/** Larger supplier answers are refused: no supplier sends megabytes for one order. */
const MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * Supplier HTTP over one keep-alive undici Agent (request, not fetch: ~6× the throughput).
 * undici's timeouts are idle timeouts; the total deadline is the caller's AbortSignal.
 */
export function createSupplierHttp (): { http: HttpCall, close: () => Promise<void> } {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000, maxResponseSize: MAX_RESPONSE_BYTES, connect: { timeout: 5_000 } })
  const http: HttpCall = async ({ url, method, headers, body, signal }) => {
    const res = await request(url, { method, headers, body, signal, dispatcher: agent })
    return { status: res.statusCode, body: await res.body.text() }
  }
  return { http, close: async () => await agent.close() }
}
