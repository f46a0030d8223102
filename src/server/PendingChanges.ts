// The prep stage's view of the tree: committed state overlaid with writes that have been
// assigned a zxid but are not applied yet (ZooKeeper's outstandingChanges). Pipelined
// writes are validated against this so that version checks and sequence numbers see
// the effects of earlier in-flight writes.
import type { ACL } from '../protocol/records.js';
import type { DataTree } from '../tree/DataTree.js';

/** What prep needs to know of a node; one fixed shape so the hot path stays monomorphic. */
export class NodeView {
  constructor(
    public acl: ACL[],
    public version: number,
    /** Stored cversion (child creations). */
    public cversion: number,
    public aversion: number,
    public ephemeralOwner: bigint,
    public childCount: number,
    public dataLength: number,
  ) {}

  /** A copy with some fields changed. */
  with(changes: Partial<Omit<NodeView, 'with'>>): NodeView {
    const v = new NodeView(this.acl, this.version, this.cversion, this.aversion, this.ephemeralOwner, this.childCount, this.dataLength);
    Object.assign(v, changes);
    return v;
  }
}

export class PendingChanges {
  private readonly changes = new Map<string, { zxid: number; view: NodeView | null }>();
  private readonly order: Array<{ zxid: number; path: string }> = [];

  constructor(private readonly tree: DataTree) {}

  get(path: string): NodeView | null {
    const c = this.changes.get(path);
    if (c) return c.view;
    const n = this.tree.get(path);
    if (!n) return null;
    return new NodeView(this.tree.aclOf(n), n.version, n.cversion, n.aversion, n.ephemeralOwner, n.children.size, n.data?.length ?? 0);
  }

  set(path: string, zxid: number, view: NodeView | null): void {
    this.changes.set(path, { zxid, view });
    this.order.push({ zxid, path });
  }

  /** Take a mark to roll back to if a multi fails part-way. */
  mark(): { at: number; saved: Map<string, { zxid: number; view: NodeView | null } | undefined> } {
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
  }

  clear(): void {
    this.changes.clear();
    this.order.length = 0;
  }

  get size(): number {
    return this.changes.size;
  }
}
