// Prep-time digests and the prep stage's view of in-flight writes, without a network: requests
// are prepared back to back against PendingChanges (the txn is logged before it is applied),
// then applied in order; after each apply the tree digest must equal the digest the txn was
// prepared with. Also the two prep defects: closeSession must see in-flight ephemeral creates
// and deletes, and the reaper's deleteContainer must re-check the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, Writer } from '../../src/jute/archive.js';
import { CreateMode, Err, OpCode, CONTAINER_EPHEMERAL_OWNER } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import type { ACL } from '../../src/protocol/records.js';
import type { Txn, TxnBody } from '../../src/protocol/txn.js';
import { DataTree, setDigestAssertions, digestAssertionsEnabled } from '../../src/tree/DataTree.js';
import { nodeDigest } from '../../src/tree/DigestCalculator.js';
import { PendingChanges } from '../../src/server/PendingChanges.js';
import { prepCloseSession, prepDeleteContainer, preparedTxnDigest, prepWrite, type PrepContext } from '../../src/server/Prep.js';
import { ttlOwner } from '../../src/tree/ZNode.js';

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const S1 = 0x1000000000a0001n;
const S2 = 0x1000000000a0002n;

/** Prep and apply as the server does, with the apply step under the test's control. */
class Pipeline {
  readonly tree: DataTree;
  readonly pending: PendingChanges;
  readonly queued: Txn[] = [];
  readonly applied: Txn[] = [];
  zxid = 0;
  time = 1_795_000_000_000;

  constructor(digestEnabled = true) {
    this.tree = new DataTree(false, { digestEnabled });
    this.pending = new PendingChanges(this.tree);
  }

  ctx(sessionId: bigint): PrepContext {
    return {
      pending: this.pending, tree: this.tree, ids: [{ scheme: 'super', id: '' }], sessionId, sessionValid: true,
      zxid: this.zxid + 1, time: (this.time += 3), extendedTypesEnabled: true, skipACL: false, enforceQuota: false, reconfigEnabled: false,
    };
  }

  private push(sessionId: bigint, type: number, ctx: PrepContext, body: TxnBody): Txn {
    this.zxid = ctx.zxid;
    const txn: Txn = { hdr: { clientId: sessionId, cxid: this.zxid, zxid: this.zxid, time: ctx.time, type: body.type === OpCode.error ? OpCode.error : type }, body };
    const d = preparedTxnDigest(this.pending, body);
    if (d) txn.digest = d;
    this.queued.push(txn);
    return txn;
  }

  write<T>(sessionId: bigint, type: number, codec: { write(w: Writer, v: T): void }, req: T): Txn {
    const w = new Writer(128);
    codec.write(w, req);
    const ctx = this.ctx(sessionId);
    return this.push(sessionId, type, ctx, prepWrite(ctx, type, new Reader(w.toBuffer())));
  }

