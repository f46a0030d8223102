// Distributed FIFO queue. Producers add persistent-sequential items with a GUID in the name so a
// create whose reply is lost is found again rather than duplicated; consumers take the lowest item
// by deleting it (whoever deletes it owns it). A delete whose reply was lost is treated as ours if
// the item is gone afterwards, so items may in rare cases be delivered twice but are never lost.
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { Data } from '../client/types.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { createProtected, ensurePath, isConnectionProblem, retrying, sortBySequence, waitOptions, waitOrTimeout, type WaitOptions } from './support.js';

export class DistributedQueue {
  private ensured = false;

  constructor(readonly zk: ZooKeeper, readonly path: string) {}

  private async ensure(): Promise<void> {
    if (this.ensured) return;
    await ensurePath(this.zk, this.path);
    this.ensured = true;
  }

  /** Adds an item; returns its node path. */
  async offer(data: Data): Promise<string> {
    await this.ensure();
    return createProtected(this.zk, this.path, 'qn-', data, 'PERSISTENT_SEQUENTIAL');
  }

  /** Data of the head item without removing it, or null when empty. */
  async peek(): Promise<Buffer | null> {
    await this.ensure();
    for (const name of sortBySequence(await retrying(this.zk, () => this.zk.getChildren(this.path)))) {
      try {
        return (await retrying(this.zk, () => this.zk.getData(joinPath(this.path, name)))).data ?? Buffer.alloc(0);
      } catch (e) {
        if (!isZooKeeperError(e, Err.NoNode)) throw e;
      }
    }
    return null;
  }

  /** Removes and returns the head item, or null when the queue is empty. */
  async poll(): Promise<Buffer | null> {
    await this.ensure();
    const names = sortBySequence(await retrying(this.zk, () => this.zk.getChildren(this.path)));
    for (const name of names) {
      const got = await this.tryTake(joinPath(this.path, name));
      if (got) return got;
    }
    return null;
  }

  /**
   * Removes and returns the head item, waiting for one to arrive; null on timeout. An aborted signal
   * rejects with `signal.reason`; it is only checked between items, so an item whose delete was
   * sent is returned rather than lost.
   */
  async take(options?: number | WaitOptions): Promise<Buffer | null> {
    const { timeoutMs, signal } = waitOptions(options);
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    signal?.throwIfAborted();
    await this.ensure();
    for (;;) {
      const { children, watch } = await retrying(this.zk, () => this.zk.getChildren(this.path, true, { signal }), signal);
      for (const name of sortBySequence(children)) {
        signal?.throwIfAborted();
        const got = await this.tryTake(joinPath(this.path, name));
        if (got) return got;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      await waitOrTimeout(
        watch.then(() => true),
        Number.isFinite(remaining) ? remaining : undefined,
        signal,
      );
      if (this.zk.state === 'expired' || this.zk.state === 'closed') await this.zk.exists(this.path); // throws SessionExpired
    }
  }

  /** Reads then deletes one item; null if another consumer got it first. */
  private async tryTake(itemPath: string): Promise<Buffer | null> {
    let data: Buffer;
    try {
      data = (await retrying(this.zk, () => this.zk.getData(itemPath))).data ?? Buffer.alloc(0);
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return null;
      throw e;
    }
    try {
      await this.zk.delete(itemPath);
      return data;
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return null;
      if (!isConnectionProblem(e)) throw e;
    }
    // Unknown outcome: retry the delete; if the item is gone now we may have deleted it.
    for (;;) {
      try {
        await this.zk.waitConnected();
        await this.zk.delete(itemPath);
        return data;
      } catch (e) {
        if (isZooKeeperError(e, Err.NoNode)) return data;
        // The session ended before the outcome could be learnt: the delete may have been ours.
        // Delivering the item (perhaps twice) is the only choice that never loses it.
        if (isZooKeeperError(e, Err.SessionExpired) || this.zk.state === 'expired' || this.zk.state === 'closed') return data;
        if (!isConnectionProblem(e)) throw e;
      }
    }
  }

  /** Number of items currently queued. */
  async size(): Promise<number> {
    await this.ensure();
    return (await retrying(this.zk, () => this.zk.getChildren(this.path))).length;
  }
}
