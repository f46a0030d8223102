// The prep stage's view of the tree: committed state overlaid with writes that have been
// assigned a zxid but are not applied yet (ZooKeeper's outstandingChanges). Pipelined
// writes are validated against this so that version checks and sequence numbers see
// the effects of earlier in-flight writes. Each change also carries the tree digest the
// tree will have once it is applied, so a txn can be logged with its expected digest
// before it is applied (ZooKeeper's PrecalculatedDigest).
import type { ACL } from '../protocol/records.js';
import type { DataTree } from '../tree/DataTree.js';
import { adjustDigest, nodeDigest } from '../tree/DigestCalculator.js';

/**
 * What prep knows of a node: everything that enters its digest (data and persisted Stat),
 * plus ACL and child count. One fixed shape so the hot path stays monomorphic.
 */
export class NodeView {
  /** Digest of this node as described here; -1 until computed. */
  digest = -1;

  constructor(
    public acl: ACL[],
    public data: Buffer | null,
    public czxid: number,
    public mzxid: number,
    public pzxid: number,
    public ctime: number,
    public mtime: number,
    public version: number,
    /** Stored cversion (child creations). */
    public cversion: number,
    public aversion: number,
    public ephemeralOwner: bigint,
    public childCount: number,
  ) {}

  get dataLength(): number {
    return this.data?.length ?? 0;
  }

  /** A new node as a create txn will make it. */
  static created(acl: ACL[], data: Buffer | null, zxid: number, time: number, owner: bigint): NodeView {
    return new NodeView(acl, data, zxid, zxid, zxid, time, time, 0, 0, 0, owner, 0);
  }

  /** A copy with some fields changed (its digest is recomputed when asked for). */
  with(changes: Partial<Omit<NodeView, 'with' | 'digest' | 'dataLength'>>): NodeView {
    const v = new NodeView(
      this.acl, this.data, this.czxid, this.mzxid, this.pzxid, this.ctime, this.mtime,
      this.version, this.cversion, this.aversion, this.ephemeralOwner, this.childCount,
    );
    Object.assign(v, changes);
    return v;
  }
}

interface Change {
  zxid: number;
  view: NodeView | null;
}

export class PendingChanges {
  private readonly changes = new Map<string, Change>();
  /** Every change in prep order, with the tree digest once it (and all before it) is applied. */
  private readonly order: Array<{ zxid: number; path: string; treeDigest: bigint }> = [];

  constructor(private readonly tree: DataTree) {}

  get digestEnabled(): boolean {
    return this.tree.digestEnabled;
  }

  get(path: string): NodeView | null {
    const c = this.changes.get(path);
    if (c) return c.view;
    const n = this.tree.get(path);
    if (!n) return null;
    const v = new NodeView(
      this.tree.aclOf(n), n.data, n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime,
      n.version, n.cversion, n.aversion, n.ephemeralOwner, n.numChildren,
    );
    if (this.tree.digestEnabled) v.digest = this.tree.nodeDigest(path, n);
    return v;
  }

  /** Paths with an in-flight change (the latest per path). */
  changedPaths(): IterableIterator<string> {
    return this.changes.keys();
  }

  /** Record that the write with this zxid leaves `path` as `view` (null: deleted). */
  set(path: string, zxid: number, view: NodeView | null): void {
    let treeDigest = 0n;
    if (this.tree.digestEnabled) {
      const before = this.get(path);
      treeDigest = adjustDigest(this.treeDigest(), before ? this.digestOf(path, before) : 0, view ? this.digestOf(path, view) : 0);
    }
    this.changes.set(path, { zxid, view });
    this.order.push({ zxid, path, treeDigest });
    this.queuedTotal++;
  }

  private digestOf(path: string, v: NodeView): number {
    if (v.digest < 0) v.digest = nodeDigest(path, v.data, v);
    return v.digest;
  }

  /**
   * The tree digest once every prepared write is applied: the digest a txn prepared now
   * carries. With nothing in flight it is the tree's own.
   */
  treeDigest(): bigint {
    const last = this.order[this.order.length - 1];
    return last ? last.treeDigest : this.tree.treeDigest();
  }

  /** Take a mark to roll back to if a multi fails part-way. */
  mark(): { at: number; saved: Map<string, Change | undefined> } {
    return { at: this.order.length, saved: new Map() };
  }

  /** Record a path's prior state before a multi sub-op changes it. */
  remember(m: ReturnType<PendingChanges['mark']>, path: string): void {
    if (!m.saved.has(path)) m.saved.set(path, this.changes.get(path));
  }

  rollback(m: ReturnType<PendingChanges['mark']>): void {
    for (const [path, prev] of m.saved) {
      if (prev) this.changes.set(path, prev);
      else this.changes.delete(path);
    }
    this.order.length = m.at;
  }

  /** Forget changes up to and including zxid (they are now in the tree). */
  applied(zxid: number): void {
    let i = 0;
    while (i < this.order.length && this.order[i]!.zxid <= zxid) {
      const { path, zxid: z } = this.order[i]!;
      const c = this.changes.get(path);
      if (c && c.zxid === z) this.changes.delete(path);
      i++;
    }
    if (i) this.order.splice(0, i);
    this.removedTotal += i;
  }

  /** Changes ever recorded / retired (outstanding_changes_queued / _removed). */
  queuedTotal = 0;
  removedTotal = 0;

  clear(): void {
    this.changes.clear();
    this.order.length = 0;
  }

  get size(): number {
    return this.changes.size;
  }
}
