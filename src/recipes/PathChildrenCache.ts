// Curator's PathChildrenCache: the data and Stat of every child of one node, kept current, with
// added / updated / removed events. Built on TreeCache limited to depth 1 (one persistent
// recursive watch, resynchronised after a reconnect), reporting only the children.
import { EventEmitter } from 'node:events';
import { pushIterator } from '../client/abort.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import type { NodeData } from './NodeCache.js';
import { TreeCache, type TreeCacheEventType } from './TreeCache.js';

export interface ChildData extends NodeData {
  /** Full path of the child. */
  path: string;
}

export type PathChildrenCacheEventType = 'CHILD_ADDED' | 'CHILD_UPDATED' | 'CHILD_REMOVED' | 'INITIALIZED';

export interface PathChildrenCacheEvent {
  type: PathChildrenCacheEventType;
  /** The child concerned (its last known data for CHILD_REMOVED); null for INITIALIZED. */
  data: ChildData | null;
}

export interface PathChildrenCacheEvents {
  event: [PathChildrenCacheEvent];
}

const typeOf: Record<Exclude<TreeCacheEventType, 'initialized'>, PathChildrenCacheEventType> = {
  added: 'CHILD_ADDED',
  updated: 'CHILD_UPDATED',
  removed: 'CHILD_REMOVED',
};

export class PathChildrenCache extends EventEmitter<PathChildrenCacheEvents> {
  private readonly tree: TreeCache;

  constructor(readonly zk: ZooKeeper, readonly path: string) {
    super();
    this.tree = new TreeCache(zk, path, { maxDepth: 1 });
    this.tree.on('change', (type, p, data) => {
      if (type === 'initialized') this.emit('event', { type: 'INITIALIZED', data: null });
      else if (p !== this.path && data) this.emit('event', { type: typeOf[type], data: { path: p, ...data } });
    });
  }

  /** Loads the children (CHILD_ADDED for each, then INITIALIZED) and follows changes. */
  async start(): Promise<void> {
    await this.tree.start();
  }

  /** Every cached child, sorted by path. */
  getCurrentData(): ChildData[] {
    return this.tree.children(this.path).map((name) => this.getCurrentDataFor(this.path === '/' ? `/${name}` : `${this.path}/${name}`)!);
  }

  getCurrentDataFor(fullPath: string): ChildData | undefined {
    const d = this.tree.get(fullPath);
    return d && fullPath !== this.path ? { path: fullPath, ...d } : undefined;
  }

  /** Events as an async iterator, from the next one on. */
  events(options: { signal?: AbortSignal } = {}): AsyncGenerator<PathChildrenCacheEvent, void, undefined> {
    return pushIterator<PathChildrenCacheEvent>((push) => {
      this.on('event', push);
      return () => this.off('event', push);
    }, options.signal);
  }

  async close(): Promise<void> {
    await this.tree.close();
  }
}
