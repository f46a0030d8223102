// Group membership: each member is an ephemeral child named by its id; the member list is kept
// current with a children watch that the client re-registers after reconnects.
import { EventEmitter } from 'node:events';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { Data } from '../client/types.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { deleteQuietly, ensurePath, retrying } from './support.js';

export interface GroupEvents {
  change: [string[]];
}

export class GroupMembership extends EventEmitter<GroupEvents> {
  private joined = false;
  private watching = false;
  private current: string[] = [];

  constructor(readonly zk: ZooKeeper, readonly path: string, readonly memberId: string) {
    super();
  }

  /** Joins the group (idempotent; a create whose reply was lost is recognised as ours). */
  async join(data: Data = null): Promise<void> {
    await ensurePath(this.zk, this.path);
    const me = joinPath(this.path, this.memberId);
    try {
      await retrying(this.zk, () => this.zk.create(me, data, { mode: 'EPHEMERAL' }));
    } catch (e) {
      if (!isZooKeeperError(e, Err.NodeExists)) throw e;
      const stat = await retrying(this.zk, () => this.zk.exists(me));
      if (stat && stat.ephemeralOwner !== this.zk.getSessionId()) throw e; // someone else has our id
    }
    this.joined = true;
  }

  async leave(): Promise<void> {
    if (!this.joined) return;
    this.joined = false;
    await deleteQuietly(this.zk, joinPath(this.path, this.memberId));
  }

  /** Current member ids, sorted. */
  async members(): Promise<string[]> {
    await ensurePath(this.zk, this.path);
    return (await retrying(this.zk, () => this.zk.getChildren(this.path))).sort();
  }

  /** Starts emitting 'change' with the sorted member list whenever membership changes. */
  async watch(): Promise<string[]> {
    await ensurePath(this.zk, this.path);
    this.watching = true;
    return this.refresh();
  }

  private async refresh(): Promise<string[]> {
    const members = (
      await retrying(this.zk, () =>
        this.zk.getChildren(this.path, (ev) => {
          if (this.watching && ev.type === 'NodeChildrenChanged') void this.refresh().catch(() => {});
        }),
      )
    ).sort();
    if (members.join('\0') !== this.current.join('\0')) {
      this.current = members;
      this.emit('change', members);
    }
    return members;
  }

  unwatch(): void {
    this.watching = false;
  }
}
