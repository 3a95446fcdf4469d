/**
 * Rows in PostgreSQL's binary COPY format (`COPY … FROM STDIN (FORMAT binary)`), for text
 * and bytea columns only: a text value is its UTF-8 bytes, a bytea value its raw bytes, so
 * ciphertexts go over the wire as they are instead of as hex literals the server has to
 * parse back. One writer builds one COPY's worth of rows in one growing buffer.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')

export class CopyBinaryWriter {
  private buf: Buffer
  private at = 0
  private rowCount = 0

  constructor (private readonly columns: number, initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 64))
    this.header()
  }

  get rows (): number {
    return this.rowCount
  }

  /** Starts a row; exactly `columns` values must follow. */
  row (): void {
    this.room(2)
    this.buf.writeInt16BE(this.columns, this.at)
    this.at += 2
    this.rowCount++
  }

  bytes (value: Buffer | null): void {
    if (value === null) return this.null()
    this.room(4 + value.length)
    this.buf.writeInt32BE(value.length, this.at)
    value.copy(this.buf, this.at + 4)
    this.at += 4 + value.length
  }

  text (value: string | null): void {
    if (value === null) return this.null()
    const max = Buffer.byteLength(value, 'utf8')
    this.room(4 + max)
    const n = this.buf.write(value, this.at + 4, 'utf8')
    this.buf.writeInt32BE(n, this.at)
    this.at += 4 + n
  }

  null (): void {
    this.room(4)
    this.buf.writeInt32BE(-1, this.at)
    this.at += 4
  }

  /** The rows written so far with the trailer; the writer starts over, empty. */
  take (): Buffer {
    this.room(2)
    this.buf.writeInt16BE(-1, this.at)
    const out = this.buf.subarray(0, this.at + 2)
    this.buf = Buffer.allocUnsafe(this.buf.length)
    this.at = 0
    this.rowCount = 0
    this.header()
    return out
  }

  private header (): void {
    SIGNATURE.copy(this.buf, 0)
    // Flags and header-extension length: both 0.
    this.buf.writeInt32BE(0, SIGNATURE.length)
    this.buf.writeInt32BE(0, SIGNATURE.length + 4)
    this.at = SIGNATURE.length + 8
  }

  private room (n: number): void {
    if (this.at + n + 2 <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n + 2))
    this.buf.copy(grown, 0, 0, this.at)
    this.buf = grown
  }
}
