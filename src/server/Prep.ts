// Validation of write requests and their translation into txns (PrepRequestProcessor).
// Checks run in the order Apache ZooKeeper 3.8 runs them, so the first failing check
// yields the same error code. Validation reads the tree through PendingChanges.
import { Reader, JuteError } from '../jute/archive.js';
import { CreateMode, Err, MAX_TTL_MS, OpCode, Perm, ZkError, CONTAINER_EPHEMERAL_OWNER } from '../protocol/constants.js';
import {
  CheckVersionRequest, CreateRequest, CreateTTLRequest, DeleteRequest, MultiHeader, SetACLRequest, SetDataRequest,
} from '../protocol/records.js';
import type { Txn, TxnBody } from '../protocol/txn.js';
import type { Identity } from '../auth/AuthProviders.js';
import { kindOfOwner, ttlOfOwner, ttlOwner } from '../tree/ZNode.js';
import { DIGEST_VERSION } from '../tree/DigestCalculator.js';
import { SYSTEM_PATHS, parentOf, pathError, sequenceSuffix } from '../tree/paths.js';
import type { DataTree } from '../tree/DataTree.js';
import { checkPerm, fixupACL } from './AclCheck.js';
import { NodeView, type PendingChanges } from './PendingChanges.js';

export interface PrepContext {
  pending: PendingChanges;
  tree: DataTree;
  ids: Identity[];
  sessionId: bigint;
  /** Whether the caller's session is live (not closing/expired). */
  sessionValid: boolean;
  zxid: number;
  /** The txn header's time (ms): new nodes' ctime/mtime and setData's mtime, which enter digests. */
  time: number;
  extendedTypesEnabled: boolean;
  skipACL: boolean;
  enforceQuota: boolean;
  reconfigEnabled: boolean;
  /** Told of a write refused by a hard quota under `path` (quota_exceeded_error_per_namespace). */
  quotaExceeded?: (path: string) => void;
}

function quotaError(ctx: PrepContext, path: string): ZkError {
  ctx.quotaExceeded?.(path);
  return new ZkError(Err.QuotaExceeded);
}

function validatePath(path: string): void {
  if (pathError(path) !== null) throw new ZkError(Err.BadArguments);
}

function sessionCheck(ctx: PrepContext): void {
  if (!ctx.sessionValid) throw new ZkError(Err.SessionExpired);
}

