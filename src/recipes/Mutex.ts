// Exclusive lock (the ZooKeeper "Locks" recipe): the lowest sequence number holds the lock, every
// other contender watches only its immediate predecessor.
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { LockInternals } from './LockInternals.js';

export class Mutex {
  private readonly internals: LockInternals;
  private held = false;

  constructor(readonly zk: ZooKeeper, readonly path: string) {
    this.internals = new LockInternals(zk, path, 'lock-');
  }

  /** Blocks until the lock is held; with `timeoutMs`, resolves false if it could not be had in time. */
  async acquire(timeoutMs?: number): Promise<boolean> {
    if (this.held) throw new Error('Mutex is not reentrant: already held by this object');
    const ok = await this.internals.acquire((sorted, i) => (i === 0 ? null : sorted[i - 1]!), timeoutMs);
    this.held = ok;
    return ok;
  }

  /**
   * True while this object holds the lock and the session is connected. While disconnected the
   * session may expire at any moment and with it the lock, so callers must treat it as lost.
   */
  get isHeld(): boolean {
    return this.held && this.zk.isConnected;
  }

  /** Path of our lock node while held or waiting. */
  get nodePath(): string | null {
    return this.internals.ourPath;
  }

  async release(): Promise<void> {
    this.held = false;
    await this.internals.release();
  }

  /** Runs `fn` while holding the lock. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}
