// The ordered-contender core shared by locks, semaphores' siblings and leader latches: each
// contender creates a protected ephemeral-sequential node in a directory and waits, watching only
// the node it depends on (no herd effect), until a rule over the sorted contenders admits it.
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { basename, joinPath } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { createProtected, deleteQuietly, retrying, sortBySequence, waitForDeletion } from './support.js';

/** Given contenders sorted by sequence and our index: null = admitted, otherwise the name to wait on. */
export type AdmissionRule = (sorted: string[], ourIndex: number) => string | null;

export class LockInternals {
  ourPath: string | null = null;

  constructor(
    readonly zk: ZooKeeper,
    readonly dir: string,
    /** Node name stem, e.g. 'lock-', 'read-', 'write-'. */
    readonly name: string,
    /** Which names count as contenders (default: all in the directory). */
    readonly isContender: (child: string) => boolean = () => true,
    /** Makes a fresh unique node name prefix per attempt, replacing the protected `_c_<guid>-<name>`. */
    readonly makeNamePrefix?: () => string,
  ) {}

  /**
   * Returns true once admitted, false if `timeoutMs` passed first. When the wait times out, fails
   * or is aborted (rejecting with `signal.reason`), our node is deleted before returning.
   */
  async acquire(rule: AdmissionRule, timeoutMs?: number, data: Buffer | null = null, signal?: AbortSignal): Promise<boolean> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    this.ourPath = await createProtected(this.zk, this.dir, this.name, data, 'EPHEMERAL_SEQUENTIAL', undefined, signal, this.makeNamePrefix?.());
    const ours = basename(this.ourPath);
    try {
      for (;;) {
        const children = sortBySequence(
          (await retrying(this.zk, () => this.zk.getChildren(this.dir, null, { signal }), signal)).filter(this.isContender),
        );
        const idx = children.indexOf(ours);
        if (idx < 0) {
          // Our ephemeral node is gone: the session expired (or someone deleted it).
          throw new ZooKeeperError(this.zk.state === 'connected' ? Err.NoNode : Err.SessionExpired, this.ourPath);
        }
        const waitOn = rule(children, idx);
        if (waitOn === null) return true;
        const remaining = deadline === undefined ? undefined : deadline - Date.now();
        if (remaining !== undefined && remaining <= 0) {
          await this.release();
          return false;
        }
        await waitForDeletion(this.zk, joinPath(this.dir, waitOn), remaining, signal);
      }
    } catch (e) {
      await this.release().catch(() => {});
      throw e;
    }
  }

  async release(): Promise<void> {
    const p = this.ourPath;
    this.ourPath = null;
    if (!p) return;
    try {
      await deleteQuietly(this.zk, p);
    } catch (e) {
      // After expiry the server already removed the ephemeral node.
      if (!isZooKeeperError(e, Err.SessionExpired)) throw e;
    }
  }
}
