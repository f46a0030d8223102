// The in-memory znode tree and the deterministic application of txns to it.
// Prep-time validation lives in the server pipeline; apply here only tolerates what replay
// over a fuzzy snapshot can produce (existing/missing nodes), as ZooKeeper does.
import type { ACL, Stat, StatPersisted } from '../protocol/records.js';
import { Err, EventType, OpCode, CONTAINER_EPHEMERAL_OWNER } from '../protocol/constants.js';
import type { Txn, TxnBody } from '../protocol/txn.js';
import { ACLCache, OPEN_ACL_INDEX, READ_ACL_UNSAFE } from './ACLCache.js';
import { ZNode, ttlOwner } from './ZNode.js';
import { CONFIG_NODE, QUOTA_ROOT, baseName, childPath, parentOf } from './paths.js';
import { LIMITS_NODE, STATS_NODE, StatsTrack, limitsPath, statsPath } from './Quotas.js';

export interface TreeEvent {
  type: number;
  path: string;
  /** ACL governing delivery (the node's, or the parent's for NodeChildrenChanged). */
  acl: ACL[];
}

export interface OpResult {
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
}

export interface ApplyResult extends OpResult {
  /** Per sub-op results for multi. */
  results?: OpResult[];
}

export class DataTree {
  readonly nodes = new Map<string, ZNode>();
  readonly acls = new ACLCache();
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  /** Paths (client-side) that have a zookeeper_limits node. */
  readonly quotaPaths = new Set<string>();
  lastProcessedZxid = 0;
  /** Sum of path lengths and data lengths, as `zk_approximate_data_size` reports. */
  approximateDataSize = 0;

  constructor(empty = false) {
    if (empty) return;
    const root = this.blank(OPEN_ACL_INDEX);
    this.nodes.set('/', root);
    this.addNode('/zookeeper', this.blank(OPEN_ACL_INDEX));
    this.addNode(QUOTA_ROOT, this.blank(OPEN_ACL_INDEX));
    const config = this.blank(this.acls.intern(READ_ACL_UNSAFE));
    config.aversion = -1;
    this.addNode(CONFIG_NODE, config);
  }

  private blank(aclIndex: number): ZNode {
    return new ZNode(Buffer.alloc(0), aclIndex, 0, 0, 0, 0, 0, 0, 0, 0n, 0);
  }

  private addNode(path: string, node: ZNode): void {
    this.nodes.set(path, node);
    this.nodes.get(parentOf(path))!.children.add(baseName(path));
    this.approximateDataSize += path.length + (node.data?.length ?? 0);
  }

  static fromSnapshot(
    acls: Iterable<[number, ACL[]]>,
    nodes: Iterable<{ path: string; data: Buffer | null; aclIndex: number; stat: StatPersisted }>,
  ): DataTree {
    const t = new DataTree(true);
    for (const [i, list] of acls) t.acls.load(i, list);
    for (const n of nodes) {
      const path = n.path === '' ? '/' : n.path;
      const node = ZNode.fromPersisted(n.data, n.aclIndex, n.stat);
      if (path !== '/') {
        const parent = t.nodes.get(parentOf(path));
        if (!parent) throw new Error(`Invalid Datatree, unable to find parent ${parentOf(path)} of path ${path}`);
        parent.children.add(baseName(path));
      }
      t.nodes.set(path, node);
      t.acls.addRef(node.aclIndex);
      t.indexKind(path, node);
      t.approximateDataSize += path.length + (node.data?.length ?? 0);
    }
    if (!t.nodes.has('/')) throw new Error('snapshot has no root node');
    t.acls.purgeUnused();
    return t;
  }

  private indexKind(path: string, node: ZNode): void {
    switch (node.kind) {
      case 'ephemeral': {
        let set = this.ephemerals.get(node.ephemeralOwner);
        if (!set) this.ephemerals.set(node.ephemeralOwner, (set = new Set()));
        set.add(path);
        break;
      }
      case 'container':
        this.containers.add(path);
        break;
      case 'ttl':
        this.ttls.add(path);
        break;
    }
    if (path.startsWith(QUOTA_ROOT + '/') && baseName(path) === LIMITS_NODE) {
      this.quotaPaths.add(parentOf(path).substring(QUOTA_ROOT.length));
    }
  }

