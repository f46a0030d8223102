// Counting semaphore: the first `maxLeases` contenders in sequence order hold leases. A contender's
// index only ever decreases (nodes are appended at the end and removed anywhere), so at most
// `maxLeases` nodes can ever have seen themselves admitted at the same time.
import { basename } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { Err } from '../protocol/constants.js';
import { ZooKeeperError } from '../client/errors.js';
import { createProtected, deleteQuietly, retrying, sortBySequence } from './support.js';

export interface Lease {
  readonly path: string;
  release(): Promise<void>;
}

export class Semaphore {
  constructor(readonly zk: ZooKeeper, readonly path: string, readonly maxLeases: number) {
    if (maxLeases < 1) throw new RangeError('maxLeases must be >= 1');
  }

  /** Waits for a lease; with `timeoutMs`, resolves null when none was free in time. */
  async acquire(timeoutMs?: number): Promise<Lease | null> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const ourPath = await createProtected(this.zk, this.path, 'lease-', null, 'EPHEMERAL_SEQUENTIAL');
    const ours = basename(ourPath);
    const lease: Lease = { path: ourPath, release: () => deleteQuietly(this.zk, ourPath) };
    try {
      for (;;) {
        // Any earlier node going away can admit us, so we watch the directory itself.
        const { children, watch } = await retrying(this.zk, () => this.zk.getChildren(this.path, true));
        const idx = sortBySequence(children).indexOf(ours);
        if (idx < 0) throw new ZooKeeperError(Err.SessionExpired, ourPath);
        if (idx < this.maxLeases) return lease;
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          await lease.release();
          return null;
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([watch, new Promise((r) => (timer = setTimeout(r, Math.min(remaining, 2 ** 31 - 1))))]);
        clearTimeout(timer);
      }
    } catch (e) {
      await lease.release().catch(() => {});
      throw e;
    }
  }
}
