// A window of the newest encoded txns held as bytes in one buffer, with each entry's zxid, offset
// and length in typed-array columns. The windows members keep for DIFF sync and fail-over replay
// (hundreds of txns) used to hold decoded Txn objects: about seven small JS objects per txn that
// live long enough to be promoted, so the old generation kept growing and mark-compact ran every
// few hundred ms on the write path. Here a txn costs no JS object at all; it is decoded only when
// read back (a learner needs a DIFF, a member replays), which is rare.
//
// Bytes are laid out circularly: an entry is always contiguous, written after the newest one, or
// at offset 0 when it does not fit before the end but does fit before the oldest. When neither
// fits the buffer doubles (entries are copied into it in order), so a large txn grows it instead of
// failing; once the entries fill no more than an eighth of a grown buffer it shrinks back.

import { Writer } from '../jute/archive.js';
import { decodeTxn, writeTxnCached, type Txn } from './txn.js';

const MIN_BYTES = 64 * 1024;

export interface TxnRingOptions {
  /** Most entries held: pushing one more drops the oldest first. */
  maxCount: number;
  /** Most bytes held (the newest entry is always kept, however large). Infinity: count only. */
  maxBytes?: number;
  /** Starting size of the byte buffer. */
  initialBytes?: number;
}

export class TxnRing {
  readonly maxCount: number;
  readonly maxBytes: number;
  private buf: Buffer;
  // Slot columns, a ring of maxCount slots: slot of entry i is (head + i) % maxCount.
  private readonly zxids: Float64Array;
  private readonly offs: Float64Array;
  private readonly lens: Float64Array;
  private head = 0;
  private count = 0;
  private bytes = 0;
  private readonly initialBytes: number;

