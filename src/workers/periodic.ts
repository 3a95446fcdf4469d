/**
 * A background job run every `intervalMs` in this process. Runs never overlap, a failed run
 * is logged and retried at the next tick, and stop() waits for a run in progress.
 */
export interface Worker {
  stop (): Promise<void>
}

export function startPeriodic (name: string, intervalMs: number, run: () => Promise<unknown>, log: { warn: (obj: object, msg: string) => void }): Worker {
  let current: Promise<unknown> | undefined
  const timer = setInterval(() => {
    if (current) return
    current = run().catch((err: unknown) => log.warn({ err, worker: name }, 'background job failed')).finally(() => { current = undefined })
  }, intervalMs)
  timer.unref()
  return {
    async stop () {
      clearInterval(timer)
      await current
    }
  }
}
