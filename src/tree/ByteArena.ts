// Variable-length byte values (znode data, child names) packed into 1 MB off-heap chunks, so
// that a million small values cost their bytes plus an offset instead of a JS object each, and
// the garbage collector has nothing to trace. The owner keeps each value's offset and length;
// the arena only counts live bytes per chunk. Freed space comes back when a chunk empties, or
// when the owner evacuates the chunk with the fewest live bytes once garbage outweighs half the
// live data (the owner moves the values, since only it knows which value lives where).

/** Bytes per ordinary chunk; a global offset is chunk index × CHUNK + offset in the chunk. */
export const CHUNK = 1 << 20;
/** A value bigger than this gets a chunk of its own, released as soon as the value is. */
const DEDICATED_OVER = CHUNK >>> 2;
/** Garbage is left alone below this, however it compares with live bytes. */
const MIN_GARBAGE = 4 * CHUNK;

export class ByteArena {
  private chunks: Array<Buffer | null> = [];
  /** Live bytes in each chunk. */
  private live: number[] = [];
  /** Chunk indexes free for reuse. */
  private spare: number[] = [];
  /** Chunk being appended to, and its fill position. */
  private cur = -1;
  private pos = 0;
  /** Sum of the sizes of the chunks held. */
  reservedBytes = 0;
  liveBytes = 0;

  /** Freed bytes not yet given back (the unfilled end of the current chunk is not garbage). */
  get garbageBytes(): number {
    const unfilled = this.cur >= 0 ? CHUNK - this.pos : 0;
    return this.reservedBytes - unfilled - this.liveBytes;
  }

  /** Room for `len` bytes; returns the global offset. */
  alloc(len: number): number {
    if (len > DEDICATED_OVER) {
      const c = this.newChunk(len);
      this.live[c] = len;
      this.liveBytes += len;
      return c * CHUNK;
    }
    if (this.cur < 0 || this.pos + len > CHUNK) {
      this.cur = this.newChunk(CHUNK);
      this.pos = 0;
    }
    const off = this.cur * CHUNK + this.pos;
    this.pos += len;
    this.live[this.cur]! += len;
    this.liveBytes += len;
    return off;
  }

  private newChunk(size: number): number {
    const c = this.spare.length > 0 ? this.spare.pop()! : this.chunks.length;
    this.chunks[c] = Buffer.allocUnsafeSlow(size);
    this.live[c] = 0;
    this.reservedBytes += size;
    return c;
  }

  free(off: number, len: number): void {
    const c = Math.floor(off / CHUNK);
    const left = (this.live[c]! -= len);
    this.liveBytes -= len;
    if (left !== 0) return;
    if (c === this.cur) {
      this.pos = 0;
      return;
    }
    this.reservedBytes -= this.chunks[c]!.length;
    this.chunks[c] = null;
    this.spare.push(c);
  }

  /** The chunk holding the value at global offset `off`. */
  chunkOf(off: number): Buffer {
    return this.chunks[Math.floor(off / CHUNK)]!;
  }

  /**
   * A chunk worth evacuating now, or -1: garbage above MIN_GARBAGE and above half the live bytes,
   * and the ordinary chunk with the fewest live bytes other than the one being filled.
   */
  victim(): number {
    if (this.garbageBytes < MIN_GARBAGE || this.garbageBytes < this.liveBytes / 2) return -1;
    let best = -1;
    let bestLive = Infinity;
    for (let c = 0; c < this.chunks.length; c++) {
      const ch = this.chunks[c];
      if (!ch || c === this.cur || ch.length !== CHUNK) continue;
      if (this.live[c]! < bestLive) {
        bestLive = this.live[c]!;
        best = c;
      }
    }
    return best;
  }

  /** Whether global offset `off` lies in chunk `c`. */
  static inChunk(off: number, c: number): boolean {
    return off >= c * CHUNK && off < (c + 1) * CHUNK;
  }
}

/** The offset of a global arena offset inside its chunk. */
export function localOffset(off: number): number {
  return off % CHUNK;
}
