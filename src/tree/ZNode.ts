// One znode as stored: data, ACL index, StatPersisted fields and child names.
import type { Stat, StatPersisted } from '../protocol/records.js';
import { CONTAINER_EPHEMERAL_OWNER, EXTENDED_TYPE_MASK } from '../protocol/constants.js';

export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export function kindOfOwner(owner: bigint): NodeKind {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  if ((owner & EXTENDED_TYPE_MASK) === EXTENDED_TYPE_MASK) return 'ttl';
  return 'ephemeral';
}

export function ttlOfOwner(owner: bigint): number {
  return Number(owner & 0xffffffffffn);
}

export function ttlOwner(ttlMs: number): bigint {
  return BigInt.asIntN(64, EXTENDED_TYPE_MASK | BigInt(ttlMs));
}

/** Data up to this size is held as a one-byte string (see ZNode.stored). */
export const INLINE_DATA_MAX = 4096;

const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

/** A string is data already in stored form (latin1, from a snapshot being loaded). */
function pack(data: Buffer | string | null): string | Buffer | null {
  if (data === null || typeof data === 'string') return data;
  if (data.length <= INLINE_DATA_MAX) return data.toString('latin1');
  // A request's data may be a view into a large socket read: keep only its own bytes.
  return data.byteOffset === 0 && data.buffer.byteLength === data.length ? data : Buffer.from(data);
}

export class ZNode {
  /**
   * The node's data. Small values are a latin1 string: one byte per char, so lossless, and a
   * V8 one-byte string costs ~16 B of header against ~180 B for a Buffer (the Uint8Array, its
   * ArrayBuffer and the backing store). Readers get a fresh Buffer (`data`).
   */
  private stored: string | Buffer | null;
  /** Child names; null while there are none (most znodes are leaves, and an empty Set is ~180 B). */
  private kids: Set<string> | null = null;
  /** This node's digest while its data and Stat are unchanged; -1 = not computed. DataTree owns it. */
  digestCache = -1;

  constructor(
    /** A Buffer, or a latin1 string of the bytes (what the snapshot loader reads directly). */
    data: Buffer | string | null,
    public aclIndex: number,
    public czxid: number,
    public mzxid: number,
    public ctime: number,
    public mtime: number,
    public version: number,
    /** Stored cversion: number of child creations (not the client-visible value). */
    public cversion: number,
    public aversion: number,
    public ephemeralOwner: bigint,
    public pzxid: number,
  ) {
    this.stored = pack(data);
  }

  /** The data as a Buffer (a copy for small values: callers may keep or mutate it freely). */
  get data(): Buffer | null {
    const s = this.stored;
    return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  }

  set data(d: Buffer | null) {
    this.stored = pack(d);
  }

  /** The data as stored (a latin1 string, a Buffer or null), for hashing without a copy. */
  get storedData(): string | Buffer | null {
    return this.stored;
  }

  get dataLength(): number {
    const s = this.stored;
    return s === null ? 0 : s.length;
  }

  /** Child names in insertion order (read-only: change them through addChild/removeChild). */
  get children(): ReadonlySet<string> {
    return this.kids ?? NO_CHILDREN;
  }

  get numChildren(): number {
    return this.kids === null ? 0 : this.kids.size;
  }

  addChild(name: string): void {
    (this.kids ??= new Set()).add(name);
  }

  removeChild(name: string): void {
    const k = this.kids;
    if (k !== null && k.delete(name) && k.size === 0) this.kids = null;
  }

  static fromPersisted(data: Buffer | null, aclIndex: number, s: StatPersisted): ZNode {
    return new ZNode(data, aclIndex, s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion, s.ephemeralOwner, s.pzxid);
  }

  get kind(): NodeKind {
    return kindOfOwner(this.ephemeralOwner);
  }

  /** The Stat a client sees (visible cversion, ephemeralOwner 0 for container/TTL). */
  stat(): Stat {
    const owner = this.ephemeralOwner;
    const visibleOwner = owner === 0n || kindOfOwner(owner) !== 'ephemeral' ? 0n : owner;
    const n = this.numChildren;
    return {
      czxid: this.czxid,
      mzxid: this.mzxid,
      ctime: this.ctime,
      mtime: this.mtime,
      version: this.version,
      cversion: (2 * this.cversion - n) | 0,
      aversion: this.aversion,
      ephemeralOwner: visibleOwner,
      dataLength: this.dataLength,
      numChildren: n,
      pzxid: this.pzxid,
    };
  }

  persisted(): StatPersisted {
    return {
      czxid: this.czxid,
      mzxid: this.mzxid,
      ctime: this.ctime,
      mtime: this.mtime,
      version: this.version,
      cversion: this.cversion,
      aversion: this.aversion,
      ephemeralOwner: this.ephemeralOwner,
      pzxid: this.pzxid,
    };
  }
}
