// The prep stage's view of the tree: committed state overlaid with writes that have been
// assigned a zxid but are not applied yet (ZooKeeper's outstandingChanges). Pipelined
// writes are validated against this so that version checks and sequence numbers see
// the effects of earlier in-flight writes. Each change also carries the tree digest the
// tree will have once it is applied, so a txn can be logged with its expected digest
// before it is applied (ZooKeeper's PrecalculatedDigest).
import type { ACL } from '../protocol/records.js';
import type { DataTree } from '../tree/DataTree.js';
import { nodeDigest } from '../tree/DigestCalculator.js';

/**
 * What prep knows of a node: everything that enters its digest (data and persisted Stat),
 * plus ACL and child count. One fixed shape so the hot path stays monomorphic.
 *
 * A view read from the tree does not copy the node's data (a setData replaces it, and only
 * its digest, computed from the tree, is needed): `dataInTree` says the data is the tree's
 * current data at the view's path. That holds for as long as the view (or one derived from it
 * without new data) is pending: every change to a node's data is prepared here, so while a
 * view of a path is pending the tree's data at that path is what the view describes.
 */
export class NodeView {
  /** Digest of this node as described here; -1 until computed. */
  digest = -1;
  /**
   * Made by get() from the tree and held by no change yet: the one caller that asked may change it
   * in place (forChange) rather than copy it.
   */
  fresh = false;

  constructor(
    public acl: ACL[],
    /** The data, when not `dataInTree`. */
    public data: Buffer | null,
    /** The data is the tree's at this path (not copied); `data` is then unused. */
    public dataInTree: boolean,
    public dataLength: number,
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

  /** A new node as a create txn will make it. */
  static created(acl: ACL[], data: Buffer | null, zxid: number, time: number, owner: bigint): NodeView {
    return new NodeView(acl, data, false, data?.length ?? 0, zxid, zxid, zxid, time, time, 0, 0, 0, owner, 0);
  }

  /** A copy to change fields of (its digest is recomputed when asked for). */
  copy(): NodeView {
    return new NodeView(
      this.acl, this.data, this.dataInTree, this.dataLength, this.czxid, this.mzxid, this.pzxid, this.ctime,
      this.mtime, this.version, this.cversion, this.aversion, this.ephemeralOwner, this.childCount,
    );
  }

  /**
   * A view to change fields of: this one when fresh (nobody else holds it), else a copy. Take
   * what is needed of the view as it was (PendingChanges.digestBefore) first.
   */
  forChange(): NodeView {
    if (!this.fresh) return this.copy();
    this.fresh = false;
    this.digest = -1;
    return this;
  }

  /** forChange() with new data (a setData). */
  withData(data: Buffer | null): NodeView {
    const v = this.forChange();
    v.data = data;
    v.dataInTree = false;
    v.dataLength = data?.length ?? 0;
    return v;
  }
}

/**
 * One prepared change: `path` is left as `view` (null: deleted) by the write `zxid`, and the tree
 * digest once it (and every change before it) is applied is `treeDigest`.
 */
class Change {
  constructor(
    readonly zxid: number,
    readonly path: string,
    readonly view: NodeView | null,
    readonly treeDigest: bigint,
  ) {}
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

export class PendingChanges {
  /** The latest change per path. */
  private readonly changes = new Map<string, Change>();
  /** Every change in prep order, from `head` on (a queue: the consumed prefix is dropped in bulk). */
  private order: Change[] = [];
  private head = 0;

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
      this.tree.aclOf(n), null, true, n.dataLength, n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime,
      n.version, n.cversion, n.aversion, n.ephemeralOwner, n.numChildren,
    );
    if (this.tree.digestEnabled) v.digest = this.tree.nodeDigest(path, n);
    v.fresh = true;
    return v;
  }

  /** Paths with an in-flight change (the latest per path). */
  changedPaths(): IterableIterator<string> {
    return this.changes.keys();
  }

  /**
   * What `v`, the view get(path) returned, adds to the tree digest (0 when digests are off): for
   * set(), taken before `v` is changed in place.
   */
  digestBefore(path: string, v: NodeView | null): number {
    return v && this.tree.digestEnabled ? this.digestOf(path, v) : 0;
  }

  /**
   * Record that the write with this zxid leaves `path` as `view` (null: deleted). `beforeDigest`
   * is digestBefore() of what get(path) returned, when the caller has it (it is looked up otherwise).
   */
  set(path: string, zxid: number, view: NodeView | null, beforeDigest?: number): void {
    let treeDigest = 0n;
    if (this.tree.digestEnabled) {
      if (beforeDigest === undefined) beforeDigest = this.digestBefore(path, this.get(path));
      // Node digests are unsigned 32-bit: their difference is exact in a double.
      const delta = (view ? this.digestOf(path, view) : 0) - beforeDigest;
      treeDigest = this.treeDigest();
      if (delta !== 0) {
        treeDigest += BigInt(delta);
        if (treeDigest > INT64_MAX || treeDigest < INT64_MIN) treeDigest = BigInt.asIntN(64, treeDigest);
      }
    }
    const c = new Change(zxid, path, view, treeDigest);
    this.changes.set(path, c);
    this.order.push(c);
    this.queuedTotal++;
  }

  private digestOf(path: string, v: NodeView): number {
    if (v.digest < 0) {
      // Data shared with the tree is read from it now (see NodeView): a view for hashing only.
      const data = v.dataInTree ? (this.tree.get(path)?.dataView ?? null) : v.data;
      v.digest = nodeDigest(path, data, v);
    }
    return v.digest;
  }

  /**
   * The tree digest once every prepared write is applied: the digest a txn prepared now
   * carries. With nothing in flight it is the tree's own.
   */
  treeDigest(): bigint {
    return this.order.length > this.head ? this.order[this.order.length - 1]!.treeDigest : this.tree.treeDigest();
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
    // A mark is taken and rolled back within one prep: nothing was retired in between.
    this.order.length = m.at;
  }

  /** Forget changes up to and including zxid (they are now in the tree). */
  applied(zxid: number): void {
    const order = this.order;
    let i = this.head;
    while (i < order.length && order[i]!.zxid <= zxid) {
      const c = order[i]!;
      if (this.changes.get(c.path) === c) this.changes.delete(c.path);
      order[i] = undefined as unknown as Change;
      i++;
    }
    this.removedTotal += i - this.head;
    if (i === order.length) {
      order.length = 0;
      this.head = 0;
    } else if (i >= 1024 && i * 2 >= order.length) {
      // Drop the consumed prefix once it dominates, so memory stays proportional to what is pending.
      this.order = order.slice(i);
      this.head = 0;
    } else {
      this.head = i;
    }
  }

  /** Changes ever recorded / retired (outstanding_changes_queued / _removed). */
  queuedTotal = 0;
  removedTotal = 0;

  clear(): void {
    this.changes.clear();
    this.order.length = 0;
    this.head = 0;
  }

  get size(): number {
    return this.changes.size;
  }
}
