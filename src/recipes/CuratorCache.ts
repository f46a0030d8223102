// Curator's CuratorCache: a whole subtree cached, with NODE_CREATED / NODE_CHANGED / NODE_DELETED
// events carrying the old and new data, as Curator's CuratorCacheListener receives them. Built on
// TreeCache (one persistent recursive watch, resynchronised after a reconnect).
import { EventEmitter } from 'node:events';
import { pushIterator } from '../client/abort.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import type { NodeData } from './NodeCache.js';
import { TreeCache } from './TreeCache.js';

export interface CachedNode extends NodeData {
  path: string;
}

export type CuratorCacheEvent =
  | { type: 'NODE_CREATED'; oldData: null; data: CachedNode }
  | { type: 'NODE_CHANGED'; oldData: CachedNode | null; data: CachedNode }
  | { type: 'NODE_DELETED'; oldData: CachedNode; data: null }
  | { type: 'INITIALIZED'; oldData: null; data: null };

export interface CuratorCacheEvents {
  event: [CuratorCacheEvent];
}

export class CuratorCache extends EventEmitter<CuratorCacheEvents> {
  private readonly tree: TreeCache;
  /** Last data reported per path, to hand listeners the old value of a change. */
  private readonly last = new Map<string, CachedNode>();

  constructor(readonly zk: ZooKeeper, readonly path: string) {
    super();
    this.tree = new TreeCache(zk, path);
    this.tree.on('change', (type, p, data) => {
      if (type === 'initialized') {
        this.emit('event', { type: 'INITIALIZED', oldData: null, data: null });
        return;
      }
      const prev = this.last.get(p) ?? null;
      if (type === 'removed') {
        this.last.delete(p);
        if (prev) this.emit('event', { type: 'NODE_DELETED', oldData: prev, data: null });
        return;
      }
      const node: CachedNode = { path: p, ...data! };
      this.last.set(p, node);
      if (type === 'added') this.emit('event', { type: 'NODE_CREATED', oldData: null, data: node });
      else this.emit('event', { type: 'NODE_CHANGED', oldData: prev, data: node });
    });
  }

  async start(): Promise<void> {
    await this.tree.start();
  }

  get(path: string): CachedNode | undefined {
    const d = this.tree.get(path);
    return d && { path, ...d };
  }

  size(): number {
    return this.tree.paths().length;
  }

  /** Every cached node, sorted by path. */
  stream(): CachedNode[] {
    return this.tree.paths().map((p) => this.get(p)!);
  }

  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<CuratorCacheEvent, void, undefined> {
    return pushIterator<CuratorCacheEvent>((push) => {
      this.on('event', push);
      return () => this.off('event', push);
    }, options.signal);
  }

  async close(): Promise<void> {
    await this.tree.close();
  }
}
