// Exclusive lock (the ZooKeeper "Locks" recipe): the lowest sequence number holds the lock, every
// other contender watches only its immediate predecessor. Re-entrant per Mutex object, as Curator's
// InterProcessMutex is per thread: the object that holds the lock may acquire it again, and the
// lock node goes only when every acquire has been matched by a release.
import { randomUUID } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { ZooKeeperError } from '../client/errors.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { LockInternals } from './LockInternals.js';
import { waitOptions, type WaitOptions } from './support.js';

/** A held lock: release it explicitly or let `await using` do it at the end of the block. */
export interface LockGuard extends AsyncDisposable {
  /** Path of the lock node that holds the lock. */
  readonly path: string;
  release(): Promise<void>;
}

export class Mutex implements AsyncDisposable {
  private readonly internals: LockInternals;
  private held = false;
  /** Acquisitions not yet matched by a release (re-entry count). */
  private holds = 0;
  private acquiring = false;

  /**
   * `naming: 'curator'` (default) names lock nodes as Curator's InterProcessMutex does
   * (`_c_<uuid>-lock-<seq>`); `naming: 'kazoo'` as kazoo's Lock does (`<uuid hex>__lock__<seq>`), the
   * only names kazoo 2.8 counts as contenders. Either way this Mutex orders every node in the
   * directory by its sequence suffix, but kazoo ignores Curator-named nodes and Curator orders by
   * the text after `lock-`, so one path cannot be shared by Curator and kazoo holders together.
   */
  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    options: { naming?: 'curator' | 'kazoo' } = {},
  ) {
    const kazoo = options.naming === 'kazoo';
    this.internals = new LockInternals(zk, path, 'lock-', undefined, kazoo ? () => `${randomUUID().replace(/-/g, '')}__lock__` : undefined);
  }

  /**
   * Blocks until the lock is held. With a timeout (a number, or `{ timeoutMs }`), resolves false if
   * it could not be had in time; with `{ signal }`, an abort rejects with `signal.reason` after
   * deleting our lock node.
   */
  async acquire(options?: number | WaitOptions): Promise<boolean> {
    const { timeoutMs, signal } = waitOptions(options);
    signal?.throwIfAborted();
    if (this.held) {
      this.holds++;
      return true;
    }
    // Two concurrent first acquisitions through one object would need two nodes for one holder.
    if (this.acquiring) throw new Error('Mutex: an acquire on this object is already waiting; use one Mutex object per contender');
    this.acquiring = true;
    try {
      const ok = await this.internals.acquire((sorted, i) => (i === 0 ? null : sorted[i - 1]!), timeoutMs, null, signal);
      this.held = ok;
      this.holds = ok ? 1 : 0;
      return ok;
    } finally {
      this.acquiring = false;
    }
  }

  /** How many acquisitions this object holds (0 when not held). */
  get holdCount(): number {
    return this.held ? this.holds : 0;
  }

  /**
   * Acquires and returns a guard for `await using guard = await mutex.lock()`. A timeout rejects with
   * OperationTimeoutError instead of resolving false.
   */
  async lock(options?: WaitOptions): Promise<LockGuard> {
    if (!(await this.acquire(options))) {
      throw new ZooKeeperError(Err.OperationTimeout, this.path, `lock ${this.path} not acquired within ${options?.timeoutMs} ms`);
    }
    const path = this.internals.ourPath!;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      // Only release if this object still holds the lock node this guard was made for.
      if (this.held && this.internals.ourPath === path) await this.release();
    };
    return { path, release, [Symbol.asyncDispose]: release };
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

  /** Undoes one acquire; the lock node is deleted when the last one is undone. */
  async release(): Promise<void> {
    if (this.held && this.holds > 1) {
      this.holds--;
      return;
    }
    this.held = false;
    this.holds = 0;
    await this.internals.release();
  }

  /** `await using` on the Mutex itself gives the lock up entirely if held. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.held) return;
    this.holds = 1;
    await this.release();
  }

  /** Runs `fn` while holding the lock. */
  async withLock<T>(fn: () => Promise<T>, options?: WaitOptions): Promise<T> {
    await using _guard = await this.lock(options);
    return await fn();
  }
}
