// Keeps a local copy of a whole subtree (data + Stat of every node) using one persistent
// recursive watch on the root. Recursive watches report creates, data changes and deletes of every
// descendant (never NodeChildrenChanged), which is exactly what the cache needs. After a
// reconnect there are no catch-up events for persistent watches, so the cache resynchronises.
import { pushIterator } from '../client/abort.js';
import { EventEmitter } from 'node:events';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import type { WatchedEvent } from '../client/types.js';
import type { ConnectedInfo, ZooKeeper } from '../client/ZooKeeper.js';
import type { NodeData } from './NodeCache.js';
import { retrying } from './support.js';

export type TreeCacheEventType = 'added' | 'updated' | 'removed' | 'initialized';

export interface TreeCacheEvents {
  change: [TreeCacheEventType, string, NodeData | null];
}

export interface TreeCacheEvent {
  type: TreeCacheEventType;
  path: string;
  data: NodeData | null;
}

export class TreeCache extends EventEmitter<TreeCacheEvents> {
  private readonly nodes = new Map<string, NodeData>();
  private running = false;
  private readonly watcher = (ev: WatchedEvent) => {
    if (!ev.path || this.depth(ev.path) > this.maxDepth) return;
    if (ev.type === 'NodeDeleted') this.removeSubtree(ev.path);
    else if (ev.type === 'NodeCreated' || ev.type === 'NodeDataChanged') void this.refreshNode(ev.path);
  };
  private readonly onConnected = (info: ConnectedInfo) => {
    if (info.reconnected) void this.resync().catch(() => {});
  };

  /** Levels below the root that are cached (Curator's TreeCache maxDepth); 0 = the root alone. */
  readonly maxDepth: number;

  constructor(readonly zk: ZooKeeper, readonly root: string, options: { maxDepth?: number } = {}) {
    super();
    this.maxDepth = options.maxDepth ?? Infinity;
    if (!(this.maxDepth >= 0)) throw new RangeError('maxDepth must be >= 0');
  }

  private depth(path: string): number {
    if (path === this.root) return 0;
    const rel = this.root === '/' ? path.slice(1) : path.slice(this.root.length + 1);
    return rel.split('/').length;
  }

  /**
   * The 'change' events as an async iterator of `{ type, path, data }`, from the next change on;
   * ends when the iterator is returned or the signal aborts.
   */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<TreeCacheEvent, void, undefined> {
    return pushIterator<TreeCacheEvent>((push) => {
      const onChange = (type: TreeCacheEventType, path: string, data: NodeData | null) => push({ type, path, data });
      this.on('change', onChange);
      return () => this.off('change', onChange);
    }, options.signal);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.zk.on('connected', this.onConnected);
    await retrying(this.zk, () => this.zk.addWatch(this.root, this.watcher, 'PERSISTENT_RECURSIVE'));
    await this.resync();
    this.emit('change', 'initialized', this.root, null);
  }

  get(path: string): NodeData | undefined {
    return this.nodes.get(path);
  }

  /** Names of the cached children of `path`, sorted. */
  children(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const out: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) out.push(p.slice(prefix.length));
    }
    return out.sort();
  }

  /** Every cached path, sorted. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  private set(path: string, next: NodeData): void {
    const prev = this.nodes.get(path);
    this.nodes.set(path, next);
    if (!prev) this.emit('change', 'added', path, next);
    else if (prev.stat.mzxid !== next.stat.mzxid || prev.stat.czxid !== next.stat.czxid) this.emit('change', 'updated', path, next);
  }

  private removeSubtree(path: string): void {
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const p of [...this.nodes.keys()]) {
      if (p === path || p.startsWith(prefix)) {
        const prev = this.nodes.get(p)!;
        this.nodes.delete(p);
        this.emit('change', 'removed', p, prev);
      }
    }
  }

  private async refreshNode(path: string): Promise<void> {
    if (!this.running) return;
    try {
      const { data, stat } = await retrying(this.zk, () => this.zk.getData(path));
      this.set(path, { data, stat });
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) this.removeSubtree(path);
    }
  }

  /** Full reload: walks the subtree and reconciles the cache with what is there now. */
  private async resync(): Promise<void> {
    const seen = new Set<string>();
    const walk = async (path: string, depth: number): Promise<void> => {
      let res;
      try {
        const [d, c] = await Promise.all([retrying(this.zk, () => this.zk.getData(path)), retrying(this.zk, () => this.zk.getChildren(path))]);
        res = { d, c };
      } catch (e) {
        if (isZooKeeperError(e, Err.NoNode)) return;
        throw e;
      }
      seen.add(path);
      this.set(path, { data: res.d.data, stat: res.d.stat });
      if (depth < this.maxDepth) await Promise.all(res.c.map((child) => walk(joinPath(path, child), depth + 1)));
    };
    await walk(this.root, 0);
    for (const p of [...this.nodes.keys()]) {
      if (!seen.has(p)) {
        const prev = this.nodes.get(p)!;
        this.nodes.delete(p);
        this.emit('change', 'removed', p, prev);
      }
    }
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.zk.off('connected', this.onConnected);
    await this.zk.removeWatches(this.root, 'Any', { watcher: this.watcher, local: !this.zk.isConnected }).catch(() => {});
  }
}