  create(path: string, flags = 0, sessionId = S1, data: Buffer | null = Buffer.from(path)): Txn {
    return this.write(sessionId, OpCode.create2, R.CreateRequest, { path, data, acl: OPEN, flags });
  }
  createTTL(path: string, ttl: number, sessionId = S1): Txn {
    return this.write(sessionId, OpCode.createTTL, R.CreateTTLRequest, { path, data: null, acl: OPEN, flags: CreateMode.PERSISTENT_WITH_TTL, ttl });
  }
  container(path: string, sessionId = S1): Txn {
    return this.write(sessionId, OpCode.createContainer, R.CreateRequest, { path, data: null, acl: OPEN, flags: CreateMode.CONTAINER });
  }
  setData(path: string, data: string, version = -1, sessionId = S1): Txn {
    return this.write(sessionId, OpCode.setData, R.SetDataRequest, { path, data: Buffer.from(data), version });
  }
  setACL(path: string, version = -1, sessionId = S1): Txn {
    return this.write(sessionId, OpCode.setACL, R.SetACLRequest, { path, acl: [{ perms: 7, id: { scheme: 'world', id: 'anyone' } }], version });
  }
  delete(path: string, version = -1, sessionId = S1): Txn {
    return this.write(sessionId, OpCode.delete, R.DeleteRequest, { path, version });
  }
  multi(ops: Array<{ type: number; codec: { write(w: Writer, v: never): void }; req: unknown }>, sessionId = S1): Txn {
    const w = new Writer(256);
    for (const op of ops) {
      R.MultiHeader.write(w, { type: op.type, done: false, err: -1 });
      op.codec.write(w, op.req as never);
    }
    R.MultiHeader.write(w, { type: -1, done: true, err: -1 });
    const ctx = this.ctx(sessionId);
    return this.push(sessionId, OpCode.multi, ctx, prepWrite(ctx, OpCode.multi, new Reader(w.toBuffer())));
  }
  createSession(sessionId: bigint): Txn {
    const ctx = this.ctx(sessionId);
    return this.push(sessionId, OpCode.createSession, ctx, { type: OpCode.createSession, timeOut: 30000 });
  }
  closeSession(sessionId: bigint): Txn {
    const ctx = this.ctx(sessionId);
    return this.push(sessionId, OpCode.closeSession, ctx, prepCloseSession(ctx));
  }
  deleteContainer(path: string, now: number): Txn {
    const ctx = this.ctx(0n);
    return this.push(0n, OpCode.deleteContainer, ctx, prepDeleteContainer(ctx, path, now));
  }

  /** Apply up to `n` queued txns; each must leave the tree with the digest it carries. */
  apply(n = Infinity): void {
    while (n-- > 0 && this.queued.length) {
      const txn = this.queued.shift()!;
      this.tree.apply(txn, []);
      this.pending.applied(txn.hdr.zxid);
      if (txn.digest) {
        assert.equal(this.tree.treeDigest(), txn.digest.treeDigest, `digest after zxid ${txn.hdr.zxid} (${JSON.stringify(txn.body, (_k, v) => (typeof v === 'bigint' ? String(v) : v))})`);
      }
      this.applied.push(txn);
    }
  }
}

/** The tree digest recomputed from scratch: the incremental sum must always equal it. */
function fullDigest(tree: DataTree): bigint {
  let sum = 0n;
  tree.walk((p, n) => {
    sum += BigInt(nodeDigest(p, n.data, n));
  });
  return BigInt.asIntN(64, sum);
}

test('every prepared txn carries the digest the tree has after applying it, with many writes in flight', () => {
  const p = new Pipeline();
  p.createSession(S1);
  p.create('/app');
  p.create('/app/seq-', CreateMode.PERSISTENT_SEQUENTIAL);
  p.create('/app/seq-', CreateMode.PERSISTENT_SEQUENTIAL);
  p.create('/app/e', CreateMode.EPHEMERAL);
  p.setData('/app', 'v1', 0); // on a node whose create is still in flight
  p.setData('/app', 'v2', 1);
  p.setACL('/app', 0);
  p.container('/box');
  p.create('/box/item');
  p.createTTL('/ttl', 60000);
  p.delete('/app/seq-0000000000'); // delete of an in-flight create
  p.multi([
    { type: OpCode.create, codec: R.CreateRequest, req: { path: '/m', data: Buffer.from('m'), acl: OPEN, flags: 0 } },
    { type: OpCode.setData, codec: R.SetDataRequest, req: { path: '/m', data: Buffer.from('m2'), version: 0 } },
    { type: OpCode.create, codec: R.CreateRequest, req: { path: '/m/c', data: null, acl: OPEN, flags: 0 } },
    { type: OpCode.delete, codec: R.DeleteRequest, req: { path: '/m/c', version: -1 } },
    { type: OpCode.check, codec: R.CheckVersionRequest, req: { path: '/m', version: 1 } },
  ]);
  const before = p.pending.treeDigest();
  const failed = p.multi([
    { type: OpCode.create, codec: R.CreateRequest, req: { path: '/x', data: null, acl: OPEN, flags: 0 } },
    { type: OpCode.setData, codec: R.SetDataRequest, req: { path: '/m', data: null, version: 7 } },
  ]);
  assert.equal(failed.body.type, OpCode.multi);
  assert.equal(failed.digest?.treeDigest, before, 'a failed multi changes nothing: its digest is the previous one');
  const err = p.delete('/nope');
  assert.equal(err.hdr.type, OpCode.error);
  assert.equal(err.digest, undefined, 'error txns carry no digest');
  p.apply(7); // half applied, more prepared on top of the rest
  p.create('/app/seq-', CreateMode.PERSISTENT_SEQUENTIAL);
  p.setData('/box/item', 'x');
  p.delete('/box/item');
  p.deleteContainer('/box', Date.now());
  p.closeSession(S1);
  p.apply();
  assert.equal(p.queued.length, 0);
  assert.ok(p.applied.every((t) => t.hdr.type === OpCode.error || t.digest?.version === 2));
  assert.equal(p.tree.get('/app/e'), undefined, 'closeSession removed the ephemeral');
  assert.equal(p.tree.get('/box'), undefined);
  assert.equal(p.tree.treeDigest(), fullDigest(p.tree));
  assert.equal(p.pending.size, 0);
  assert.equal(p.pending.treeDigest(), p.tree.treeDigest());
});

