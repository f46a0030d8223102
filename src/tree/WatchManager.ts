// Watch registrations indexed by path, and the fan-out of tree events to watchers.
// Watches belong to connections; a registration carries mode bits so a standard and a
// persistent watch on the same path coexist (3.9 behaviour).
import type { ACL } from '../protocol/records.js';
import { EventType } from '../protocol/constants.js';
import type { TreeEvent } from './DataTree.js';
import { parentOf } from './paths.js';

export interface Watcher {
  /** Queue a notification on this watcher's connection. */
  notify(type: number, path: string): void;
  /** Whether this watcher may see events governed by `acl` (READ). */
  canRead(acl: ACL[]): boolean;
}

export const STANDARD = 1;
export const PERSISTENT = 2;
export const RECURSIVE = 4;

type Table = Map<string, Map<Watcher, number>>;

export class WatchManager {
  /** Data/exist watches, persistent watches and recursive watches. */
  readonly data: Table = new Map();
  /** Child watches and persistent watches. */
  readonly child: Table = new Map();
  private byWatcherData = new Map<Watcher, Set<string>>();
  private byWatcherChild = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;

  private add(table: Table, index: Map<Watcher, Set<string>>, path: string, w: Watcher, bits: number): void {
    let m = table.get(path);
    if (!m) table.set(path, (m = new Map()));
    const old = m.get(w) ?? 0;
    if ((bits & RECURSIVE) && !(old & RECURSIVE)) this.recursiveCount++;
    m.set(w, old | bits);
    let s = index.get(w);
    if (!s) index.set(w, (s = new Set()));
    s.add(path);
  }

  addDataWatch(path: string, w: Watcher, bits = STANDARD): void {
    this.add(this.data, this.byWatcherData, path, w, bits);
  }

  addChildWatch(path: string, w: Watcher, bits = STANDARD): void {
    this.add(this.child, this.byWatcherChild, path, w, bits);
  }

  /** addWatch: persistent → both tables; recursive → data table only. */
  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    if (recursive) this.addDataWatch(path, w, RECURSIVE);
    else {
      this.addDataWatch(path, w, PERSISTENT);
      this.addChildWatch(path, w, PERSISTENT);
    }
  }

  /** Clear `bits` of w on path; returns whether anything was removed. */
  private clear(table: Table, index: Map<Watcher, Set<string>>, path: string, w: Watcher, bits: number): boolean {
    const m = table.get(path);
    const old = m?.get(w) ?? 0;
    if (!(old & bits)) return false;
    const left = old & ~bits;
    if ((old & RECURSIVE) && !(left & RECURSIVE)) this.recursiveCount--;
    if (left) m!.set(w, left);
    else {
      m!.delete(w);
      if (m!.size === 0) table.delete(path);
      const s = index.get(w);
      s?.delete(path);
      if (s && s.size === 0) index.delete(w);
    }
    return true;
  }

  bitsOf(kind: 'data' | 'child', path: string, w: Watcher): number {
    return (kind === 'data' ? this.data : this.child).get(path)?.get(w) ?? 0;
  }

  /**
   * removeWatches/checkWatches for WatcherType 1..5. Returns whether a matching watch
   * exists; removes it when `remove`.
   */
  removeWatch(path: string, w: Watcher, type: number, remove: boolean): boolean {
    const plan: Array<['data' | 'child', number]> = [];
    switch (type) {
      // 3.8 clients only send 1..3, and there Children/Data cover persistent entries too.
      case 1: plan.push(['child', STANDARD | PERSISTENT]); break;
      case 2: plan.push(['data', STANDARD | PERSISTENT | RECURSIVE]); break;
      case 3: plan.push(['data', STANDARD | PERSISTENT | RECURSIVE], ['child', STANDARD | PERSISTENT]); break;
      case 4: plan.push(['data', PERSISTENT], ['child', PERSISTENT]); break;
      case 5: plan.push(['data', RECURSIVE]); break;
      default: return false;
    }
    let found = false;
    for (const [kind, bits] of plan) {
      if (this.bitsOf(kind, path, w) & bits) {
        found = true;
        if (remove) {
          if (kind === 'data') this.clear(this.data, this.byWatcherData, path, w, bits);
          else this.clear(this.child, this.byWatcherChild, path, w, bits);
        }
      }
    }
    return found;
  }

  /** Drop everything a closed connection had. */
  removeWatcher(w: Watcher): void {
    for (const p of this.byWatcherData.get(w) ?? []) this.clear(this.data, this.byWatcherData, p, w, STANDARD | PERSISTENT | RECURSIVE);
    for (const p of this.byWatcherChild.get(w) ?? []) this.clear(this.child, this.byWatcherChild, p, w, STANDARD | PERSISTENT);
    this.byWatcherData.delete(w);
    this.byWatcherChild.delete(w);
  }

  /** Fire the watches matching a batch of tree events, in order. */
  trigger(events: TreeEvent[]): void {
    for (const ev of events) {
      switch (ev.type) {
        case EventType.NodeCreated:
        case EventType.NodeDataChanged:
          this.fire(ev, this.collectData(ev.path, new Set()));
          break;
        case EventType.NodeDeleted: {
          const hit = this.collectData(ev.path, new Set());
          this.collectTable(this.child, this.byWatcherChild, ev.path, hit);
          this.fire(ev, hit);
          break;
        }
        case EventType.NodeChildrenChanged:
          this.fire(ev, this.collectTable(this.child, this.byWatcherChild, ev.path, new Set()));
          break;
      }
    }
  }

  private fire(ev: TreeEvent, watchers: Set<Watcher>): void {
    for (const w of watchers) if (w.canRead(ev.acl)) w.notify(ev.type, ev.path);
  }

  /** Watchers of `path` in a table; one-shot registrations are consumed. */
  private collectTable(table: Table, index: Map<Watcher, Set<string>>, path: string, out: Set<Watcher>): Set<Watcher> {
    const m = table.get(path);
    if (!m) return out;
    for (const [w, bits] of m) {
      const live = bits & (STANDARD | PERSISTENT);
      if (!live) continue;
      out.add(w);
      if (bits & STANDARD) this.clear(table, index, path, w, STANDARD);
    }
    return out;
  }

  private collectData(path: string, out: Set<Watcher>): Set<Watcher> {
    this.collectTable(this.data, this.byWatcherData, path, out);
    if (this.recursiveCount > 0) {
      for (let p = path; ; p = parentOf(p)) {
        const m = this.data.get(p);
        if (m) for (const [w, bits] of m) if (bits & RECURSIVE) out.add(w);
        if (p === '/') break;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- reporting

  /** Total registrations in both tables (mntr zk_watch_count). */
  get totalWatches(): number {
    let n = 0;
    for (const m of this.data.values()) n += m.size;
    for (const m of this.child.values()) n += m.size;
    return n;
  }

  /** Data-table summary for wchs: [connections, paths, watches]. */
  dataSummary(): [number, number, number] {
    let n = 0;
    for (const m of this.data.values()) n += m.size;
    return [this.byWatcherData.size, this.data.size, n];
  }

  dataPathsOf(w: Watcher): string[] {
    return [...(this.byWatcherData.get(w) ?? [])];
  }

  dataWatchers(): Map<string, Map<Watcher, number>> {
    return this.data;
  }
}
