/**
 * A one-line progress display for long CLI work, redrawn at most ten times a second on a
 * terminal and silent elsewhere (CI logs get the summary line only).
 */
export interface Progress {
  update (done: number, note?: string): void
  finish (): void
}

/** How counts are shown: the number alone, and the unit written once after done/total and before /s. */
export interface ProgressUnit {
  format (n: number): string
  name?: string
}

/** Plain counts (rows, codes): 1,234/5,000 … 400/s. */
export const COUNT: ProgressUnit = { format: (n) => n.toLocaleString('en') }

/** Byte counts as MiB with one decimal: 12.5/45.0 MiB … 3.1 MiB/s. */
export const MIB: ProgressUnit = { format: (n) => (n / 1_048_576).toFixed(1), name: 'MiB' }

export interface ProgressOptions {
  unit?: ProgressUnit
  stream?: NodeJS.WriteStream
}

export function createProgress (label: string, total: number | undefined, options: ProgressOptions = {}): Progress {
  const { unit = COUNT, stream = process.stderr } = options
  if (!stream.isTTY) return { update: () => {}, finish: () => {} }
  const suffix = unit.name ? ` ${unit.name}` : ''
  const started = Date.now()
  let last = 0
  let drawn = false
  const draw = (done: number, note = ''): void => {
    const seconds = (Date.now() - started) / 1000
    const rate = seconds > 0 ? Math.round(done / seconds) : 0
    let line = `${label} ${unit.format(done)}${suffix}`
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, done / total)
      const width = 24
      const filled = Math.round(ratio * width)
      const eta = rate > 0 ? Math.max(0, Math.round((total - done) / rate)) : undefined
      line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ` +
        `${unit.format(done)}/${unit.format(total)}${suffix}${eta !== undefined ? ` eta ${eta}s` : ''}`
    }
    stream.write(`\r${line} ${unit.format(rate)}${suffix}/s${note ? `, ${note}` : ''}\x1b[K`)
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