test('randomised pipelines: prepared digests always match the applied tree', () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const p = new Pipeline();
  const names = ['/a', '/a/b', '/a/c', '/d', '/d/e', '/a/b/f', '/g'];
  const sessions = [S1, S2];
  for (let i = 0; i < 1500; i++) {
    const path = names[rnd(names.length)]!;
    const s = sessions[rnd(2)]!;
    switch (rnd(9)) {
      case 0: p.create(path, rnd(4), s); break;
      case 1: p.create(path, CreateMode.PERSISTENT, s); break;
      case 2: p.setData(path, `v${i}`, rnd(3) - 1, s); break;
      case 3: p.delete(path, -1, s); break;
      case 4: p.setACL(path, -1, s); break;
      case 5: p.multi([
        { type: OpCode.create, codec: R.CreateRequest, req: { path, data: null, acl: OPEN, flags: rnd(2) } },
        { type: OpCode.setData, codec: R.SetDataRequest, req: { path: names[rnd(names.length)], data: Buffer.from('z'), version: -1 } },
      ], s); break;
      case 6: if (rnd(4) === 0) p.closeSession(s); else p.container(path, s); break;
      case 7: p.deleteContainer(path, Date.now()); break;
      default: p.apply(rnd(5));
    }
  }
  p.apply();
  assert.ok(p.applied.length > 1000);
  assert.equal(p.tree.treeDigest(), fullDigest(p.tree));
});

test('closeSession lists ephemerals whose create is prepared but not applied, and drops those being deleted', () => {
  const p = new Pipeline();
  p.create('/p');
  p.create('/p/old', CreateMode.EPHEMERAL);
  p.create('/p/going', CreateMode.EPHEMERAL);
  p.create('/p/moved', CreateMode.EPHEMERAL);
  p.apply();
  // In flight, none applied: a new ephemeral, a delete of one, and another session taking a path over.
  p.create('/p/new', CreateMode.EPHEMERAL);
  p.create('/p/seq-', CreateMode.EPHEMERAL_SEQUENTIAL);
  p.delete('/p/going');
  p.delete('/p/moved');
  p.create('/p/moved', CreateMode.EPHEMERAL, S2);
  p.create('/p/persistent', CreateMode.PERSISTENT);
  const close = p.closeSession(S1);
  assert.equal(close.body.type, OpCode.closeSession);
  const listed = (close.body as { paths2Delete: string[] }).paths2Delete.slice().sort();
  assert.deepEqual(listed, ['/p/new', '/p/old', '/p/seq-0000000004']);
  p.apply();
  assert.deepEqual([...p.tree.get('/p')!.children].sort(), ['moved', 'persistent']);
  assert.equal(p.tree.get('/p/moved')!.ephemeralOwner, S2);
  assert.equal(p.tree.ephemerals.get(S1), undefined, 'nothing of the closed session is left');
});