function isTTL(flags: number): boolean {
  return flags === CreateMode.PERSISTENT_WITH_TTL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

interface CreateArgs {
  opcode: number;
  path: string;
  data: Buffer | null;
  acl: import('../protocol/records.js').ACL[] | null;
  flags: number;
  ttl: number;
}

function prepCreate(ctx: PrepContext, a: CreateArgs): TxnBody {
  const { flags } = a;
  if (flags < 0 || flags > 6) throw new ZkError(Err.BadArguments);
  const ttlMode = isTTL(flags);
  if (ttlMode && !ctx.extendedTypesEnabled) throw new ZkError(Err.Unimplemented);
  if (a.opcode === OpCode.createTTL) {
    if (!ctx.extendedTypesEnabled) throw new ZkError(Err.Unimplemented);
    if (ttlMode ? a.ttl <= 0 || a.ttl > MAX_TTL_MS : true) throw new ZkError(Err.BadArguments);
  } else if (ttlMode) {
    // TTL flags on a plain create: there is no ttl to use.
    throw new ZkError(Err.BadArguments);
  }
  sessionCheck(ctx);
  const lastSlash = a.path.lastIndexOf('/');
  if (lastSlash < 0 || a.path.indexOf('\u0000') >= 0) throw new ZkError(Err.BadArguments);
  const acl = fixupACL(a.acl, ctx.ids);
  const parentPath = lastSlash === 0 ? '/' : a.path.substring(0, lastSlash);
  const parent = ctx.pending.get(parentPath);
  if (!parent) throw new ZkError(Err.NoNode);
  checkPerm(parent.acl, Perm.CREATE, ctx.ids, ctx.skipACL);
  const sequential = flags === CreateMode.PERSISTENT_SEQUENTIAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
  const path = sequential ? a.path + sequenceSuffix(parent.cversion) : a.path;
  validatePath(path);
  if (ctx.pending.get(path)) throw new ZkError(Err.NodeExists);
  if (kindOfOwner(parent.ephemeralOwner) === 'ephemeral') throw new ZkError(Err.NoChildrenForEphemerals);
  if (ctx.enforceQuota && ctx.tree.exceedsQuota(path, 1, a.data?.length ?? 0)) throw quotaError(ctx, path);

  const parentCVersion = (parent.cversion + 1) | 0;
  const ephemeral = flags === CreateMode.EPHEMERAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL;
  let owner = 0n;
  let body: TxnBody;
  if (a.opcode === OpCode.createContainer) {
    owner = CONTAINER_EPHEMERAL_OWNER;
    body = { type: OpCode.createContainer, path, data: a.data, acl, parentCVersion };
  } else if (a.opcode === OpCode.createTTL) {
    owner = ttlOwner(a.ttl);
    body = { type: OpCode.createTTL, path, data: a.data, acl, parentCVersion, ttl: a.ttl };
  } else {
    if (ephemeral) owner = ctx.sessionId;
    body = { type: a.opcode as 1 | 15, path, data: a.data, acl, ephemeral, parentCVersion };
  }
  const parentDigest = ctx.pending.digestBefore(parentPath, parent);
  const childCount = parent.childCount + 1;
  const newParent = parent.forChange();
  newParent.cversion = parentCVersion;
  newParent.pzxid = ctx.zxid;
  newParent.childCount = childCount;
  ctx.pending.set(parentPath, ctx.zxid, newParent, parentDigest);
  ctx.pending.set(path, ctx.zxid, NodeView.created(acl, a.data, ctx.zxid, ctx.time, owner), 0);
  return body;
}

function prepDelete(ctx: PrepContext, path: string, version: number): TxnBody {
  sessionCheck(ctx);
  if (path.lastIndexOf('/') < 0 || path.indexOf('\u0000') >= 0 || SYSTEM_PATHS.has(path)) throw new ZkError(Err.BadArguments);
  const parentPath = parentOf(path);
  const parent = ctx.pending.get(parentPath);
  if (!parent) throw new ZkError(Err.NoNode);
  checkPerm(parent.acl, Perm.DELETE, ctx.ids, ctx.skipACL);
  const node = ctx.pending.get(path);
  if (!node) throw new ZkError(Err.NoNode);
  if (version !== -1 && version !== node.version) throw new ZkError(Err.BadVersion);
  if (node.childCount > 0) throw new ZkError(Err.NotEmpty);
  removeNode(ctx, parentPath, parent, path, node);
  return { type: OpCode.delete, path };
}

/** A delete as apply will do it: the node goes, its parent loses a child and takes the zxid as pzxid. */
function removeNode(ctx: PrepContext, parentPath: string, parent: NodeView, path: string, node?: NodeView): void {
  const parentDigest = ctx.pending.digestBefore(parentPath, parent);
  const nodeDigest = node === undefined ? undefined : ctx.pending.digestBefore(path, node);
  const childCount = parent.childCount - 1;
  const newParent = parent.forChange();
  newParent.childCount = childCount;
  newParent.pzxid = ctx.zxid;
  ctx.pending.set(parentPath, ctx.zxid, newParent, parentDigest);
  ctx.pending.set(path, ctx.zxid, null, nodeDigest);
}

/**
 * The container/TTL reaper's delete (deleteContainer), prepared like ZooKeeper's: the node must
 * still exist and be childless, and must not be an ephemeral (BadVersion). The reaper picked it
 * a while ago, so beyond ZooKeeper's checks the node must still be one it may reap: a container,
 * or a TTL node expired at `now`. A node recreated meanwhile as a persistent node, or a TTL node
 * written since, is refused with BadVersion too rather than deleted. No session or ACL check:
 * the server itself asks.
 */
export function prepDeleteContainer(ctx: PrepContext, path: string, now: number): TxnBody {
  try {
    if (path.lastIndexOf('/') < 0 || path.indexOf('\u0000') >= 0 || SYSTEM_PATHS.has(path)) throw new ZkError(Err.BadArguments);
    const node = ctx.pending.get(path);
    if (!node) throw new ZkError(Err.NoNode);
    if (node.childCount > 0) throw new ZkError(Err.NotEmpty);
    const kind = kindOfOwner(node.ephemeralOwner);
    if (kind === 'ephemeral' || kind === 'persistent') throw new ZkError(Err.BadVersion);
    if (kind === 'ttl' && !(now - node.mtime > ttlOfOwner(node.ephemeralOwner))) throw new ZkError(Err.BadVersion);
    const parentPath = parentOf(path);
    const parent = ctx.pending.get(parentPath);
    if (!parent) throw new ZkError(Err.NoNode);
    removeNode(ctx, parentPath, parent, path, node);
    return { type: OpCode.deleteContainer, path };
  } catch (e) {
    if (e instanceof ZkError) return { type: OpCode.error, err: e.code };
    throw e;
  }
}

function prepSetData(ctx: PrepContext, path: string, data: Buffer | null, version: number): TxnBody {
  sessionCheck(ctx);
  validatePath(path);
  const node = ctx.pending.get(path);
  if (!node) throw new ZkError(Err.NoNode);
  checkPerm(node.acl, Perm.WRITE, ctx.ids, ctx.skipACL);
  const newLen = data?.length ?? 0;
  if (ctx.enforceQuota && ctx.tree.exceedsQuota(path, 0, newLen - node.dataLength)) throw quotaError(ctx, path);
  if (version !== -1 && version !== node.version) throw new ZkError(Err.BadVersion);
  const newVersion = (node.version + 1) | 0;
  const before = ctx.pending.digestBefore(path, node);
  // The view get() made is changed in place when it is the tree's (setData needs no copy of it).
  const changed = node.withData(data);
  changed.version = newVersion;
  changed.mzxid = ctx.zxid;
  changed.mtime = ctx.time;
  ctx.pending.set(path, ctx.zxid, changed, before);
  return { type: OpCode.setData, path, data, version: newVersion };
}

function prepSetACL(ctx: PrepContext, path: string, aclIn: import('../protocol/records.js').ACL[] | null, version: number): TxnBody {
  sessionCheck(ctx);
  validatePath(path);
  const acl = fixupACL(aclIn, ctx.ids);
  const node = ctx.pending.get(path);
  if (!node) throw new ZkError(Err.NoNode);
  checkPerm(node.acl, Perm.ADMIN, ctx.ids, ctx.skipACL);
  if (version !== -1 && version !== node.aversion) throw new ZkError(Err.BadVersion);
  const newVersion = (node.aversion + 1) | 0;
  const before = ctx.pending.digestBefore(path, node);
  const changed = node.forChange();
  changed.acl = acl;
  changed.aversion = newVersion;
  ctx.pending.set(path, ctx.zxid, changed, before);
  return { type: OpCode.setACL, path, acl, version: newVersion };
}

function prepCheck(ctx: PrepContext, path: string, version: number): TxnBody {
  sessionCheck(ctx);
  validatePath(path);
  const node = ctx.pending.get(path);
  if (!node) throw new ZkError(Err.NoNode);
  checkPerm(node.acl, Perm.READ, ctx.ids, ctx.skipACL);
  if (version !== -1 && version !== node.version) throw new ZkError(Err.BadVersion);
  return { type: OpCode.check, path, version };
}

/** Decode one write request record and prep it; throws ZkError or JuteError. */
function prepOne(ctx: PrepContext, type: number, r: Reader): TxnBody {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer: {
      const q = CreateRequest.read(r);
      return prepCreate(ctx, { opcode: type, path: q.path, data: q.data, acl: q.acl, flags: type === OpCode.createContainer ? CreateMode.CONTAINER : q.flags, ttl: -1 });
    }
    case OpCode.createTTL: {
      const q = CreateTTLRequest.read(r);
      return prepCreate(ctx, { opcode: type, path: q.path, data: q.data, acl: q.acl, flags: q.flags, ttl: q.ttl });
    }
    case OpCode.delete: {
      const q = DeleteRequest.read(r);
      return prepDelete(ctx, q.path, q.version);
    }
    case OpCode.setData: {
      const q = SetDataRequest.read(r);
      return prepSetData(ctx, q.path, q.data, q.version);
    }
    case OpCode.setACL: {
      const q = SetACLRequest.read(r);
      return prepSetACL(ctx, q.path, q.acl, q.version);
    }
    case OpCode.check: {
      const q = CheckVersionRequest.read(r);
      return prepCheck(ctx, q.path, q.version);
    }
  }
  throw new ZkError(Err.MarshallingError);
}