  constructor(opts: TxnRingOptions) {
    if (!(opts.maxCount >= 1)) throw new RangeError(`TxnRing maxCount must be at least 1, got ${opts.maxCount}`);
    this.maxCount = Math.floor(opts.maxCount);
    this.maxBytes = opts.maxBytes ?? Infinity;
    this.zxids = new Float64Array(this.maxCount);
    this.offs = new Float64Array(this.maxCount);
    this.lens = new Float64Array(this.maxCount);
    this.initialBytes = Math.max(1024, opts.initialBytes ?? MIN_BYTES);
    this.buf = Buffer.allocUnsafe(this.initialBytes);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of the entries held. */
  get totalBytes(): number {
    return this.bytes;
  }

  /** Size of the byte buffer (for tests and memory accounting). */
  get capacityBytes(): number {
    return this.buf.length;
  }

  private slot(i: number): number {
    const s = this.head + i;
    return s >= this.maxCount ? s - this.maxCount : s;
  }

  zxidAt(i: number): number {
    return this.zxids[this.slot(i)]!;
  }

  /** Entry i's bytes as a view of the ring: valid only until the ring next changes. */
  viewAt(i: number): Buffer {
    const s = this.slot(i);
    const off = this.offs[s]!;
    return this.buf.subarray(off, off + this.lens[s]!);
  }

  /** Entry i's bytes, copied out. */
  copyAt(i: number): Buffer {
    return Buffer.from(this.viewAt(i));
  }

  get minZxid(): number {
    return this.count > 0 ? this.zxidAt(0) : 0;
  }

  get maxZxid(): number {
    return this.count > 0 ? this.zxidAt(this.count - 1) : 0;
  }

  /** Index of the first entry with a zxid above `zxid` (entries are pushed in ascending zxid order). */
  firstAbove(zxid: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.zxidAt(mid) <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Appends a copy of `b`; drops the oldest entries the count and byte bounds no longer allow. */
  push(zxid: number, b: Uint8Array): void {
    if (this.count === this.maxCount) this.shift();
    const len = b.length;
    const off = this.place(len);
    this.buf.set(b, off);
    const s = this.slot(this.count);
    this.zxids[s] = zxid;
    this.offs[s] = off;
    this.lens[s] = len;
    this.count++;
    this.bytes += len;
    while (this.bytes > this.maxBytes && this.count > 1) this.shift();
  }

  /** Drops the oldest entry. */
  shift(): void {
    if (this.count === 0) return;
    this.bytes -= this.lens[this.head]!;
    this.head = this.head + 1 === this.maxCount ? 0 : this.head + 1;
    this.count--;
    // Grown for a large txn that has now gone: give the memory back (never on the usual path).
    if (this.buf.length > this.initialBytes && this.bytes * 8 <= this.buf.length) this.rearrange(0);
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    if (this.buf.length > this.initialBytes) this.buf = Buffer.allocUnsafe(this.initialBytes);
  }

  /** Where `len` new bytes go, making room when needed. */
  private place(len: number): number {
    const cap = this.buf.length;
    if (this.count === 0) {
      if (len <= cap && cap <= Math.max(this.initialBytes, 4 * len)) return 0;
      this.rearrange(len);
      return 0;
    }
    const rpos = this.offs[this.head]!;
    const last = this.slot(this.count - 1);
    const wpos = this.offs[last]! + this.lens[last]!;
    // Wrapped: the newest entries sit before the oldest one; free space is between them.
    const wrapped = this.count > 1 && this.offs[last]! < rpos;
    if (wrapped) {
      if (wpos + len <= rpos) return wpos;
    } else {
      if (wpos + len <= cap) return wpos;
      if (len <= rpos) return 0;
    }
    return this.rearrange(len);
  }

  /** Copies the entries in order into a buffer with room for `len` more; returns where they go. */
  private rearrange(len: number): number {
    const need = this.bytes + len;
    let cap = Math.max(this.initialBytes, this.buf.length);
    while (cap < 2 * need) cap *= 2;
    // A buffer grown for a large txn long gone shrinks back to twice what it now needs.
    while (cap > this.initialBytes && cap >= 8 * need) cap /= 2;
    const next = Buffer.allocUnsafe(cap);
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      const s = this.slot(i);
      const off = this.offs[s]!;
      const l = this.lens[s]!;
      this.buf.copy(next, at, off, off + l);
      this.offs[s] = at;
      at += l;
    }
    this.buf = next;
    return at;
  }
}

/** Where pushTxn encodes a txn whose bytes are not already known: one writer for every ring. */
const scratch = new Writer(512);

/** Appends `txn` (its cached bytes when it has them, else its encoding) under `zxid`, by default its own. */
export function pushTxn(ring: TxnRing, txn: Txn, zxid = txn.hdr.zxid): void {
  scratch.reset();
  writeTxnCached(scratch, txn);
  ring.push(zxid, scratch.view());
}

/** Entry i decoded into a Txn of its own (its own copy of the bytes, which it keeps as txnBytes). */
export function txnAt(ring: TxnRing, i: number): Txn {
  return decodeTxn(ring.copyAt(i), true);
}

/**
 * A leader core's committed log (the zab core's CommittedWindow, matched by shape: protocol does
 * not import quorum) over a TxnRing: the newest `count` committed txns as bytes, decoded into
 * proposals only when a learner is synced.
 */
export class TxnProposalWindow {
  readonly ring: TxnRing;

  constructor(count: number) {
    this.ring = new TxnRing({ maxCount: Math.max(1, Math.floor(count)) });
  }

  get size(): number {
    return this.ring.size;
  }

  get minZxid(): bigint {
    return BigInt(this.ring.minZxid);
  }

  get maxZxid(): bigint {
    return BigInt(this.ring.maxZxid);
  }

  add(zxid: bigint, txn: Txn): void {
    pushTxn(this.ring, txn, Number(zxid));
  }

  proposals(): { zxid: bigint; txn: Txn }[] {
    const out = new Array<{ zxid: bigint; txn: Txn }>(this.ring.size);
    for (let i = 0; i < out.length; i++) out[i] = { zxid: BigInt(this.ring.zxidAt(i)), txn: txnAt(this.ring, i) };
    return out;
  }
}
