// In-memory twin of FileTxnLog for unit tests: same contract (ordered
// resolution, group commit, sticky failure, truncation, reads after a zxid), no files. "Files"
// are kept as segments so roll points are observable. NullTxnLog, for a server that keeps
// nothing, is here too.
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
  private truncating = false;
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
    if (this.truncating) return Promise.reject(new StorageError('memory txn log is being truncated', 'memory', 'EBUSY'));
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

  async truncate(zxid: number): Promise<void> {
    if (this.failure) throw this.failure;
    this.truncating = true;
    try {
      while (this.scheduled) await new Promise((r) => setImmediate(r));
      for (const seg of this.segments) {
        const keep = seg.txns.findIndex((t) => t.hdr.zxid > zxid);
        if (keep >= 0) seg.txns.length = keep;
      }
      for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i]!.txns.length === 0) this.segments.splice(i, 1);
      this.rollRequested = true;
    } finally {
      this.truncating = false;
    }
  }

  async getLastLoggedZxid(): Promise<number> {
    const last = this.segments[this.segments.length - 1]?.txns;
    return last?.[last.length - 1]?.hdr.zxid ?? -1;
  }

  async *readTxnsAfter(zxid: number, opts: { mustCover?: boolean } = {}): AsyncGenerator<Txn, void, void> {
    const txns = this.txns;
    const first = txns[0]?.hdr.zxid;
    if (opts.mustCover && first !== undefined && first > zxid && !(first === zxid + 1 && epochOf(first) === epochOf(zxid))) {
      throw new StorageError(`the memory txn log starts at zxid 0x${first.toString(16)}: txns after 0x${zxid.toString(16)} are not all there`, 'memory', 'ENOTCOVERED');
    }
    let n = 0;
    for (const t of txns) {
      if (t.hdr.zxid <= zxid) continue;
      yield t;
      if (++n % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
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

function epochOf(zxid: number): number {
  return Math.floor(zxid / 0x100000000);
}

/** A log that acknowledges at once and keeps nothing (a server with no storage). */
export class NullTxnLog implements TxnLog {
  append(_txns: Txn[]): Promise<void> {
    return Promise.resolve();
  }
  roll(): void {}
  async truncate(): Promise<void> {}
  async *readTxnsAfter(): AsyncGenerator<Txn, void, void> {}
  async getLastLoggedZxid(): Promise<number> {
    return -1;
  }
  async close(): Promise<void> {}
}
