// The in-memory znode tree and the deterministic application of txns to it.
// Prep-time validation lives in the server pipeline; apply here only tolerates what replay
// over a fuzzy snapshot can produce (existing/missing nodes), as ZooKeeper does.
import type { ACL, Stat, StatPersisted } from '../protocol/records.js';
import { Err, EventType, OpCode, CONTAINER_EPHEMERAL_OWNER } from '../protocol/constants.js';
import type { Txn, TxnBody } from '../protocol/txn.js';
import { ACLCache, OPEN_ACL_INDEX, READ_ACL_UNSAFE } from './ACLCache.js';
import { ZNode, statOf, ttlOwner } from './ZNode.js';
import { NIL, NodeStore } from './NodeStore.js';
import { CONFIG_NODE, QUOTA_ROOT, baseName, parentOf } from './paths.js';
import { LIMITS_NODE, STATS_NODE, StatsTrack, limitsPath, statsPath } from './Quotas.js';
import { DIGEST_VERSION, DigestSum, joinInt64, storedNodeDigest, type ZxidDigestValue } from './DigestCalculator.js';

/** Tree digests are kept for `hash` at zxids that are multiples of this (ZooKeeper's DIGEST_LOG_INTERVAL). */
export const DIGEST_LOG_INTERVAL = 128;
/** At most this many are kept (DIGEST_LOG_LIMIT). */
export const DIGEST_LOG_LIMIT = 1024;

/** Thrown on a digest mismatch when assertions are on (tests): the tree diverged from the txn log. */
export class DigestMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestMismatchError';
  }
}

// Tests run with ZK_DIGEST_ASSERT=1 so that any divergence between a prepared txn's digest and
// the tree after applying it fails loudly instead of only being counted.
let assertDigests = process.env.ZK_DIGEST_ASSERT === '1';

/** Turn digest assertions on or off for this process (tests). */
export function setDigestAssertions(on: boolean): void {
  assertDigests = on;
}

export function digestAssertionsEnabled(): boolean {
  return assertDigests;
}

