// The last committed txns kept in memory (ZKDatabase.committedLog): a leader answers a learner
// that is only a little behind with a DIFF from here, without touching the disk. Filled with
// every txn applied, live or replayed at load. Window rule as in Apache: before adding, the
// oldest entry is dropped once more than `capacity` are held, so up to capacity + 1 remain.
import type { Txn } from '../protocol/txn.js';

/** zookeeper.commitLogCount: default, and the floor Apache raises smaller values to. */
export const DEFAULT_COMMIT_LOG_COUNT = 500;

export class CommittedLog {
  readonly capacity: number;
  // A ring of capacity + 1 slots: adding is O(1) on the write path.
  private readonly ring: Array<Txn | undefined>;
  private head = 0;
  private count = 0;

  constructor(capacity = DEFAULT_COMMIT_LOG_COUNT) {
    this.capacity = Math.max(DEFAULT_COMMIT_LOG_COUNT, Math.floor(capacity));
    this.ring = new Array<Txn | undefined>(this.capacity + 1);
  }

  add(txn: Txn): void {
    if (this.count > this.capacity) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
    }
    this.ring[(this.head + this.count) % this.ring.length] = txn;
    this.count++;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }

  private at(i: number): Txn {
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  /** Oldest zxid held (minCommittedLog), 0 when empty as in Apache. */
  get minZxid(): number {
    return this.count > 0 ? this.at(0).hdr.zxid : 0;
  }

  /** Newest zxid held (maxCommittedLog), 0 when empty. */
  get maxZxid(): number {
    return this.count > 0 ? this.at(this.count - 1).hdr.zxid : 0;
  }

  /** Whether a peer at `zxid` can be brought up to date from the window alone. */
  covers(zxid: number): boolean {
    return this.count > 0 && this.minZxid <= zxid && zxid <= this.maxZxid;
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
    for (let i = this.firstAbove(zxid); i < this.count; i++) out.push(this.at(i));
    return out;
  }

  /** Every txn held, oldest first (a new leader's whole DIFF window). */
  toArray(): Txn[] {
    const out: Txn[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.at(i));
    return out;
  }

  /** Whether `zxid` itself is one of the txns held. */
  has(zxid: number): boolean {
    const i = this.firstAbove(zxid - 1);
    return i < this.count && this.at(i).hdr.zxid === zxid;
  }

  /** Index of the first txn with a zxid above `zxid` (binary search; zxids ascend). */
  private firstAbove(zxid: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).hdr.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
