// Watch registrations indexed by path, and the fan-out of tree events to watchers.
// Watches belong to connections. As in ZooKeeper 3.8, each table keeps one mode per
// (connection, path) and the latest registration replaces it; addWatch sets the mode
// in both tables, and a recursive entry never fires NodeChildrenChanged.
import type { ACL } from '../protocol/records.js';
import { EventType } from '../protocol/constants.js';
import type { TreeEvent } from './DataTree.js';
import { parentOf } from './paths.js';

export interface Watcher {
  /** Queue a notification on this watcher's connection. */
  notify(type: number, path: string): void;
  /** Whether this watcher may see events governed by `acl` (READ). */
  canRead(acl: ACL[]): boolean;
  /**
   * Notifications fired for this watcher but not yet handed to notify() (a fan-out spread over
   * turns). While above 0, the watcher must call WatchManager.deliverPending(this) before it
   * sends anything else, so that nothing after the change reaches its client before the event.
   */
  pendingNotifications?: number;
}

/** A fired event whose watchers are being notified over several turns. */
interface FanOut {
  type: number;
  path: string;
  acl: ACL[];
  /** null where deliverPending already handed the event over. */
  watchers: Array<Watcher | null>;
  /** Next watcher to notify. */
  next: number;
}

/**
 * Watchers notified per turn once a fan-out is spread (issue 10). One notification costs about a
 * microsecond here, the socket write that follows it more (see Connection's FLUSHES_PER_TURN); a
 * 1,000-watcher slice keeps this part of a turn near a millisecond.
 */
