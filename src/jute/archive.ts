// Jute "binary archive" primitives: big-endian ints, length-prefixed buffers/strings,
// -1 meaning null. Everything else in the codebase derives its encoding from these.

export class JuteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JuteError';
  }
}

const TWO_32 = 4294967296;

// 64-bit longs go through this 8-byte scratch: DataView converts a bigint to and from its bytes
// without the intermediate bigints Buffer's readBigInt64BE/writeBigInt64BE allocate (four or
// five per call, on every txn header's session id).
const int64Scratch = new DataView(new ArrayBuffer(8));

/** Big-endian signed 64-bit at b[at]; `v` wraps to 64 bits as BigInt.asIntN(64, v) would. */
export function writeInt64(b: Uint8Array, at: number, v: bigint): void {
  const s = int64Scratch;
  s.setBigInt64(0, v);
  for (let i = 0; i < 8; i++) b[at + i] = s.getUint8(i);
}

/** Big-endian signed 64-bit at b[at] (the caller checks the bounds): one bigint allocated. */
export function readInt64(b: Uint8Array, at: number): bigint {
  const s = int64Scratch;
  for (let i = 0; i < 8; i++) s.setUint8(i, b[at + i]!);
  return s.getBigInt64(0);
}

/** Growable output buffer; one allocation per message in the common case. */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** 64-bit value held as a JS number (zxids, times): exact below 2^53. */
  longNum(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    this.buf.writeInt32BE(hi | 0, this.pos);
    this.buf.writeUInt32BE(lo >>> 0, this.pos + 4);
    this.pos += 8;
    return this;
  }

  long(v: bigint): this {
    this.ensure(8);
    writeInt64(this.buf, this.pos, v);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos++);
    return this;
  }

  buffer(v: Buffer | null | undefined): this {
    if (v == null) return this.int(-1);
    this.int(v.length);
    this.raw(v);
    return this;
  }

  ustring(v: string | null | undefined): this {
    if (v == null) return this.int(-1);
    const len = Buffer.byteLength(v, 'utf8');
    this.ensure(4 + len);
    this.buf.writeInt32BE(len, this.pos);
    this.buf.write(v, this.pos + 4, len, 'utf8');
    this.pos += 4 + len;
    return this;
  }

  raw(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Reserve 4 bytes for a frame length, returning the offset to patch later. */
  beginFrame(): number {
    const at = this.pos;
    this.int(0);
    return at;
  }

  endFrame(at: number): void {
    this.buf.writeInt32BE(this.pos - at - 4, at);
  }

  /** A view of the written bytes (shares memory with the writer). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the written bytes. */
  toBuffer(): Buffer {
    // Straight into a new buffer: Buffer.from(view) would make the view object too.
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  reset(): void {
    this.pos = 0;
  }
}

export class Reader {
  pos: number;
  readonly end: number;
  /**
   * buffer() returns views of `buf` instead of copies. Only for a reader whose results live no
   * longer than `buf` itself would anyway (a txn that keeps its own bytes), so that no socket
   * chunk or larger buffer is pinned by a view.
   */
  views = false;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
    /** Upper bound for any single buffer/string length (jute.maxbuffer + extrasize). */
    readonly maxFieldBytes = Number.MAX_SAFE_INTEGER,
  ) {
    this.pos = start;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new JuteError(`truncated record: need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  longNum(): number {
    this.need(8);
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  long(): bigint {
    this.need(8);
    const v = readInt64(this.buf, this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  byte(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  private length(): number {
    const len = this.int();
    if (len < -1 || len > this.maxFieldBytes) throw new JuteError(`Unreasonable length = ${len}`);
    return len;
  }

  buffer(): Buffer | null {
    const len = this.length();
    if (len === -1) return null;
    this.need(len);
    // A copy unless views are asked for: retained znode data must never pin a whole socket chunk.
    const view = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return this.views ? view : Buffer.from(view);
  }

  ustring(): string | null {
    const len = this.length();
    if (len === -1) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  vectorLength(): number {
    const n = this.int();
    if (n < -1) throw new JuteError(`Unreasonable vector length = ${n}`);
    // Each element takes at least one byte; a count beyond the remaining bytes is garbage.
    if (n > this.remaining()) throw new JuteError(`vector length ${n} exceeds remaining ${this.remaining()} bytes`);
    return n;
  }
}
