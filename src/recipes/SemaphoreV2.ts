// Counting semaphore in the layout of Curator's InterProcessSemaphoreV2, so Node and Java holders
// of one path count against the same limit: lease nodes are protected ephemeral-sequential
// `lease-` nodes under `<path>/leases`, and acquirers take turns through a lock at `<path>/locks`
// (an ordinary lock of `lock-` nodes). The one holding that lock adds its lease node and waits
// until at most `maxLeases` lease nodes exist; because only it waits, earlier arrivals cannot be
// overtaken, and a lease, once counted within the limit, stays admitted.
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { Mutex } from './Mutex.js';
import type { Lease } from './Semaphore.js';
import { createProtected, deleteQuietly, retrying, waitOptions, waitOrTimeout, type WaitOptions } from './support.js';

export class SemaphoreV2 {
  readonly leasesPath: string;
  readonly locksPath: string;

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    readonly maxLeases: number,
  ) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new RangeError('maxLeases must be an integer >= 1');
    this.leasesPath = joinPath(path, 'leases');
    this.locksPath = joinPath(path, 'locks');
  }

  /** One lease; null if none was free within the timeout; an abort rejects after removing our nodes. */
  async acquire(options?: number | WaitOptions): Promise<Lease | null> {
    const got = await this.acquireMany(1, options);
    return got ? got[0]! : null;
  }

  /** `qty` leases, all or none (as Curator's acquire(qty)). */
  async acquireMany(qty: number, options?: number | WaitOptions): Promise<Lease[] | null> {
    if (!Number.isInteger(qty) || qty < 1) throw new RangeError('qty must be an integer >= 1');
    const { timeoutMs, signal } = waitOptions(options);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const leases: Lease[] = [];
    try {
      for (let i = 0; i < qty; i++) {
        const lease = await this.acquireOne(deadline, signal);
        if (!lease) {
          await Promise.all(leases.map((l) => l.release()));
          return null;
        }
        leases.push(lease);
      }
      return leases;
    } catch (e) {
      await Promise.all(leases.map((l) => l.release().catch(() => {})));
      throw e;
    }
  }

  private async acquireOne(deadline: number | undefined, signal: AbortSignal | undefined): Promise<Lease | null> {
    const remaining = () => (deadline === undefined ? undefined : Math.max(0, deadline - Date.now()));
    const lock = new Mutex(this.zk, this.locksPath);
    if (!(await lock.acquire({ timeoutMs: remaining(), signal }))) return null;
    let leasePath: string | null = null;
    try {
      leasePath = await createProtected(this.zk, this.leasesPath, 'lease-', null, 'EPHEMERAL_SEQUENTIAL', undefined, signal);
      const path = leasePath;
      for (;;) {
        const { children, watch } = await retrying(this.zk, () => this.zk.getChildren(this.leasesPath, true, { signal }), signal);
        if (!children.some((c) => path.endsWith(`/${c}`))) {
          // Our ephemeral node is gone: the session expired (or someone deleted it).
          throw new ZooKeeperError(this.zk.state === 'connected' ? Err.NoNode : Err.SessionExpired, path);
        }
        if (children.length <= this.maxLeases) {
          let released: Promise<void> | null = null;
          const release = () => (released ??= deleteQuietly(this.zk, path));
          return { path, release, [Symbol.asyncDispose]: release };
        }
        const left = remaining();
        if (left === 0) {
          await deleteQuietly(this.zk, path);
          return null;
        }
        await waitOrTimeout(
          watch.then(() => true),
          left,
          signal,
        );
      }
    } catch (e) {
      if (leasePath) await deleteQuietly(this.zk, leasePath).catch(() => {});
      throw e;
    } finally {
      await lock.release().catch(() => {});
    }
  }

  /** Paths of the current lease nodes (everyone's). */
  async getParticipantNodes(): Promise<string[]> {
    try {
      return (await retrying(this.zk, () => this.zk.getChildren(this.leasesPath))).map((c) => joinPath(this.leasesPath, c));
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return [];
      throw e;
    }
  }
}
