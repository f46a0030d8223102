// Counting semaphore: the first `maxLeases` contenders in sequence order hold leases. A contender's
// index only ever decreases (nodes are appended at the end and removed anywhere), so at most
// `maxLeases` nodes can ever have seen themselves admitted at the same time.
import { basename } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { Err } from '../protocol/constants.js';
import { ZooKeeperError } from '../client/errors.js';
import { createProtected, deleteQuietly, retrying, sortBySequence, waitOptions, waitOrTimeout, type WaitOptions } from './support.js';

/** A held lease; `await using lease = await sem.acquire()` returns it at the end of the block. */
export interface Lease extends AsyncDisposable {
  readonly path: string;
  release(): Promise<void>;
}

export class Semaphore {
  constructor(readonly zk: ZooKeeper, readonly path: string, readonly maxLeases: number) {
    if (maxLeases < 1) throw new RangeError('maxLeases must be >= 1');
  }

  /**
   * Waits for a lease; with a timeout, resolves null when none was free in time; an aborted signal
   * rejects with `signal.reason` after removing our node.
   */
  async acquire(options?: number | WaitOptions): Promise<Lease | null> {
    const { timeoutMs, signal } = waitOptions(options);
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const ourPath = await createProtected(this.zk, this.path, 'lease-', null, 'EPHEMERAL_SEQUENTIAL', undefined, signal);
    const ours = basename(ourPath);
    let released: Promise<void> | null = null;
    const release = () => (released ??= deleteQuietly(this.zk, ourPath));
    const lease: Lease = { path: ourPath, release, [Symbol.asyncDispose]: release };
    try {
      for (;;) {
        // Any earlier node going away can admit us, so we watch the directory itself.
        const { children, watch } = await retrying(this.zk, () => this.zk.getChildren(this.path, true, { signal }), signal);
        const idx = sortBySequence(children).indexOf(ours);
        if (idx < 0) throw new ZooKeeperError(Err.SessionExpired, ourPath);
        if (idx < this.maxLeases) return lease;
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          await lease.release();
          return null;
        }
        await waitOrTimeout(
          watch.then(() => true),
          Number.isFinite(remaining) ? remaining : undefined,
          signal,
        );
      }
    } catch (e) {
      await lease.release().catch(() => {});
      throw e;
    }
  }
}