test('the reaper\'s deleteContainer re-checks the node at prep time', () => {
  const p = new Pipeline();
  p.container('/c');
  p.create('/c/x');
  p.delete('/c/x');
  p.container('/busy');
  p.create('/busy/child');
  p.createTTL('/ttl', 1000);
  p.create('/eph', CreateMode.EPHEMERAL);
  p.apply();
  const created = p.tree.get('/ttl')!.mtime;

  // The container was deleted and recreated as a plain node while the reaper waited.
  p.delete('/c');
  p.create('/c', CreateMode.PERSISTENT);
  const refused = p.deleteContainer('/c', Date.now());
  assert.deepEqual(refused.body, { type: OpCode.error, err: Err.BadVersion });
  assert.equal(refused.digest, undefined);
  assert.deepEqual(p.deleteContainer('/busy', Date.now()).body, { type: OpCode.error, err: Err.NotEmpty });
  assert.deepEqual(p.deleteContainer('/gone', Date.now()).body, { type: OpCode.error, err: Err.NoNode });
  assert.deepEqual(p.deleteContainer('/eph', Date.now()).body, { type: OpCode.error, err: Err.BadVersion });
  assert.deepEqual(p.deleteContainer('/zookeeper/quota', Date.now()).body, { type: OpCode.error, err: Err.BadArguments });
  // A TTL node not yet expired (or written since the reaper looked) stays.
  assert.deepEqual(p.deleteContainer('/ttl', created + 500).body, { type: OpCode.error, err: Err.BadVersion });
  p.apply();
  assert.equal(p.tree.get('/c')!.ephemeralOwner, 0n, 'the recreated node is still there');
  assert.ok(p.tree.get('/busy') && p.tree.get('/eph') && p.tree.get('/ttl'));

  p.container('/c2');
  const ok = p.deleteContainer('/c2', Date.now()); // an in-flight empty container is fine to reap
  assert.deepEqual(ok.body, { type: OpCode.deleteContainer, path: '/c2' });
  const expired = p.deleteContainer('/ttl', created + 1001);
  assert.deepEqual(expired.body, { type: OpCode.deleteContainer, path: '/ttl' });
  p.apply();
  assert.equal(p.tree.get('/c2'), undefined);
  assert.equal(p.tree.get('/ttl'), undefined);
  assert.equal(p.tree.get('/c')!.ephemeralOwner, 0n);
  assert.equal(CONTAINER_EPHEMERAL_OWNER !== ttlOwner(1000), true);
});

test('with digests off nothing carries a digest and the tree digest stays 0', () => {
  const p = new Pipeline(false);
  p.createSession(S1);
  p.create('/a');
  p.setData('/a', 'x');
  p.closeSession(S1);
  p.apply();
  assert.ok(p.applied.every((t) => t.digest === undefined));
  assert.equal(p.tree.treeDigest(), 0n);
});

test('a txn whose digest disagrees is counted; with assertions on it throws', () => {
  const tree = new DataTree();
  const txn: Txn = {
    hdr: { clientId: S1, cxid: 1, zxid: 1, time: 5, type: OpCode.create },
    body: { type: OpCode.create, path: '/a', data: null, acl: OPEN, ephemeral: false, parentCVersion: 1 },
    digest: { version: 2, treeDigest: 42n },
  };
  const was = digestAssertionsEnabled();
  try {
    setDigestAssertions(false);
    const seen: string[] = [];
    tree.digestReporter = (m) => seen.push(m);
    tree.apply(txn, []);
    assert.equal(tree.digestMismatches, 1);
    assert.equal(seen.length, 1);
    assert.ok(tree.get('/a'), 'the txn is applied all the same');
    // Another digest version is not compared.
    tree.apply({ ...txn, hdr: { ...txn.hdr, zxid: 2 }, body: { ...txn.body, path: '/b' } as TxnBody, digest: { version: 1, treeDigest: 42n } }, []);
    assert.equal(tree.digestMismatches, 1);
    setDigestAssertions(true);
    assert.throws(() => tree.apply({ ...txn, hdr: { ...txn.hdr, zxid: 3 }, body: { ...txn.body, path: '/c' } as TxnBody }, []), /DigestMismatch|carries digest 42/);
  } finally {
    setDigestAssertions(was);
  }
});
