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

export class ZNode {
  children: Set<string> = new Set();
  /** This node's digest while its data and Stat are unchanged; -1 = not computed. DataTree owns it. */
  digestCache = -1;

  constructor(
    public data: Buffer | null,
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
  ) {}

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
    const n = this.children.size;
    return {
      czxid: this.czxid,
      mzxid: this.mzxid,
      ctime: this.ctime,
      mtime: this.mtime,
      version: this.version,
      cversion: (2 * this.cversion - n) | 0,
      aversion: this.aversion,
      ephemeralOwner: visibleOwner,
      dataLength: this.data ? this.data.length : 0,
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
