// A disk that loses what was not fsynced when the machine crashes, and a TxnLog on it. Appends
// complete in call order after a random fsync delay; a crash drops the unsynced tail and leaves
// the old process's promises pending forever, as a dead process would.
import type { Txn } from '../../src/protocol/txn.js';
import type { TxnLog } from '../../src/storage/TxnLog.js';
import type { SimScheduler } from './SimRuntime.js';

export class SimDisk {
  /** Txns that reached stable storage, in log order. */
  readonly synced: Txn[] = [];
}

export class SimTxnLog implements TxnLog {
  private lastDoneAt = 0;
  private crashed = false;
  /** Set to make the next append fail (a full or broken disk). */
  failNext = false;

  constructor(
    private readonly disk: SimDisk,
    private readonly sched: SimScheduler,
    private readonly random: () => number,
    private readonly owner: number,
    /** Longest fsync, ms (the ensemble simulation makes some disks slow). */
    private readonly maxSyncMs = 4,
  ) {}

  append(txns: Txn[]): Promise<void> {
    if (this.crashed) return new Promise(() => {});
    const fail = this.failNext;
    this.failNext = false;
    // fsyncs finish in order: never before the previous one.
    const at = Math.max(this.sched.now() + 1 + Math.floor(this.random() * this.maxSyncMs), this.lastDoneAt);
    this.lastDoneAt = at;
    const copy = txns.slice();
    return new Promise((resolve, reject) => {
      this.sched.schedule(at - this.sched.now(), () => {
        if (this.crashed) return;
        if (fail) {
          this.crashed = true; // a failed log refuses everything after
          reject(new Error('EIO: simulated disk failure'));
          return;
        }
        this.disk.synced.push(...copy);
        resolve();
      }, this.owner);
    });
  }

  roll(): void {}

  // The rest of the TxnLog interface (a learner's TRUNC and DIFF), on what reached the disk.
  async truncate(zxid: number): Promise<void> {
    const firstAfter = this.disk.synced.findIndex((t) => t.hdr.zxid > zxid);
    if (firstAfter >= 0) this.disk.synced.length = firstAfter;
  }

  async *readTxnsAfter(zxid: number): AsyncGenerator<Txn, void, void> {
    for (const t of this.disk.synced.slice()) if (t.hdr.zxid > zxid) yield t;
  }

  async getLastLoggedZxid(): Promise<number> {
    return this.disk.synced[this.disk.synced.length - 1]?.hdr.zxid ?? -1;
  }

  async close(): Promise<void> {}

  crash(): void {
    this.crashed = true;
  }
}
