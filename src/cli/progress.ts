/**
 * A one-line progress display for long CLI work, redrawn at most ten times a second on a
 * terminal and silent elsewhere (CI logs get the summary line only).
 */
export interface Progress {
  update (done: number, note?: string): void
  finish (): void
}

export function createProgress (label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => {}, finish: () => {} }
  const started = Date.now()
  let last = 0
  let drawn = false
  const draw = (done: number, note = ''): void => {
    const seconds = (Date.now() - started) / 1000
    const rate = seconds > 0 ? Math.round(done / seconds) : 0
    let line = `${label} ${done.toLocaleString('en')}`
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, done / total)
      const width = 24
      const filled = Math.round(ratio * width)
      const eta = rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : undefined
      line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ` +
        `${done.toLocaleString('en')}/${total.toLocaleString('en')}${eta !== undefined ? ` eta ${eta}s` : ''}`
    }
    stream.write(`\r${line} ${rate.toLocaleString('en')}/s ${note}\x1b[K`)
    drawn = true
  }
  return {
    update (done, note) {
      const now = Date.now()
      if (now - last < 100) return
      last = now
      draw(done, note)
    },
    finish () {
      if (drawn) stream.write('\r\x1b[K')
    }
  }
}
