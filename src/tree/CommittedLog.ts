// The last committed txns kept in memory (ZKDatabase.committedLog): a leader answers a learner
// that is only a little behind with a DIFF from here, without touching the disk. Filled with
// every txn applied, live or replayed at load. Window rule as in Apache: before adding, the
// oldest entry is dropped once more than `capacity` are held, so up to capacity + 1 remain.
// The txns are held encoded in a TxnRing (no JS object per txn: see there why) and decoded when
// read back, which only a learner's sync, a backup or a reload does.
import type { Txn } from '../protocol/txn.js';
import { TxnRing, pushTxn, txnAt } from '../protocol/TxnRing.js';

/** zookeeper.commitLogCount: default, and the floor Apache raises smaller values to. */
export const DEFAULT_COMMIT_LOG_COUNT = 500;

export class CommittedLog {
  readonly capacity: number;
  private readonly ring: TxnRing;

  constructor(capacity = DEFAULT_COMMIT_LOG_COUNT) {
    this.capacity = Math.max(DEFAULT_COMMIT_LOG_COUNT, Math.floor(capacity));
    this.ring = new TxnRing({ maxCount: this.capacity + 1 });
  }

  add(txn: Txn): void {
    pushTxn(this.ring, txn);
  }

  clear(): void {
    this.ring.clear();
  }

  get size(): number {
    return this.ring.size;
  }

  /** Oldest zxid held (minCommittedLog), 0 when empty as in Apache. */
  get minZxid(): number {
    return this.ring.minZxid;
  }

  /** Newest zxid held (maxCommittedLog), 0 when empty. */
  get maxZxid(): number {
    return this.ring.maxZxid;
  }

  /** Whether a peer at `zxid` can be brought up to date from the window alone. */
  covers(zxid: number): boolean {
    return this.ring.size > 0 && this.ring.minZxid <= zxid && zxid <= this.ring.maxZxid;
  }

  /** Copies every txn held, oldest first, into `into` as bytes (nothing is decoded). */
  copyInto(into: TxnRing): void {
    for (let i = 0; i < this.ring.size; i++) into.push(this.ring.zxidAt(i), this.ring.viewAt(i));
  }

  /** Zxids held, oldest first, without decoding anything. */
  zxids(): number[] {
    const out = new Array<number>(this.ring.size);
    for (let i = 0; i < out.length; i++) out[i] = this.ring.zxidAt(i);
    return out;
  }

  /**
   * The txns with zxid > `zxid`, oldest first, or null when the window does not reach back to
   * `zxid` (the caller then reads the log on disk or sends a snapshot). A zxid inside the window
   * that is not itself in it (the peer has a txn we never committed) still gets the txns after
   * it: deciding on TRUNC first is the caller's business.
   */
  txnsAfter(zxid: number): Txn[] | null {
    if (!this.covers(zxid)) return null;
    const out: Txn[] = [];
    for (let i = this.ring.firstAbove(zxid); i < this.ring.size; i++) out.push(txnAt(this.ring, i));
    return out;
  }

  /** Every txn held, oldest first (a new leader's whole DIFF window). */
  toArray(): Txn[] {
    const out: Txn[] = [];
    for (let i = 0; i < this.ring.size; i++) out.push(txnAt(this.ring, i));
    return out;
  }

  /** Whether `zxid` itself is one of the txns held. */
  has(zxid: number): boolean {
    const i = this.ring.firstAbove(zxid - 1);
    return i < this.ring.size && this.ring.zxidAt(i) === zxid;
  }
}
