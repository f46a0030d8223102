// The last committed txns kept in memory (ZKDatabase.committedLog): a leader answers a learner
// that is only a little behind with a DIFF from here, without touching the disk. Filled with
// every txn applied, live or replayed at load. Window rule as in Apache: before adding, the
// oldest entry is dropped once more than `capacity` are held, so up to capacity + 1 remain.
import type { Txn } from '../protocol/txn.js';

/** zookeeper.commitLogCount: default, and the floor Apache raises smaller values to. */
export const DEFAULT_COMMIT_LOG_COUNT = 500;

export class CommittedLog {
  readonly capacity: number;
  // A ring would avoid the shift; at 500 entries the copy is a few hundred pointers.
  private txns: Txn[] = [];

  constructor(capacity = DEFAULT_COMMIT_LOG_COUNT) {
    this.capacity = Math.max(DEFAULT_COMMIT_LOG_COUNT, Math.floor(capacity));
  }

  add(txn: Txn): void {
    if (this.txns.length > this.capacity) this.txns.shift();
    this.txns.push(txn);
  }

  clear(): void {
    this.txns = [];
  }

  get size(): number {
    return this.txns.length;
  }

  /** Oldest zxid held (minCommittedLog), 0 when empty as in Apache. */
  get minZxid(): number {
    return this.txns[0]?.hdr.zxid ?? 0;
  }

  /** Newest zxid held (maxCommittedLog), 0 when empty. */
  get maxZxid(): number {
    return this.txns[this.txns.length - 1]?.hdr.zxid ?? 0;
  }

  /** Whether a peer at `zxid` can be brought up to date from the window alone. */
  covers(zxid: number): boolean {
    return this.txns.length > 0 && this.minZxid <= zxid && zxid <= this.maxZxid;
  }

  /**
   * The txns with zxid > `zxid`, oldest first, or null when the window does not reach back to
   * `zxid` (the caller then reads the log on disk or sends a snapshot). A zxid inside the window
   * that is not itself in it (the peer has a txn we never committed) still gets the txns after
   * it: deciding on TRUNC first is the caller's business.
   */
  txnsAfter(zxid: number): Txn[] | null {
    if (!this.covers(zxid)) return null;
    return this.txns.slice(this.firstAbove(zxid));
  }

  /** Whether `zxid` itself is one of the txns held. */
  has(zxid: number): boolean {
    const i = this.firstAbove(zxid - 1);
    return this.txns[i]?.hdr.zxid === zxid;
  }

  /** Index of the first txn with a zxid above `zxid` (binary search; zxids ascend). */
  private firstAbove(zxid: number): number {
    let lo = 0;
    let hi = this.txns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.txns[mid]!.hdr.zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
