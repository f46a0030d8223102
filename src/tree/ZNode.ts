// A znode as DataTree hands it out: a handle on its row in the NodeStore, and the node kinds
// ZooKeeper encodes in ephemeralOwner.
import type { Stat, StatPersisted } from '../protocol/records.js';
import type { NodeKind } from './NodeKind.js';
import type { NodeStore } from './NodeStore.js';

export { kindOfOwner, ttlOfOwner, ttlOwner, type NodeKind } from './NodeKind.js';

/** A handle on one znode of a NodeStore: reads and writes go to the store's columns. */
export class ZNode {
  constructor(
    private readonly s: NodeStore,
    /** The node's id in the store (reused after the node is deleted: do not keep handles). */
    readonly id: number,
  ) {}

  /** A copy of the data (callers may keep or mutate it freely), or null. */
  get data(): Buffer | null {
    return this.s.dataCopy(this.id);
  }

  set data(d: Buffer | null) {
    this.s.setData(this.id, d);
  }

  /** A view of the data for reading right away (hashing, writing out): it moves on the next change. */
  get dataView(): Buffer | null {
    return this.s.dataView(this.id);
  }

  get dataLength(): number {
    return this.s.dataLen[this.id]!;
  }

  /** Child names, oldest first (a new array each time). */
  get children(): string[] {
    return this.s.childNames(this.id);
  }

  get numChildren(): number {
    return this.s.numChildren[this.id]!;
  }

  get aclIndex(): number { return this.s.aclIndex[this.id]!; }
  set aclIndex(v: number) { this.s.aclIndex[this.id] = v; }
  get czxid(): number { return this.s.czxid[this.id]!; }
  set czxid(v: number) { this.s.czxid[this.id] = v; }
  get mzxid(): number { return this.s.mzxid[this.id]!; }
  set mzxid(v: number) { this.s.mzxid[this.id] = v; }
  get pzxid(): number { return this.s.pzxid[this.id]!; }
  set pzxid(v: number) { this.s.pzxid[this.id] = v; }
  get ctime(): number { return this.s.ctime[this.id]!; }
  set ctime(v: number) { this.s.ctime[this.id] = v; }
  get mtime(): number { return this.s.mtime[this.id]!; }
  set mtime(v: number) { this.s.mtime[this.id] = v; }
  get version(): number { return this.s.version[this.id]!; }
  set version(v: number) { this.s.version[this.id] = v; }
  /** Stored cversion: number of child creations (not the client-visible value). */
  get cversion(): number { return this.s.cversion[this.id]!; }
  set cversion(v: number) { this.s.cversion[this.id] = v; }
  get aversion(): number { return this.s.aversion[this.id]!; }
  set aversion(v: number) { this.s.aversion[this.id] = v; }
  get ephemeralOwner(): bigint { return this.s.owner(this.id); }

  get kind(): NodeKind {
    return this.s.kind(this.id);
  }

  /** The Stat a client sees (visible cversion, ephemeralOwner 0 for container/TTL). */
  stat(): Stat {
    return statOf(this.s, this.id);
  }

  persisted(): StatPersisted {
    const s = this.s, id = this.id;
    return {
      czxid: s.czxid[id]!,
      mzxid: s.mzxid[id]!,
      ctime: s.ctime[id]!,
      mtime: s.mtime[id]!,
      version: s.version[id]!,
      cversion: s.cversion[id]!,
      aversion: s.aversion[id]!,
      ephemeralOwner: s.owner(id),
      pzxid: s.pzxid[id]!,
    };
  }
}

/** The Stat a client sees of node `id` (see ZNode.stat), for callers that hold an id, not a handle. */
export function statOf(s: NodeStore, id: number): Stat {
  const n = s.numChildren[id]!;
  return {
    czxid: s.czxid[id]!,
    mzxid: s.mzxid[id]!,
    ctime: s.ctime[id]!,
    mtime: s.mtime[id]!,
    version: s.version[id]!,
    cversion: (2 * s.cversion[id]! - n) | 0,
    aversion: s.aversion[id]!,
    ephemeralOwner: s.kind(id) === 'ephemeral' ? s.owner(id) : 0n,
    dataLength: s.dataLen[id]!,
    numChildren: n,
    pzxid: s.pzxid[id]!,
  };
}
