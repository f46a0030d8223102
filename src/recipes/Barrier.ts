// Barriers. Barrier: processes wait while a node exists. DoubleBarrier: a fixed number of
// participants enter together (the last to arrive creates "ready") and leave together.
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { deleteQuietly, ensurePath, retrying, sortBySequence, waitForDeletion, waitOptions, waitOrTimeout, type WaitOptions } from './support.js';

export class Barrier {
  constructor(readonly zk: ZooKeeper, readonly path: string) {}

  /** Raises the barrier (idempotent). */
  async set(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
    await ensurePath(this.zk, parent);
    try {
      await retrying(this.zk, () => this.zk.create(this.path, null));
    } catch (e) {
      if (!isZooKeeperError(e, Err.NodeExists)) throw e;
    }
  }

  /** Lowers the barrier, releasing every waiter. */
  async remove(): Promise<void> {
    await deleteQuietly(this.zk, this.path);
  }

  /** Waits until the barrier is removed; false on timeout; an aborted signal rejects with its reason. */
  async wait(options?: number | WaitOptions): Promise<boolean> {
    const { timeoutMs, signal } = waitOptions(options);
    return waitForDeletion(this.zk, this.path, timeoutMs, signal);
  }
}

const READY = 'ready';

export class DoubleBarrier {
  private readonly ourPath: string;
  private readonly readyPath: string;

  constructor(readonly zk: ZooKeeper, readonly path: string, readonly memberCount: number, readonly id: string) {
    this.ourPath = joinPath(path, id);
    this.readyPath = joinPath(path, READY);
  }

  private async members(): Promise<string[]> {
    return (await retrying(this.zk, () => this.zk.getChildren(this.path))).filter((c) => c !== READY);
  }

  /**
   * Joins and waits until `memberCount` participants have joined; false on timeout. On timeout or
   * abort (rejecting with `signal.reason`) our member node is removed again.
   */
  async enter(options?: number | WaitOptions): Promise<boolean> {
    const { timeoutMs, signal } = waitOptions(options);
    signal?.throwIfAborted();
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    await ensurePath(this.zk, this.path);
    // Watch "ready" before joining so its creation cannot slip by.
    const ready = await retrying(this.zk, () => this.zk.exists(this.readyPath, true));
    try {
      await retrying(this.zk, () => this.zk.create(this.ourPath, null, { mode: 'EPHEMERAL' }));
    } catch (e) {
      if (!isZooKeeperError(e, Err.NodeExists)) throw e; // our own create whose reply was lost
    }
    if (ready.stat) return true;
    if ((await this.members()).length >= this.memberCount) {
      try {
        await retrying(this.zk, () => this.zk.create(this.readyPath, null));
      } catch (e) {
        if (!isZooKeeperError(e, Err.NodeExists)) throw e;
      }
      return true;
    }
    const remaining = deadline - Date.now();
    let ok: boolean;
    try {
      ok = await waitOrTimeout(
        ready.watch.then((e) => e.type === 'NodeCreated'),
        Number.isFinite(remaining) ? remaining : undefined,
        signal,
      );
    } catch (e) {
      await deleteQuietly(this.zk, this.ourPath).catch(() => {});
      throw e;
    }
    if (!ok) await deleteQuietly(this.zk, this.ourPath);
    return ok;
  }

  /**
   * Leaves and waits until every participant has left (the ZooKeeper recipe's leave protocol). An
   * aborted signal stops the wait (our member node may already be gone by then).
   */
  async leave(options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    for (;;) {
      signal?.throwIfAborted();
      const members = sortBySequence(await this.members()).sort();
      if (members.length === 0) break;
      if (members.length === 1 && members[0] === this.id) {
        await deleteQuietly(this.zk, this.ourPath);
        break;
      }
      const lowest = members[0]!;
      const highest = members[members.length - 1]!;
      if (lowest === this.id) {
        await waitForDeletion(this.zk, joinPath(this.path, highest), undefined, signal);
      } else {
        if (members.includes(this.id)) await deleteQuietly(this.zk, this.ourPath);
        await waitForDeletion(this.zk, joinPath(this.path, lowest), undefined, signal);
      }
    }
    // Last one out takes the "ready" flag down so the barrier can be used again.
    if ((await this.members()).length === 0) await deleteQuietly(this.zk, this.readyPath);
  }
}
