// Shared read / exclusive write lock: readers wait only for the closest earlier writer, writers
// for their immediate predecessor of either kind.
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { LockInternals } from './LockInternals.js';
import { waitOptions, type WaitOptions } from './support.js';

const READ = 'read-';
const WRITE = 'write-';
const isWrite = (name: string) => name.includes(`-${WRITE}`);

export class ReadWriteLock {
  readonly readLock: LockHandle;
  readonly writeLock: LockHandle;

  constructor(readonly zk: ZooKeeper, readonly path: string) {
    this.readLock = new LockHandle(zk, path, READ, (sorted, i) => {
      for (let j = i - 1; j >= 0; j--) if (isWrite(sorted[j]!)) return sorted[j]!;
      return null;
    });
    this.writeLock = new LockHandle(zk, path, WRITE, (sorted, i) => (i === 0 ? null : sorted[i - 1]!));
  }
}

export class LockHandle implements AsyncDisposable {
  private internals: LockInternals;
  private held = false;

  constructor(
    readonly zk: ZooKeeper,
    path: string,
    name: string,
    private readonly rule: (sorted: string[], i: number) => string | null,
  ) {
    this.internals = new LockInternals(zk, path, name);
  }

  /** As Mutex.acquire: a timeout resolves false, an aborted signal rejects after removing our node. */
  async acquire(options?: number | WaitOptions): Promise<boolean> {
    if (this.held) throw new Error('lock handle already held; create another ReadWriteLock for another holder');
    const { timeoutMs, signal } = waitOptions(options);
    this.held = await this.internals.acquire(this.rule, timeoutMs, null, signal);
    return this.held;
  }

  /** `await using` releases the handle if held. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.held) await this.release();
  }

  get isHeld(): boolean {
    return this.held && this.zk.isConnected;
  }

  async release(): Promise<void> {
    this.held = false;
    await this.internals.release();
  }
}