export interface DataTreeOptions {
  /** zookeeper.digest.enabled (default true). Off: every digest is 0 and txns carry none. */
  digestEnabled?: boolean;
}

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
  /** Every znode's fields, data and links (see NodeStore); DataTree hands out ZNode handles on it. */
  readonly store = new NodeStore();
  readonly acls = new ACLCache();
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  /** Paths (client-side) that have a zookeeper_limits node. */
  readonly quotaPaths = new Set<string>();
  lastProcessedZxid = 0;
  /** Sum of path lengths and data lengths, as `zk_approximate_data_size` reports. */
  approximateDataSize = 0;

  private digestOn: boolean;
  private readonly digestSum = new DigestSum();
  // The digest right after the last applied txn, as numbers (a txn applied costs no object or
  // bigint for it); lastProcessedZxidDigest makes the record when asked.
  private lastDigestZxid = -1;
  private lastDigestHi = 0;
  private lastDigestLo = 0;

  /** Digest right after the last applied txn, once the tree is past any fuzzy snapshot range. */
  get lastProcessedZxidDigest(): ZxidDigestValue | null {
    if (this.lastDigestZxid < 0) return null;
    return { zxid: this.lastDigestZxid, digestVersion: DIGEST_VERSION, digest: joinInt64(this.lastDigestHi, this.lastDigestLo) };
  }

  /** Keep the tree digest as it is now as the one after txn `zxid`. */
  private keepLastDigest(zxid: number): void {
    this.lastDigestZxid = zxid;
    // Digests off: the tree digest is 0.
    this.lastDigestHi = this.digestOn ? this.digestSum.high : 0;
    this.lastDigestLo = this.digestOn ? this.digestSum.low : 0;
  }
  /**
   * The ZxidDigest of the snapshot this tree was loaded from, while replay has not reached its
   * zxid yet: until then the tree is "fuzzy" and txn digests are not compared.
   */
  digestFromLoadedSnapshot: ZxidDigestValue | null = null;
  private readonly digestHistory: ZxidDigestValue[] = [];
  /** digest_mismatches_count: txn or snapshot digests that disagreed with this tree. */
  digestMismatches = 0;
  /** Where mismatches and digest warnings are reported (the server's log). */
  digestReporter: ((message: string) => void) | null = null;
  private warnedMissingSnapshotZxid = false;
  /**
   * Assertion mode only: a snapshot digest that disagreed with the tree, counted and reported
   * but not thrown yet. ZooKeeper's snapshot thread reads the trailer digest (the one of the
   * last txn applied in full) while the next txn may be half-way through being applied, so a
   * snapshot it wrote can hold changes of the txn after the digest's zxid; ZooKeeper itself
   * counts a mismatch when it loads such a file. Replay re-applies that txn over its own
   * effects, so the first later txn that carries a digest settles it: agreeing, the tree has
   * converged and only the file's trailer lagged; disagreeing, the tree really diverged.
   */
  private unsettledSnapshotMismatch: { zxid: number; detail: string } | null = null;

  constructor(empty = false, opts: DataTreeOptions = {}) {
    this.digestOn = opts.digestEnabled ?? true;
    if (empty) return;
    const root = new ZNode(this.store, this.store.createRoot());
    root.aclIndex = OPEN_ACL_INDEX;
    this.addDigest('/', root);
    this.addBlank('/zookeeper', OPEN_ACL_INDEX);
    this.addBlank(QUOTA_ROOT, OPEN_ACL_INDEX);
    const config = this.addBlank(CONFIG_NODE, this.acls.intern(READ_ACL_UNSAFE));
    this.preChange(CONFIG_NODE, config);
    config.aversion = -1;
    this.postChange(CONFIG_NODE, config);
  }

  private addBlank(path: string, aclIndex: number): ZNode {
    return this.addNode(this.store.lookup(parentOf(path)), path, null, 0, 0, aclIndex, 0, 0, 0, 0, 0, 0, 0, 0n, 0);
  }

  /**
   * A new node at `path` under `parent` (which must not have it yet; NIL: the root), with its data taken from
   * src[dataStart, dataStart + dataLen) (dataLen -1: null data), counted in the data size and
   * the digest. Kinds are indexed by the caller.
   */
  private addNode(
    parent: number, path: string, src: Uint8Array | null, dataStart: number, dataLen: number, aclIndex: number,
    czxid: number, mzxid: number, ctime: number, mtime: number, version: number, cversion: number, aversion: number,
    owner: bigint, pzxid: number,
  ): ZNode {
    const st = this.store;
    const id = parent === NIL ? st.createRoot() : st.createChild(parent, path, path.lastIndexOf('/') + 1, path.length);
    if (id === NIL) throw new Error(`Invalid Datatree, ${path} appears twice`);
    st.czxid[id] = czxid;
    st.mzxid[id] = mzxid;
    st.ctime[id] = ctime;
    st.mtime[id] = mtime;
    st.version[id] = version;
    st.cversion[id] = cversion;
    st.aversion[id] = aversion;
    st.pzxid[id] = pzxid;
    st.aclIndex[id] = aclIndex;
    if (owner !== 0n) st.setOwner(id, owner);
    if (dataLen !== 0) st.setDataBytes(id, src, dataStart, dataLen);
    this.approximateDataSize += path.length + (dataLen > 0 ? dataLen : 0);
    if (this.digestOn) {
      this.digestSum.add(this.digestAt(path, id));
    }
    return new ZNode(st, id);
  }

  // ---------------------------------------------------------------- digest

  get digestEnabled(): boolean {
    return this.digestOn;
  }

  /** Switch digests on or off; the sum is recomputed from every node. */
  setDigestEnabled(on: boolean): void {
    if (on === this.digestOn) return;
    this.digestOn = on;
    this.digestSum.clear();
    this.walk((path, node) => this.addDigest(path === '' ? '/' : path, node));
  }

  /** The tree digest: wrapping sum of every node's digest (0 when digests are off). */
  treeDigest(): bigint {
    return this.digestOn ? this.digestSum.value : 0n;
  }

  /**
   * One node's digest as the tree holds it now (0 under /zookeeper/ or when off). Computed each
   * time (a CRC over ~200 bytes) rather than cached: a cache column is 4 MB per million znodes.
   */
  nodeDigest(path: string, node: ZNode): number {
    if (!this.digestOn) return 0;
    return this.digestAt(path, node.id);
  }

  /**
   * nodeDigest of the node at `path`, or -1 when there is none: for a caller that needs only the
   * digest, without a ZNode handle or a copy of the data.
   */
  nodeDigestAt(path: string): number {
    const id = this.store.lookup(path);
    if (id === NIL) return -1;
    return this.digestOn ? this.digestAt(path, id) : 0;
  }

  /** The digest of node `id` straight from the store's columns and data arena (nothing allocated). */
  private digestAt(path: string, id: number): number {
    return storedNodeDigest(path, this.store, id);
  }

  private addDigest(path: string, node: ZNode): void {
    if (this.digestOn) this.digestSum.add(this.digestAt(path, node.id));
  }

  private removeDigest(path: string, node: ZNode): void {
    if (this.digestOn) this.digestSum.remove(this.digestAt(path, node.id));
  }

  /** Before changing a node's data or Stat: take its digest out of the sum. */
  private preChange(path: string, node: ZNode): void {
    this.removeDigest(path, node);
  }

  /** After the change: the node's digest goes back in, recomputed. */
  private postChange(path: string, node: ZNode): void {
    this.addDigest(path, node);
  }

  /** Recent tree digests (zxids that are multiples of 128), oldest first: what `hash` prints. */
  digestLog(): ZxidDigestValue[] {
    return this.digestHistory.slice();
  }

  private logZxidDigest(zxid: number): void {
    this.keepLastDigest(zxid);
    if (zxid % DIGEST_LOG_INTERVAL === 0) {
      this.digestHistory.push(this.lastProcessedZxidDigest!);
      if (this.digestHistory.length > DIGEST_LOG_LIMIT) this.digestHistory.shift();
    }
  }

  /**
   * Take the ZxidDigest read from the snapshot this tree came from (`snapZxid` is the zxid in the
   * file name, already the tree's lastProcessedZxid). A digest at the snapshot's own zxid is
   * checked at once; a later one waits until replay reaches it. Zxid 0 means "no digest".
   */
  loadSnapshotDigest(d: ZxidDigestValue | null, snapZxid: number): void {
    this.digestFromLoadedSnapshot = null;
    this.unsettledSnapshotMismatch = null;
    if (!this.digestOn || !d || d.zxid <= 0) return;
    // A digest older than the snapshot's zxid (a new leader's epoch snapshot) says nothing here.
    if (d.zxid < snapZxid) return;
    this.digestFromLoadedSnapshot = d;
    this.compareSnapshotDigest(snapZxid);
  }

  private compareSnapshotDigest(zxid: number): void {
    const d = this.digestFromLoadedSnapshot!;
    if (zxid === d.zxid) {
      this.digestFromLoadedSnapshot = null;
      if (d.digestVersion !== DIGEST_VERSION) return;
      const actual = this.treeDigest();
      if (actual !== d.digest) {
        const detail = `snapshot digest at zxid 0x${zxid.toString(16)} is ${d.digest}, the tree's is ${actual}`;
        this.reportDigestMismatch(zxid, detail, false);
        if (assertDigests) this.unsettledSnapshotMismatch = { zxid, detail };
      }
    } else if (zxid > d.zxid && !this.warnedMissingSnapshotZxid) {
      // The snapshot's digest zxid was never replayed: comparisons stay off, as in ZooKeeper.
      this.warnedMissingSnapshotZxid = true;
      this.digestReporter?.(`the txn 0x${d.zxid.toString(16)} of the snapshot digest does not exist`);
    }
  }

  /** Compare the tree with the digest a txn carries (after applying it). */
  private compareTxnDigest(txn: Txn): void {
    const d = txn.digest;
    if (!d || !this.digestOn || this.digestFromLoadedSnapshot) return;
    if (d.version !== DIGEST_VERSION) return;
    const zxid = txn.hdr.zxid;
    const unsettled = this.unsettledSnapshotMismatch;
    // Compared as halves: the agreeing case (every txn) makes no bigint.
    if (!this.digestSum.equals(d.treeDigest)) {
      const actual = this.treeDigest();
      let detail = `txn 0x${zxid.toString(16)} (type ${txn.hdr.type}) carries digest ${d.treeDigest}, the tree's is ${actual}`;
      // The txn at the snapshot digest's own zxid carries the same value as the lagging trailer:
      // counted (ZooKeeper counts it too), left for a later txn to settle.
      const settlesLater = unsettled !== null && zxid <= unsettled.zxid;
      if (unsettled && !settlesLater) detail += `; the snapshot's did not settle either (${unsettled.detail})`;
      this.reportDigestMismatch(zxid, detail, !settlesLater);
    } else if (unsettled && zxid > unsettled.zxid) {
      this.unsettledSnapshotMismatch = null;
      this.digestReporter?.(
        `the tree agrees with txn 0x${zxid.toString(16)}: the snapshot held changes of txns after its digest's zxid 0x${unsettled.zxid.toString(16)}`,
      );
    }
  }

  /**
   * After replay: in assertion mode, a snapshot digest mismatch that no later txn digest settled
   * means the tree could not be shown to have converged, and that fails.
   */
  assertSnapshotDigestSettled(): void {
    const unsettled = this.unsettledSnapshotMismatch;
    if (!unsettled || !assertDigests) return;
    this.unsettledSnapshotMismatch = null;
    throw new DigestMismatchError(`${unsettled.detail}, and no later txn digest shows the tree converged`);
  }

  private reportDigestMismatch(zxid: number, detail: string, fatalWhenAsserting: boolean): void {
    this.digestMismatches++;
    this.digestReporter?.(`Digests are not matching. Value is Zxid. ${zxid}: ${detail}`);
    if (assertDigests && fatalWhenAsserting) throw new DigestMismatchError(detail);
  }

  static fromSnapshot(
    acls: Iterable<[number, ACL[]]>,
    nodes: Iterable<{ path: string; data: Buffer | null; aclIndex: number; stat: StatPersisted }>,
    opts: DataTreeOptions = {},
  ): DataTree {
    const t = DataTree.beginLoad(acls, opts);
    for (const n of nodes) {
      const s = n.stat;
      t.loadNode(n.path, n.data, n.aclIndex, s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion, s.ephemeralOwner, s.pzxid);
    }
    t.finishLoad();
    return t;
  }

  /**
   * Loading a snapshot node by node (parents first, root as ''), without an intermediate record
   * per node: beginLoad, loadNode for each, then finishLoad. fromSnapshot is the same over records.
   */
  static beginLoad(acls: Iterable<[number, ACL[]]>, opts: DataTreeOptions = {}): DataTree {
    const t = new DataTree(true, opts);
    for (const [i, list] of acls) t.acls.load(i, list);
    return t;
  }

  private loadParentPath: string | null = null;
  private loadParent = NIL;

  /** One snapshot node (parents before children; the root as ''). */
  loadNode(
    diskPath: string, data: Buffer | null, aclIndex: number, czxid: number, mzxid: number, ctime: number,
    mtime: number, version: number, cversion: number, aversion: number, ephemeralOwner: bigint, pzxid: number,
  ): void {
    this.loadNodeBytes(diskPath, data, 0, data === null ? -1 : data.length, aclIndex, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
  }

  /** loadNode with the data as src[dataStart, dataStart + dataLen) (-1: null): copied straight in. */
  loadNodeBytes(
    diskPath: string, src: Uint8Array | null, dataStart: number, dataLen: number, aclIndex: number, czxid: number,
    mzxid: number, ctime: number, mtime: number, version: number, cversion: number, aversion: number,
    ephemeralOwner: bigint, pzxid: number,
  ): void {
    const path = diskPath === '' ? '/' : diskPath;
    const st = this.store;
    let node: ZNode;
    if (path === '/') {
      if (st.count !== 0) throw new Error('Invalid Datatree, the root appears twice');
      node = this.addNode(NIL, path, src, dataStart, dataLen, aclIndex, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
    } else {
      // Snapshots list nodes in pre-order, so siblings come in runs: the last parent looked up
      // is usually this one's, which saves walking its path for every node.
      const slash = path.lastIndexOf('/');
      const last = this.loadParentPath;
      let parent: number;
      if (last !== null && (slash <= 0 ? last === '/' : slash === last.length && path.startsWith(last))) {
        parent = this.loadParent;
      } else {
        const parentPath = slash <= 0 ? '/' : path.substring(0, slash);
        parent = st.lookup(parentPath);
        if (parent === NIL) throw new Error(`Invalid Datatree, unable to find parent ${parentPath} of path ${path}`);
        this.loadParentPath = parentPath;
        this.loadParent = parent;
      }
      node = this.addNode(parent, path, src, dataStart, dataLen, aclIndex, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid);
    }
    this.acls.addRef(aclIndex);
    this.indexKind(path, node);
  }

  finishLoad(): void {
    this.loadParentPath = null;
    this.loadParent = NIL;
    if (this.store.count === 0) throw new Error('snapshot has no root node');
    this.acls.purgeUnused();
    this.recountQuotaUsage();
  }

  /**
   * Rewrite every zookeeper_stats node from the tree, as ZooKeeper does after reading a snapshot:
   * a fuzzy snapshot can hold a stats node as its create txn wrote it, before the server filled
   * in the usage, and replaying that create finds the node there and changes nothing. Only
   * zookeeper_limits leaves count, the quota path ending at the first "/zookeeper_limits".
   */
  private recountQuotaUsage(): void {
    const suffix = '/' + LIMITS_NODE;
    this.walk((path, node) => {
      if (!path.startsWith(QUOTA_ROOT + '/') || !path.endsWith(suffix) || node.numChildren > 0) return;
      const quotaPath = path.substring(QUOTA_ROOT.length, path.indexOf(suffix));
      const { count, bytes } = this.subtreeUsage(quotaPath);
      this.writeStats(statsPath(quotaPath), StatsTrack.usage(count, bytes));
    }, QUOTA_ROOT);
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
    const id = this.store.lookup(path);
    return id === NIL ? undefined : new ZNode(this.store, id);
  }

  aclOf(node: ZNode): ACL[] {
    return this.acls.get(node.aclIndex);
  }

  /** Node count as ZooKeeper reports it (the root is also stored under the alias ""). */
  get nodeCount(): number {
    return this.store.count + 1;
  }

  /**
   * Pre-order walk, parents before children, the newest child first; the root is reported with
   * path ''. `from` starts at another node (its subtree only). The visitor may change data and
   * Stat but not add or remove nodes.
   */
  walk(visit: (path: string, node: ZNode) => void, from = '/'): void {
    const st = this.store;
    const start = st.lookup(from);
    if (start === NIL) return;
    const ids: number[] = [start];
    const paths: string[] = [from === '' ? '/' : from];
    const node = new ZNode(st, start);
    while (ids.length) {
      const id = ids.pop()!;
      const path = paths.pop()!;
      visit(path === '/' ? '' : path, id === node.id ? node : new ZNode(st, id));
      const prefix = path === '/' ? '/' : path + '/';
      for (let c = st.firstChild[id]!; c !== NIL; c = st.nextSibling[c]!) {
        ids.push(c);
        paths.push(prefix + st.name(c));
      }
    }
  }

  countDescendants(path: string): number {
    const st = this.store;
    const start = st.lookup(path);
    if (start === NIL) return 0;
    let n = 0;
    const stack = [start];
    while (stack.length) {
      const id = stack.pop()!;
      n += st.numChildren[id]!;
      for (let c = st.firstChild[id]!; c !== NIL; c = st.nextSibling[c]!) stack.push(c);
    }
    return n;
  }

  // ---------------------------------------------------------------- apply

  /**
   * Apply one txn. Afterwards the tree digest is recorded for the txn's zxid and compared with the
   * digest the txn carries (unless replay is still inside a fuzzy snapshot's range); a mismatch is
   * counted and reported, nothing else (ZooKeeper 3.8 takes no other action).
   */
  apply(txn: Txn, events: TreeEvent[], withStats = true): ApplyResult {
    const { hdr, body } = txn;
    this.withStats = withStats;
    let res: ApplyResult;
    try {
      res = this.applyBody(body, hdr.zxid, hdr.time, hdr.clientId, events);
    } finally {
      this.withStats = true;
    }
    if (hdr.zxid > this.lastProcessedZxid) this.lastProcessedZxid = hdr.zxid;
    if (this.digestFromLoadedSnapshot) this.compareSnapshotDigest(hdr.zxid);
    else this.logZxidDigest(hdr.zxid);
    this.compareTxnDigest(txn);
    return res;
  }

  /**
   * Delete a session's ephemerals outside the txn log (orphans found at startup). The digest
   * recorded for `zxid` is brought up to date so that a snapshot taken next describes this tree.
   */
  killSession(sessionId: bigint, zxid: number): string[] {
    const paths = [...(this.ephemerals.get(sessionId) ?? [])];
    for (const p of paths) this.deleteNode(OpCode.delete, p, zxid, []);
    if (this.lastDigestZxid === zxid) this.keepLastDigest(zxid);
    return paths;
  }

  /**
   * Whether the txn being applied reports the Stat of the nodes it changes (apply's `withStats`):
   * a Stat is an object with five boxed doubles, made for every write, and only a member with a
   * client waiting for the write has a use for it. A field rather than a parameter of every step.
   */
  private withStats = true;

  private applyBody(body: TxnBody, zxid: number, time: number, clientId: bigint, events: TreeEvent[]): ApplyResult {
    switch (body.type) {
      case OpCode.create:
      case OpCode.create2:
        return this.createNode(body.type, body.path, body.data, body.acl ?? [], body.ephemeral ? clientId : 0n, body.parentCVersion, zxid, time, events, body.type === OpCode.create);
      case OpCode.createContainer:
        return this.createNode(body.type, body.path, body.data, body.acl ?? [], CONTAINER_EPHEMERAL_OWNER, body.parentCVersion, zxid, time, events, false);
      case OpCode.createTTL:
        return this.createNode(body.type, body.path, body.data, body.acl ?? [], ttlOwner(body.ttl), body.parentCVersion, zxid, time, events, false);
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
    /** A top-level `create` that finds its node already there still advances the parent (below). */
    adjustParentOnExists: boolean,
  ): ApplyResult {
    const parentPath = parentOf(path);
    const st = this.store;
    const parentId = st.lookup(parentPath);
    if (parentId === NIL) return { type, err: Err.NoNode };
    const parent = new ZNode(st, parentId);
    const cv = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion;
    if (st.childNamed(parentId, path, path.lastIndexOf('/') + 1, path.length) !== NIL) {
      // Replay over a fuzzy snapshot: a node deleted by a closeSession and recreated by another
      // session is already there, but its parent may lag. ZooKeeper fixes the parent up for
      // `create` only (not create2/container/TTL), a multi's create ops included since each op
      // goes through the same step with its own type; the digest has to follow the same rule.
      if (adjustParentOnExists && cv > parent.cversion) {
        this.preChange(parentPath, parent);
        parent.cversion = cv;
        parent.pzxid = zxid;
        this.postChange(parentPath, parent);
      }
      return { type, err: Err.NodeExists };
    }
    // Only a newer cversion moves the parent: replaying a create whose node was created and
    // deleted inside a fuzzy snapshot's range must not take cversion or pzxid back.
    if (cv > parent.cversion) {
      this.preChange(parentPath, parent);
      parent.cversion = cv;
      parent.pzxid = zxid;
      this.postChange(parentPath, parent);
    }
    const node = this.addNode(parentId, path, data, 0, data === null ? -1 : data.length, this.acls.intern(acl), zxid, zxid, time, time, 0, 0, 0, owner, zxid);
    this.indexKind(path, node);
    this.onQuotaNodeCreated(path);
    this.updateQuotaUsage(path, 1, data?.length ?? 0);
    events.push({ type: EventType.NodeCreated, path, acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath, acl: this.aclOf(parent) });
    return { type, err: Err.OK, path, stat: this.withStats ? node.stat() : undefined };
  }

  private deleteNode(type: number, path: string, zxid: number, events: TreeEvent[]): ApplyResult {
    const parentPath = parentOf(path);
    const parent = this.get(parentPath);
    const node = this.get(path);
    if (parent && zxid > parent.pzxid) {
      this.preChange(parentPath, parent);
      parent.pzxid = zxid;
      this.postChange(parentPath, parent);
    }
    if (!node || !parent) return { type, err: Err.NoNode };
    const acl = this.aclOf(node);
    const dataLength = node.dataLength;
    this.removeDigest(path, node);
    this.acls.release(node.aclIndex);
    this.unindexKind(path, node);
    // Last: the handle's id is free for reuse from here on.
    this.store.remove(node.id);
    this.approximateDataSize -= path.length + dataLength;
    this.updateQuotaUsage(path, -1, -dataLength);
    events.push({ type: EventType.NodeDeleted, path, acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath, acl: this.aclOf(parent) });
    return { type, err: Err.OK };
  }

  // The commonest write: works on the node's id, with no ZNode handle or data view made.
  private setData(type: number, path: string, data: Buffer | null, version: number, zxid: number, time: number, events: TreeEvent[]): ApplyResult {
    const st = this.store;
    const id = st.lookup(path);
    if (id === NIL) return { type, err: Err.NoNode };
    const oldLen = st.dataLen[id]!;
    if (this.digestOn) this.digestSum.remove(this.digestAt(path, id));
    st.setData(id, data);
    st.version[id] = version;
    st.mzxid[id] = zxid;
    st.mtime[id] = time;
    if (this.digestOn) this.digestSum.add(this.digestAt(path, id));
    const diff = (data === null ? 0 : data.length) - oldLen;
    this.approximateDataSize += diff;
    this.updateQuotaUsage(path, 0, diff);
    events.push({ type: EventType.NodeDataChanged, path, acl: this.acls.get(st.aclIndex[id]!) });
    return { type, err: Err.OK, stat: this.withStats ? statOf(st, id) : undefined };
  }

  private setACL(path: string, acl: ACL[], version: number): ApplyResult {
    const node = this.get(path);
    if (!node) return { type: OpCode.setACL, err: Err.NoNode };
    this.acls.release(node.aclIndex);
    node.aclIndex = this.acls.intern(acl);
    this.preChange(path, node);
    node.aversion = version;
    this.postChange(path, node);
    return { type: OpCode.setACL, err: Err.OK, stat: this.withStats ? node.stat() : undefined };
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
    const { count, bytes } = this.subtreeUsage(parentOf(path).substring(QUOTA_ROOT.length));
    this.writeStats(path, StatsTrack.usage(count, bytes));
  }

  /** Nodes and data bytes of the subtree at `path` (a quota path; '' is the root). */
  private subtreeUsage(path: string): { count: number; bytes: number } {
    let count = 0, bytes = 0;
    const st = this.store;
    const start = st.lookup(path);
    if (start === NIL) return { count, bytes };
    const stack = [start];
    while (stack.length) {
      const id = stack.pop()!;
      count++;
      bytes += st.dataLen[id]!;
      for (let c = st.firstChild[id]!; c !== NIL; c = st.nextSibling[c]!) stack.push(c);
    }
    return { count, bytes };
  }

  private updateQuotaUsage(path: string, countDiff: number, bytesDiff: number): void {
    const root = this.quotaRootFor(path);
    if (root === null) return;
    const sp = statsPath(root);
    const id = this.store.lookup(sp);
    if (id === NIL) return;
    const cur = new StatsTrack(this.store.dataText(id));
    this.writeStats(sp, StatsTrack.usage(cur.count + countDiff, cur.bytes + bytesDiff));
  }

  /** Stats data is updated in place: the node's Stat does not change. */
  private writeStats(statsNodePath: string, text: string): void {
    const node = this.get(statsNodePath);
    if (!node) return;
    const data = Buffer.from(text, 'utf8');
    this.approximateDataSize += data.length - node.dataLength;
    this.preChange(statsNodePath, node);
    node.data = data;
    this.postChange(statsNodePath, node);
  }

  private dataText(path: string): string | undefined {
    const id = this.store.lookup(path);
    return id === NIL ? undefined : this.store.dataText(id);
  }

  /** Hard-limit check for enforceQuota: would adding count/bytes under `path` exceed a limit? */
  exceedsQuota(path: string, countDiff: number, bytesDiff: number): boolean {
    const root = this.quotaRootFor(path);
    if (root === null) return false;
    const limits = new StatsTrack(this.dataText(limitsPath(root)));
    const usage = new StatsTrack(this.dataText(statsPath(root)));
    const countLimit = limits.countHardLimit, byteLimit = limits.byteHardLimit;
    if (countDiff > 0 && countLimit > -1 && usage.count + countDiff > countLimit) return true;
    if (bytesDiff > 0 && byteLimit > -1 && usage.bytes + bytesDiff > byteLimit) return true;
    return false;
  }
}
