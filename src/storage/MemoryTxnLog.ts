// In-memory twin of FileTxnLog for unit tests and the simulator: same contract (ordered
// resolution, group commit, sticky failure), no files. "Files" are kept as segments so roll
// points are observable.
import type { Txn } from '../protocol/txn.js';
import type { TxnLog } from './TxnLog.js';
import { StorageError } from './StorageIO.js';

export interface MemorySegment {
  firstZxid: number;
  txns: Txn[];
}

export class MemoryTxnLog implements TxnLog {
  readonly segments: MemorySegment[] = [];
  /** Number of simulated fsyncs (one per batch). */
  fsyncs = 0;
  private queue: Array<{ txns: Txn[]; roll: boolean; resolve: () => void; reject: (e: Error) => void }> = [];
  private scheduled = false;
  private rollRequested = true;
  private failure: Error | null = null;
  private closed = false;
  /** When set, the next batch fails with this error (simulated ENOSPC/EIO). */
  failNextWith: Error | null = null;

  /** Every txn appended durably, in order. */
  get txns(): Txn[] {
    return this.segments.flatMap((s) => s.txns);
  }

  get failed(): Error | null {
    return this.failure;
  }

  append(txns: Txn[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new StorageError('memory txn log is closed', 'memory', undefined));
    return new Promise((resolve, reject) => {
      const roll = txns.length > 0 && this.rollRequested;
      if (roll) this.rollRequested = false;
      this.queue.push({ txns, roll, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // A macrotask boundary stands in for the fsync, so concurrent appends batch up.
        setImmediate(() => this.flush());
      }
    });
  }

  roll(): void {
    this.rollRequested = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.scheduled) await new Promise((r) => setImmediate(r));
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    if (this.failNextWith && !this.failure) {
      this.failure = this.failNextWith;
      this.failNextWith = null;
    }
    if (this.failure) {
      for (const p of batch) p.reject(this.failure);
      return;
    }
    for (const p of batch) {
      if (p.txns.length === 0) continue;
      if (p.roll || this.segments.length === 0) this.segments.push({ firstZxid: p.txns[0]!.hdr.zxid, txns: [] });
      this.segments[this.segments.length - 1]!.txns.push(...p.txns);
    }
    this.fsyncs++;
    for (const p of batch) p.resolve();
  }
}
