// Keeps a local copy of one node's data and Stat, using a persistent watch (no gap between an
// event and re-arming a one-shot watch). Persistent watches get no catch-up events after a
// reconnect, so the cache reloads whenever the connection comes back.
import { EventEmitter } from 'node:events';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
import type { Stat, WatchedEvent } from '../client/types.js';
import type { ConnectedInfo, ZooKeeper } from '../client/ZooKeeper.js';
import { pushIterator } from '../client/abort.js';
import { retrying } from './support.js';

export interface NodeData {
  data: Buffer | null;
  stat: Stat;
}

export interface NodeCacheEvents {
  change: [NodeData | null];
}

export class NodeCache extends EventEmitter<NodeCacheEvents> {
  private current: NodeData | null = null;
  private running = false;
  private readonly watcher = (ev: WatchedEvent) => {
    if (ev.type === 'NodeCreated' || ev.type === 'NodeDataChanged' || ev.type === 'NodeDeleted') void this.reload();
  };
  private readonly onConnected = (info: ConnectedInfo) => {
    if (info.reconnected) void this.reload();
  };

  constructor(readonly zk: ZooKeeper, readonly path: string) {
    super();
  }

  get(): NodeData | null {
    return this.current;
  }

  /**
   * The 'change' events as an async iterator (`for await (const d of cache.changes({ signal }))`),
   * from the next change on; ends when the iterator is returned or the signal aborts.
   */
  changes(options: { signal?: AbortSignal } = {}): AsyncGenerator<NodeData | null, void, undefined> {
    return pushIterator<NodeData | null>((push) => {
      this.on('change', push);
      return () => this.off('change', push);
    }, options.signal);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.zk.on('connected', this.onConnected);
    await retrying(this.zk, () => this.zk.addWatch(this.path, this.watcher, 'PERSISTENT'));
    await this.reload();
  }

  private async reload(): Promise<void> {
    if (!this.running) return;
    let next: NodeData | null;
    try {
      const { data, stat } = await retrying(this.zk, () => this.zk.getData(this.path));
      next = { data, stat };
    } catch (e) {
      if (!isZooKeeperError(e, Err.NoNode)) return; // session gone; nothing more to track
      next = null;
    }
    // Replies arrive in request order, so a later reload never loses to an earlier one; still,
    // only report real changes.
    const changed = next === null ? this.current !== null : this.current === null || next.stat.mzxid !== this.current.stat.mzxid || next.stat.czxid !== this.current.stat.czxid;
    this.current = next;
    if (changed) this.emit('change', next);
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.zk.off('connected', this.onConnected);
    if (this.zk.isConnected) await this.zk.removeWatches(this.path, 'Any', { watcher: this.watcher }).catch(() => {});
    else await this.zk.removeWatches(this.path, 'Any', { watcher: this.watcher, local: true }).catch(() => {});
  }
}
