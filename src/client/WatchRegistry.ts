// Client-side watch tables (Java's ZKWatchManager): which local watchers an incoming event
// triggers, what to re-register with SetWatches after a reconnect, and local watch removal.
import { EventType } from '../protocol/constants.js';
import { parentOf } from './paths.js';
import type { EventTypeName, Watcher, WatcherTypeName } from './types.js';

type Table = Map<string, Set<Watcher>>;

function add(table: Table, path: string, w: Watcher): void {
  let s = table.get(path);
  if (!s) table.set(path, (s = new Set()));
  s.add(w);
}

function take(table: Table, path: string, into: Set<Watcher>): void {
  const s = table.get(path);
  if (!s) return;
  table.delete(path);
  for (const w of s) into.add(w);
}

function copy(table: Table, path: string, into: Set<Watcher>): void {
  const s = table.get(path);
  if (s) for (const w of s) into.add(w);
}

export interface WatchSnapshot {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

export class WatchRegistry {
  readonly data: Table = new Map();
  readonly exist: Table = new Map();
  readonly child: Table = new Map();
  readonly persistent: Table = new Map();
  readonly recursive: Table = new Map();

  addData(path: string, w: Watcher): void {
    add(this.data, path, w);
  }
  addExist(path: string, w: Watcher): void {
    add(this.exist, path, w);
  }
  addChild(path: string, w: Watcher): void {
    add(this.child, path, w);
  }
  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    add(recursive ? this.recursive : this.persistent, path, w);
  }

  isEmpty(): boolean {
    return !this.data.size && !this.exist.size && !this.child.size && !this.persistent.size && !this.recursive.size;
  }

  /** Watchers an event for `path` triggers; one-shot ones are removed. A watcher appears once. */
  materialize(type: number, path: string): Set<Watcher> {
    const out = new Set<Watcher>();
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        take(this.data, path, out);
        take(this.exist, path, out);
        this.addPersistentTargets(path, out, true);
        break;
      case EventType.NodeChildrenChanged:
        take(this.child, path, out);
        this.addPersistentTargets(path, out, false);
        break;
      case EventType.NodeDeleted:
        take(this.data, path, out);
        take(this.exist, path, out);
        take(this.child, path, out);
        this.addPersistentTargets(path, out, true);
        break;
      default:
        break;
    }
    return out;
  }

  private addPersistentTargets(path: string, out: Set<Watcher>, withRecursive: boolean): void {
    copy(this.persistent, path, out);
    if (!withRecursive || this.recursive.size === 0) return;
    let p = path;
    for (;;) {
      copy(this.recursive, p, out);
      if (p === '/') break;
      p = parentOf(p);
    }
  }

  /** All watchers, cleared (session expired or client closed). */
  drainAll(): Set<Watcher> {
    const out = new Set<Watcher>();
    for (const t of [this.data, this.exist, this.child, this.persistent, this.recursive]) {
      for (const s of t.values()) for (const w of s) out.add(w);
      t.clear();
    }
    return out;
  }

  snapshot(): WatchSnapshot {
    return {
      data: [...this.data.keys()],
      exist: [...this.exist.keys()],
      child: [...this.child.keys()],
      persistent: [...this.persistent.keys()],
      persistentRecursive: [...this.recursive.keys()],
    };
  }

  private tablesFor(type: WatcherTypeName): Array<[Table, EventTypeName]> {
    switch (type) {
      case 'Children':
        return [[this.child, 'ChildWatchRemoved']];
      case 'Data':
        return [
          [this.data, 'DataWatchRemoved'],
          [this.exist, 'DataWatchRemoved'],
        ];
      case 'Persistent':
        return [[this.persistent, 'PersistentWatchRemoved']];
      case 'PersistentRecursive':
        return [[this.recursive, 'PersistentWatchRemoved']];
      case 'Any':
        return [
          [this.child, 'ChildWatchRemoved'],
          [this.data, 'DataWatchRemoved'],
          [this.exist, 'DataWatchRemoved'],
          [this.persistent, 'PersistentWatchRemoved'],
          [this.recursive, 'PersistentWatchRemoved'],
        ];
    }
  }

  contains(path: string, type: WatcherTypeName, watcher?: Watcher): boolean {
    for (const [t] of this.tablesFor(type)) {
      const s = t.get(path);
      if (s && (watcher ? s.has(watcher) : s.size > 0)) return true;
    }
    return false;
  }

  /** Removes matching watchers and returns each with the removal event type it should receive. */
  remove(path: string, type: WatcherTypeName, watcher?: Watcher): Array<[Watcher, EventTypeName]> {
    const out: Array<[Watcher, EventTypeName]> = [];
    const seen = new Set<Watcher>();
    for (const [t, evType] of this.tablesFor(type)) {
      const s = t.get(path);
      if (!s) continue;
      if (watcher) {
        if (s.delete(watcher) && !seen.has(watcher)) {
          seen.add(watcher);
          out.push([watcher, evType]);
        }
        if (s.size === 0) t.delete(path);
      } else {
        for (const w of s) {
          if (!seen.has(w)) {
            seen.add(w);
            out.push([w, evType]);
          }
        }
        t.delete(path);
      }
    }
    return out;
  }
}