  private unindexKind(path: string, node: ZNode): void {
    switch (node.kind) {
      case 'ephemeral': {
        const set = this.ephemerals.get(node.ephemeralOwner);
        if (set) {
          set.delete(path);
          if (set.size === 0) this.ephemerals.delete(node.ephemeralOwner);
        }
        break;
      }
      case 'container':
        this.containers.delete(path);
        break;
      case 'ttl':
        this.ttls.delete(path);
        break;
    }
    if (path.startsWith(QUOTA_ROOT + '/') && baseName(path) === LIMITS_NODE) {
      this.quotaPaths.delete(parentOf(path).substring(QUOTA_ROOT.length));
    }
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path === '' ? '/' : path);
  }

  aclOf(node: ZNode): ACL[] {
    return this.acls.get(node.aclIndex);
  }

  /** Node count as ZooKeeper reports it (the root is also stored under the alias ""). */
  get nodeCount(): number {
    return this.nodes.size + 1;
  }

  /** Pre-order walk, parents before children; the root is reported with path ''. */
  walk(visit: (path: string, node: ZNode) => void): void {
    const stack: string[] = ['/'];
    while (stack.length) {
      const path = stack.pop()!;
      const node = this.nodes.get(path);
      if (!node) continue;
      visit(path === '/' ? '' : path, node);
      for (const c of node.children) stack.push(childPath(path, c));
    }
  }

  countDescendants(path: string): number {
    const node = this.get(path);
    if (!node) return 0;
    let n = 0;
    const stack = [path === '' ? '/' : path];
    while (stack.length) {
      const p = stack.pop()!;
      const nd = this.nodes.get(p);
      if (!nd) continue;
      n += nd.children.size;
      for (const c of nd.children) stack.push(childPath(p, c));
    }
    return n;
  }

  // ---------------------------------------------------------------- apply

  apply(txn: Txn, events: TreeEvent[]): ApplyResult {
    const { hdr, body } = txn;
    const res = this.applyBody(body, hdr.zxid, hdr.time, hdr.clientId, events);
    if (hdr.zxid > this.lastProcessedZxid) this.lastProcessedZxid = hdr.zxid;
    return res;
  }

  private applyBody(body: TxnBody, zxid: number, time: number, clientId: bigint, events: TreeEvent[]): ApplyResult {
    switch (body.type) {
      case OpCode.create:
      case OpCode.create2:
        return this.createNode(body.type, body.path, body.data, body.acl ?? [], body.ephemeral ? clientId : 0n, body.parentCVersion, zxid, time, events);
      case OpCode.createContainer:
        return this.createNode(body.type, body.path, body.data, body.acl ?? [], CONTAINER_EPHEMERAL_OWNER, body.parentCVersion, zxid, time, events);
      case OpCode.createTTL:
        return this.createNode(body.type, body.path, body.data, body.acl ?? [], ttlOwner(body.ttl), body.parentCVersion, zxid, time, events);
      case OpCode.delete:
      case OpCode.deleteContainer:
        return this.deleteNode(body.type, body.path, zxid, events);
      case OpCode.setData:
      case OpCode.reconfig:
        return this.setData(body.type, body.path, body.data, body.version, zxid, time, events);
      case OpCode.setACL:
        return this.setACL(body.path, body.acl ?? [], body.version);
      case OpCode.check:
        return { type: OpCode.check, err: Err.OK };
      case OpCode.error:
        return { type: OpCode.error, err: body.err };
      case OpCode.multi:
        return this.applyMulti(body.txns, zxid, time, clientId, events);
      case OpCode.createSession:
        return { type: body.type, err: Err.OK };
      case OpCode.closeSession: {
        for (const p of body.paths2Delete) this.deleteNode(OpCode.delete, p, zxid, events);
        // Anything the txn did not list (older logs carry no list) goes too.
        const rest = this.ephemerals.get(clientId);
        if (rest) for (const p of [...rest]) this.deleteNode(OpCode.delete, p, zxid, events);
        return { type: body.type, err: Err.OK };
      }
    }
  }

  private applyMulti(txns: TxnBody[], zxid: number, time: number, clientId: bigint, events: TreeEvent[]): ApplyResult {
    const failedAt = txns.findIndex((t) => t.type === OpCode.error);
    if (failedAt >= 0) {
      const results = txns.map((t, i): OpResult => {
        if (t.type === OpCode.error) return { type: OpCode.error, err: t.err };
        return { type: OpCode.error, err: i < failedAt ? Err.OK : Err.RuntimeInconsistency };
      });
      return { type: OpCode.multi, err: Err.OK, results };
    }
    const results = txns.map((t) => this.applyBody(t, zxid, time, clientId, events));
    return { type: OpCode.multi, err: Err.OK, results };
  }

  private createNode(
    type: number,
    path: string,
    data: Buffer | null,
    acl: ACL[],
    owner: bigint,
    parentCVersion: number,
    zxid: number,
    time: number,
    events: TreeEvent[],
  ): ApplyResult {
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) return { type, err: Err.NoNode };
    const cv = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion;
    if (this.nodes.has(path)) {
      // Replay over a fuzzy snapshot: the node is already there, but the parent may lag.
      if (cv > parent.cversion) {
        parent.cversion = cv;
        parent.pzxid = zxid;
      }
      return { type, err: Err.NodeExists };
    }
    if (cv > parent.cversion) parent.cversion = cv;
    parent.pzxid = zxid;
    const node = new ZNode(data, this.acls.intern(acl), zxid, zxid, time, time, 0, 0, 0, owner, zxid);
    this.addNode(path, node);
    this.indexKind(path, node);
    this.onQuotaNodeCreated(path);
    this.updateQuotaUsage(path, 1, data?.length ?? 0);
    events.push({ type: EventType.NodeCreated, path, acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath, acl: this.aclOf(parent) });
    return { type, err: Err.OK, path, stat: node.stat() };
  }

  private deleteNode(type: number, path: string, zxid: number, events: TreeEvent[]): ApplyResult {
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    const node = this.nodes.get(path);
    if (parent && zxid > parent.pzxid) parent.pzxid = zxid;
    if (!node || !parent) return { type, err: Err.NoNode };
    const acl = this.aclOf(node);
    this.nodes.delete(path);
    parent.children.delete(baseName(path));
    this.acls.release(node.aclIndex);
    this.unindexKind(path, node);
    this.approximateDataSize -= path.length + (node.data?.length ?? 0);
    this.updateQuotaUsage(path, -1, -(node.data?.length ?? 0));
    events.push({ type: EventType.NodeDeleted, path, acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath, acl: this.aclOf(parent) });
    return { type, err: Err.OK };
  }

  private setData(type: number, path: string, data: Buffer | null, version: number, zxid: number, time: number, events: TreeEvent[]): ApplyResult {
    const node = this.nodes.get(path);
    if (!node) return { type, err: Err.NoNode };
    const oldLen = node.data?.length ?? 0;
    node.data = data;
    node.version = version;
    node.mzxid = zxid;
    node.mtime = time;
    this.approximateDataSize += (data?.length ?? 0) - oldLen;
    this.updateQuotaUsage(path, 0, (data?.length ?? 0) - oldLen);
    events.push({ type: EventType.NodeDataChanged, path, acl: this.aclOf(node) });
    return { type, err: Err.OK, stat: node.stat() };
  }

  private setACL(path: string, acl: ACL[], version: number): ApplyResult {
    const node = this.nodes.get(path);
    if (!node) return { type: OpCode.setACL, err: Err.NoNode };
    this.acls.release(node.aclIndex);
    node.aclIndex = this.acls.intern(acl);
    node.aversion = version;
    return { type: OpCode.setACL, err: Err.OK, stat: node.stat() };
  }

  // ---------------------------------------------------------------- quotas

  /** The deepest path with a quota that `path` falls under (path itself included). */
  quotaRootFor(path: string): string | null {
    // Nodes under /zookeeper/quota count too (ZooKeeper's getMaxPrefixWithQuota), so a
    // quota on /zookeeper also counts its own stats node.
    if (this.quotaPaths.size === 0) return null;
    let p = path;
    for (;;) {
      if (p === '/' || p === '') return null;
      if (this.quotaPaths.has(p)) return p;
      p = parentOf(p);
    }
  }

  private onQuotaNodeCreated(path: string): void {
    if (!path.startsWith(QUOTA_ROOT + '/') || baseName(path) !== STATS_NODE) return;
    // Creating zookeeper_stats makes the server compute the usage right away.
    const target = parentOf(path).substring(QUOTA_ROOT.length);
    let count = 0, bytes = 0;
    const start = this.nodes.get(target);
    if (start) {
      const stack = [target];
      while (stack.length) {
        const p = stack.pop()!;
        const n = this.nodes.get(p);
        if (!n) continue;
        count++;
        bytes += n.data?.length ?? 0;
        for (const c of n.children) stack.push(childPath(p, c));
      }
    }
    this.writeStats(path, StatsTrack.usage(count, bytes));
  }

  private updateQuotaUsage(path: string, countDiff: number, bytesDiff: number): void {
    const root = this.quotaRootFor(path);
    if (root === null) return;
    const sp = statsPath(root);
    const node = this.nodes.get(sp);
    if (!node) return;
    const cur = new StatsTrack(node.data?.toString('utf8'));
    this.writeStats(sp, StatsTrack.usage(cur.count + countDiff, cur.bytes + bytesDiff));
  }

  /** Stats data is updated in place: the node's Stat does not change. */
  private writeStats(statsNodePath: string, text: string): void {
    const node = this.nodes.get(statsNodePath);
    if (!node) return;
    const data = Buffer.from(text, 'utf8');
    this.approximateDataSize += data.length - (node.data?.length ?? 0);
    node.data = data;
  }

  /** Hard-limit check for enforceQuota: would adding count/bytes under `path` exceed a limit? */
  exceedsQuota(path: string, countDiff: number, bytesDiff: number): boolean {
    const root = this.quotaRootFor(path);
    if (root === null) return false;
    const limits = new StatsTrack(this.nodes.get(limitsPath(root))?.data?.toString('utf8'));
    const usage = new StatsTrack(this.nodes.get(statsPath(root))?.data?.toString('utf8'));
    const countLimit = limits.countHardLimit, byteLimit = limits.byteHardLimit;
    if (countDiff > 0 && countLimit > -1 && usage.count + countDiff > countLimit) return true;
    if (bytesDiff > 0 && byteLimit > -1 && usage.bytes + bytesDiff > byteLimit) return true;
    return false;
  }
}
