// Execution of the requests that change nothing (reads, pings, watch registration, whoAmI,
// multiRead): they run against the applied tree, in the session's order, and register watches
// on the asking connection. Check order and error codes follow ZooKeeper 3.8 (FinalRequestProcessor).
import { Reader } from '../jute/archive.js';
import { Err, EventType, OpCode, Perm, ZkError } from '../protocol/constants.js';
import {
  AddWatchRequest, CheckWatchesRequest, ErrorResponse, ExistsRequest, ExistsResponse, GetACLRequest, GetACLResponse,
  GetAllChildrenNumberRequest, GetAllChildrenNumberResponse, GetChildren2Response, GetChildrenRequest,
  GetChildrenResponse, GetDataRequest, GetDataResponse, GetEphemeralsRequest, GetEphemeralsResponse, MultiHeader,
  SetWatches, SetWatches2, SyncRequest, SyncResponse, WhoAmIResponse,
} from '../protocol/records.js';
import { javaSetOrder } from '../auth/AuthProviders.js';
import type { DataTree } from '../tree/DataTree.js';
import type { ZNode } from '../tree/ZNode.js';
import type { WatchManager } from '../tree/WatchManager.js';
import { hasPerm, maskDigests } from './AclCheck.js';
import type { ClientChannel } from './pipeline/ClientChannel.js';
import { MultiResponse, type MultiOpResult } from './MultiResult.js';

export interface ReadContext {
  readonly tree: DataTree;
  readonly watches: WatchManager;
  readonly skipACL: boolean;
  /** Largest buffer/string a request field may declare. */
  readonly maxFieldBytes: number;
  /** A read returned `bytes` (data, or children's names) of `path` (read_per_namespace). */
  recordRead(path: string, bytes: number): void;
}

export const READ_OPS = new Set<number>([
  OpCode.exists, OpCode.getData, OpCode.getACL, OpCode.getChildren, OpCode.sync, OpCode.ping, OpCode.getChildren2,
  OpCode.checkWatches, OpCode.removeWatches, OpCode.multiRead, OpCode.setWatches, OpCode.getEphemerals,
  OpCode.getAllChildrenNumber, OpCode.setWatches2, OpCode.addWatch, OpCode.whoAmI,
]);

function existing(tree: DataTree, path: string): ZNode {
  const n = tree.get(path);
  if (!n) throw new ZkError(Err.NoNode);
  return n;
}

function requireRead(ctx: ReadContext, conn: ClientChannel, node: ZNode): void {
  if (!hasPerm(ctx.tree.aclOf(node), Perm.READ, conn.identities, ctx.skipACL)) throw new ZkError(Err.NoAuth);
}