function prepMulti(ctx: PrepContext, r: Reader): TxnBody {
  // Parse everything first: a malformed multi or a read op inside is MarshallingError.
  const ops: Array<{ type: number; start: number }> = [];
  for (;;) {
    const h = MultiHeader.read(r);
    if (h.done) break;
    const rec = MULTI_OP_RECORDS.get(h.type);
    if (!rec) throw new ZkError(Err.MarshallingError);
    const start = r.pos;
    rec.read(r);
    ops.push({ type: h.type, start });
  }
  sessionCheck(ctx);
  const mark = ctx.pending.mark();
  const txns: TxnBody[] = [];
  let failed = -1;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const sub = new Reader(r.buf, op.start, r.end, r.maxFieldBytes);
    rememberPaths(ctx, mark, op.type, sub);
    try {
      txns.push(prepOne(ctx, op.type, sub));
    } catch (e) {
      if (!(e instanceof ZkError)) throw e;
      failed = i;
      txns.push({ type: OpCode.error, err: e.code });
      break;
    }
  }
  if (failed >= 0) {
    ctx.pending.rollback(mark);
    for (let i = 0; i < failed; i++) txns[i] = { type: OpCode.error, err: Err.OK };
    for (let i = failed + 1; i < ops.length; i++) txns.push({ type: OpCode.error, err: Err.RuntimeInconsistency });
  }
  return { type: OpCode.multi, txns };
}