export const NOTIFICATIONS_PER_TURN = 1000;

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
    if (!(bits & RECURSIVE) && (old & RECURSIVE)) this.recursiveCount--;
    m.set(w, bits);
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

  /** addWatch: the mode goes into both tables (3.8). */
  addPersistent(path: string, w: Watcher, recursive: boolean): void {
    const mode = recursive ? RECURSIVE : PERSISTENT;
    this.addDataWatch(path, w, mode);
    this.addChildWatch(path, w, mode);
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
   * removeWatches/checkWatches for WatcherType Children (1), Data (2), Any (3): whether a
   * matching watch exists; removed when `remove`.
   */
  removeWatch(path: string, w: Watcher, type: number, remove: boolean): boolean {
    const all = STANDARD | PERSISTENT | RECURSIVE;
    let found = false;
    if ((type === 1 || type === 3) && this.bitsOf('child', path, w)) {
      found = true;
      if (remove) this.clear(this.child, this.byWatcherChild, path, w, all);
    }
    if ((type === 2 || type === 3) && this.bitsOf('data', path, w)) {
      found = true;
      if (remove) this.clear(this.data, this.byWatcherData, path, w, all);
    }
    return found;
  }

  /** Drop everything a closed connection had. */
  removeWatcher(w: Watcher): void {
    for (const p of this.byWatcherData.get(w) ?? []) this.clear(this.data, this.byWatcherData, p, w, STANDARD | PERSISTENT | RECURSIVE);
    for (const p of this.byWatcherChild.get(w) ?? []) this.clear(this.child, this.byWatcherChild, p, w, STANDARD | PERSISTENT | RECURSIVE);
    this.byWatcherData.delete(w);
    this.byWatcherChild.delete(w);
  }

  /** Told how many watchers each event fired (watch-count metrics). */
  onTriggered: ((eventType: number, watchers: number) => void) | null = null;

  /**
   * Runs `fn` in a later turn (the server's scheduler). Unset, every notification is handed out
   * inside trigger(); set, an event with more than NOTIFICATIONS_PER_TURN watchers is handed
   * out in slices, one per turn, so one write waking 10,000 watchers does not hold the loop.
   */
  defer: ((fn: () => void) => void) | null = null;

  /** Events fired but not fully handed out, oldest first. */
  private fanOuts: FanOut[] = [];
  private drainScheduled = false;

  /**
   * Fire the watches matching a batch of tree events, in order. Which watches fire (and which
   * one-shot watches are used up) is settled here, at once: a watch set after this change is a
   * new one. Only the hand-over to the watchers' connections may be spread over turns.
   */
  trigger(events: TreeEvent[]): void {
    for (const ev of events) {
      // Most changes have no watcher: the set is made only when one is found.
      let hit: Set<Watcher> | null = null;
      if (ev.type === EventType.NodeChildrenChanged) {
        hit = this.collect(this.child, this.byWatcherChild, ev.path, ev.type, hit);
      } else {
        hit = this.collect(this.data, this.byWatcherData, ev.path, ev.type, hit);
        if (ev.type === EventType.NodeDeleted) hit = this.collect(this.child, this.byWatcherChild, ev.path, ev.type, hit);
      }
      if (hit === null || hit.size === 0) continue;
      this.onTriggered?.(ev.type, hit.size);
      // Behind a fan-out still under way every event queues, so that a watcher in both sees
      // them in the order they happened.
      if (this.defer && (this.fanOuts.length > 0 || hit.size > NOTIFICATIONS_PER_TURN)) {
        const watchers: Watcher[] = [...hit];
        for (const w of watchers) w.pendingNotifications = (w.pendingNotifications ?? 0) + 1;
        this.fanOuts.push({ type: ev.type, path: ev.path, acl: ev.acl, watchers, next: 0 });
        this.scheduleDrain();
      } else {
        for (const w of hit) if (w.canRead(ev.acl)) w.notify(ev.type, ev.path);
      }
    }
  }

  /**
   * Hand `w` every notification still queued for it, oldest event first: called by a watcher
   * about to send something else (a reply), which must come after the events before it. Only
   * `w`'s entries are taken out; other watchers keep their place (their order is their own).
   */
  deliverPending(w: Watcher): void {
    for (const f of this.fanOuts) {
      if (!w.pendingNotifications) return;
      const i = f.watchers.indexOf(w, f.next);
      if (i < 0) continue;
      f.watchers[i] = null;
      this.notifyOne(w, f);
    }
  }

  /** Whether notifications are still queued (tests, shutdown). */
  get fanOutPending(): boolean {
    return this.fanOuts.length > 0;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || !this.defer) return;
    this.drainScheduled = true;
    this.defer(() => {
      this.drainScheduled = false;
      this.handOut(NOTIFICATIONS_PER_TURN);
      if (this.fanOuts.length > 0) this.scheduleDrain();
    });
  }

  /** Notify up to `budget` queued watchers, oldest event first. */
  private handOut(budget: number): void {
    while (budget > 0 && this.fanOuts.length > 0) {
      const f = this.fanOuts[0]!;
      while (f.next < f.watchers.length && budget > 0) {
        const w = f.watchers[f.next++];
        // null: already handed over by deliverPending.
        if (!w) continue;
        budget--;
        this.notifyOne(w, f);
      }
      if (f.next < f.watchers.length) return;
      this.fanOuts.shift();
    }
  }

  private notifyOne(w: Watcher, f: FanOut): void {
    w.pendingNotifications = (w.pendingNotifications ?? 1) - 1;
    if (w.canRead(f.acl)) w.notify(f.type, f.path);
  }

  /**
   * Watchers of `path` (and recursive watchers of its ancestors) in one table, added to `out`
   * (made here if null and a watcher is found), which is returned; one-shot registrations are
   * consumed.
   */
  private collect(table: Table, index: Map<Watcher, Set<string>>, path: string, type: number, out: Set<Watcher> | null): Set<Watcher> | null {
    const m = table.get(path);
    if (m) {
      for (const [w, mode] of m) {
        if (mode & RECURSIVE) {
          if (type !== EventType.NodeChildrenChanged) (out ??= new Set()).add(w);
          continue;
        }
        (out ??= new Set()).add(w);
        if (mode & STANDARD) this.clear(table, index, path, w, STANDARD);
      }
    }
    if (this.recursiveCount > 0 && type !== EventType.NodeChildrenChanged && path !== '/') {
      for (let p = parentOf(path); ; p = parentOf(p)) {
        const pm = table.get(p);
        if (pm) for (const [w, mode] of pm) if (mode & RECURSIVE) (out ??= new Set()).add(w);
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