/** Run one read request and send its reply; returns the reply size. Throws ZkError for error replies. */
export function executeReadRequest(ctx: ReadContext, conn: ClientChannel, type: number, xid: number, body: Buffer, zxid: number): number {
  const r = new Reader(body, 0, body.length, ctx.maxFieldBytes);
  const { tree, watches } = ctx;
  switch (type) {
    case OpCode.ping:
      return conn.reply(xid, zxid, 0);
    case OpCode.exists: {
      const q = ExistsRequest.read(r);
      if (q.path.indexOf('\u0000') >= 0) throw new ZkError(Err.BadArguments);
      const path = q.path === '' ? '/' : q.path;
      // The watch is set even when the node is missing: that is how "wait for creation" works.
      if (q.watch) watches.addDataWatch(path, conn);
      const n = existing(tree, path);
      ctx.recordRead(path, 0);
      return conn.reply(xid, zxid, 0, ExistsResponse, { stat: n.stat() });
    }
    case OpCode.getData: {
      const q = GetDataRequest.read(r);
      const path = q.path === '' ? '/' : q.path;
      const n = existing(tree, path);
      requireRead(ctx, conn, n);
      if (q.watch) watches.addDataWatch(path, conn);
      ctx.recordRead(path, n.data?.length ?? 0);
      return conn.reply(xid, zxid, 0, GetDataResponse, { data: n.data, stat: n.stat() });
    }
    case OpCode.getACL: {
      const q = GetACLRequest.read(r);
      const n = existing(tree, q.path);
      const acl = tree.aclOf(n);
      const admin = hasPerm(acl, Perm.ADMIN, conn.identities, ctx.skipACL);
      if (!admin && !hasPerm(acl, Perm.READ, conn.identities, ctx.skipACL)) throw new ZkError(Err.NoAuth);
      return conn.reply(xid, zxid, 0, GetACLResponse, { acl: admin ? acl : maskDigests(acl), stat: n.stat() });
    }
    case OpCode.getChildren:
    case OpCode.getChildren2: {
      const q = GetChildrenRequest.read(r);
      const path = q.path === '' ? '/' : q.path;
      const n = existing(tree, path);
      requireRead(ctx, conn, n);
      if (q.watch) watches.addChildWatch(path, conn);
      const children = [...n.children];
      let nameBytes = 0;
      for (const c of children) nameBytes += c.length;
      ctx.recordRead(path, nameBytes);
      if (type === OpCode.getChildren) return conn.reply(xid, zxid, 0, GetChildrenResponse, { children });
      return conn.reply(xid, zxid, 0, GetChildren2Response, { children, stat: n.stat() });
    }
    case OpCode.getAllChildrenNumber: {
      const q = GetAllChildrenNumberRequest.read(r);
      requireRead(ctx, conn, existing(tree, q.path));
      return conn.reply(xid, zxid, 0, GetAllChildrenNumberResponse, { totalNumber: tree.countDescendants(q.path) });
    }
    case OpCode.sync: {
      const q = SyncRequest.read(r);
      return conn.reply(xid, zxid, 0, SyncResponse, { path: q.path });
    }
    case OpCode.getEphemerals: {
      const q = GetEphemeralsRequest.read(r);
      // A plain string prefix: "/a" also matches "/ab"; empty, blank or "/" means all.
      const prefix = q.prefixPath == null || q.prefixPath.trim() === '' || q.prefixPath === '/' ? '' : q.prefixPath;
      const mine = tree.ephemerals.get(conn.sessionId) ?? new Set<string>();
      return conn.reply(xid, zxid, 0, GetEphemeralsResponse, { ephemerals: [...mine].filter((p) => p.startsWith(prefix)) });
    }
    case OpCode.whoAmI: {
      const clientInfo = javaSetOrder(conn.identities).map((id) => ({
        authScheme: id.scheme,
        user: id.scheme === 'digest' ? id.id.split(':')[0]! : id.scheme === 'ip' ? id.id : '',
      }));
      return conn.reply(xid, zxid, 0, WhoAmIResponse, { clientInfo });
    }
    case OpCode.addWatch: {
      const q = AddWatchRequest.read(r);
      if (q.mode !== 0 && q.mode !== 1) throw new ZkError(Err.MarshallingError);
      watches.addPersistent(q.path, conn, q.mode === 1);
      // Unlike other void replies, addWatch carries a 4-byte ErrorResponse body.
      return conn.reply(xid, zxid, 0, ErrorResponse, { err: 0 });
    }
    case OpCode.checkWatches:
    case OpCode.removeWatches: {
      const q = CheckWatchesRequest.read(r);
      if (q.type < 1 || q.type > 3) throw new ZkError(Err.MarshallingError);
      const found = watches.removeWatch(q.path, conn, q.type, type === OpCode.removeWatches);
      return conn.reply(xid, zxid, found ? 0 : Err.NoWatcher);
    }
    case OpCode.setWatches:
    case OpCode.setWatches2:
      return setWatches(ctx, conn, type, xid, r, zxid);
    case OpCode.multiRead:
      return multiRead(ctx, conn, xid, r, zxid);
  }
  throw new ZkError(Err.Unimplemented);
}

/** Re-register watches after a reconnect, firing at once what changed since relativeZxid. */
function setWatches(ctx: ReadContext, conn: ClientChannel, type: number, xid: number, r: Reader, zxid: number): number {
  const q = type === OpCode.setWatches2
    ? SetWatches2.read(r)
    : { ...SetWatches.read(r), persistentWatches: [] as string[], persistentRecursiveWatches: [] as string[] };
  const rel = q.relativeZxid;
  const { tree, watches } = ctx;
  // Events still owed to this connection come before the ones fired here.
  watches.deliverPending(conn);
  for (const p of q.dataWatches) {
    const n = tree.get(p);
    if (!n) conn.notify(EventType.NodeDeleted, p);
    else if (n.mzxid > rel) conn.notify(EventType.NodeDataChanged, p);
    else watches.addDataWatch(p, conn);
  }
  for (const p of q.existWatches) {
    if (tree.get(p)) conn.notify(EventType.NodeCreated, p);
    else watches.addDataWatch(p, conn);
  }
  for (const p of q.childWatches) {
    const n = tree.get(p);
    if (!n) conn.notify(EventType.NodeDeleted, p);
    else if (n.pzxid > rel) conn.notify(EventType.NodeChildrenChanged, p);
    else watches.addChildWatch(p, conn);
  }
  for (const p of q.persistentWatches) watches.addPersistent(p, conn, false);
  for (const p of q.persistentRecursiveWatches) watches.addPersistent(p, conn, true);
  return conn.reply(xid, zxid, 0);
}

/** multiRead: each op checked on its own; watch flags are ignored. */
function multiRead(ctx: ReadContext, conn: ClientChannel, xid: number, r: Reader, zxid: number): number {
  const { tree } = ctx;
  const results: MultiOpResult[] = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) break;
    if (h.type !== OpCode.getData && h.type !== OpCode.getChildren) {
      return conn.reply(xid, zxid, Err.MarshallingError, MultiResponse, []);
    }
    const q = h.type === OpCode.getData ? GetDataRequest.read(r) : GetChildrenRequest.read(r);
    const n = tree.get(q.path);
    if (!n) results.push({ type: -1, err: Err.NoNode });
    else if (!hasPerm(tree.aclOf(n), Perm.READ, conn.identities, ctx.skipACL)) results.push({ type: -1, err: Err.NoAuth });
    else if (h.type === OpCode.getData) results.push({ type: 4, data: n.data, stat: n.stat() });
    else results.push({ type: 8, children: [...n.children] });
  }
  return conn.reply(xid, zxid, 0, MultiResponse, results);
}