/** Request record of each write allowed inside a multi. */
const MULTI_OP_RECORDS = new Map<number, { read(r: Reader): unknown }>([
  [OpCode.create, CreateRequest],
  [OpCode.create2, CreateRequest],
  [OpCode.createContainer, CreateRequest],
  [OpCode.createTTL, CreateTTLRequest],
  [OpCode.delete, DeleteRequest],
  [OpCode.setData, SetDataRequest],
  [OpCode.check, CheckVersionRequest],
]);

/** Save the pending state of the paths a multi sub-op may touch, for rollback. */
function rememberPaths(ctx: PrepContext, mark: ReturnType<PendingChanges['mark']>, type: number, r: Reader): void {
  const start = r.pos;
  let path: string;
  try {
    path = r.ustring() ?? '';
  } finally {
    r.pos = start;
  }
  ctx.pending.remember(mark, path);
  ctx.pending.remember(mark, parentOf(path));
  if (type === OpCode.create || type === OpCode.create2 || type === OpCode.createContainer || type === OpCode.createTTL) {
    // Sequential creates name a child we cannot know yet; remembering the parent covers cversion.
    const parent = ctx.pending.get(parentOf(path));
    if (parent) ctx.pending.remember(mark, path + sequenceSuffix(parent.cversion));
  }
}

export const WRITE_OPS = new Set<number>([
  OpCode.create, OpCode.delete, OpCode.setData, OpCode.setACL, OpCode.multi, OpCode.create2, OpCode.reconfig,
  OpCode.createContainer, OpCode.createTTL, OpCode.closeSession,
]);

/**
 * Turn a client write into a txn body. Failures become an error txn (the zxid is still
 * consumed, as in ZooKeeper).
 */
export function prepWrite(ctx: PrepContext, type: number, r: Reader): TxnBody {
  try {
    switch (type) {
      case OpCode.multi:
        return prepMulti(ctx, r);
      case OpCode.reconfig:
        if (!ctx.reconfigEnabled) throw new ZkError(Err.ReconfigDisabled);
        sessionCheck(ctx);
        throw new ZkError(Err.Unimplemented);
      case OpCode.closeSession:
        return prepCloseSession(ctx);
      default:
        return prepOne(ctx, type, r);
    }
  } catch (e) {
    if (e instanceof ZkError) return { type: OpCode.error, err: e.code };
    if (e instanceof JuteError || e instanceof RangeError) return { type: OpCode.error, err: Err.MarshallingError };
    throw e;
  }
}

/**
 * closeSession: every ephemeral the session will own once all prepared writes are applied. The
 * tree's index misses ephemeral creates still in flight and lists nodes whose delete is in
 * flight, so each candidate is judged by its pending state (as ZooKeeper's prep walks its
 * outstanding changes).
 */
export function prepCloseSession(ctx: PrepContext): TxnBody {
  const candidates = new Set(ctx.tree.ephemerals.get(ctx.sessionId) ?? []);
  for (const p of ctx.pending.changedPaths()) candidates.add(p);
  const paths: string[] = [];
  for (const p of candidates) {
    const v = ctx.pending.get(p);
    if (v && v.ephemeralOwner === ctx.sessionId) paths.push(p);
  }
  for (const p of paths) {
    const parentPath = parentOf(p);
    const parent = ctx.pending.get(parentPath);
    if (parent) removeNode(ctx, parentPath, parent, p);
    else ctx.pending.set(p, ctx.zxid, null);
  }
  return { type: OpCode.closeSession, paths2Delete: paths };
}

/**
 * The TxnDigest for a txn just prepared: the tree digest once it is applied. Failed requests
 * (error txns) carry none, as in ZooKeeper; a multi does, even when one of its ops failed.
 */
export function preparedTxnDigest(pending: PendingChanges, body: TxnBody): Txn['digest'] {
  if (!pending.digestEnabled || body.type === OpCode.error) return undefined;
  return { version: DIGEST_VERSION, treeDigest: pending.treeDigest() };
}

