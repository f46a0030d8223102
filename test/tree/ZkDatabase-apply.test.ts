// Applying txns with and without Stats in the results (ZkDatabase.applyTxn's withStats): two
// databases fed the same txns, one asking for no Stats, end with the same tree, digests, events
// and results apart from the Stats; the committed log and session table follow both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import type { ApplyResult, TreeEvent } from '../../src/tree/DataTree.js';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn, TxnBody } from '../../src/protocol/txn.js';

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function withoutStats(r: ApplyResult): unknown {
  return { ...r, stat: undefined, results: r.results?.map((x) => ({ ...x, stat: undefined })) };
}

test('applyTxn without Stats changes nothing but the missing Stats', () => {
  const full = new ZkDatabase();
  const lean = new ZkDatabase();
  const sid = 0x1000abcdef0012n;
  let zxid = 0x100000000;
  const bodies: TxnBody[] = [
    { type: OpCode.createSession, timeOut: 30000 },
    { type: OpCode.create, path: '/a', data: Buffer.from('x'), acl: ACL, ephemeral: false, parentCVersion: -1 },
    { type: OpCode.create2, path: '/a/e', data: null, acl: ACL, ephemeral: true, parentCVersion: -1 },
    { type: OpCode.setData, path: '/a', data: Buffer.alloc(500, 1), version: 1 },
    { type: OpCode.setData, path: '/missing', data: null, version: 1 },
    { type: OpCode.setACL, path: '/a', acl: ACL, version: 1 },
    {
      type: OpCode.multi,
      txns: [
        { type: OpCode.create, path: '/m', data: null, acl: ACL, ephemeral: false, parentCVersion: -1 },
        { type: OpCode.setData, path: '/m', data: Buffer.from('y'), version: 1 },
      ],
    },
    { type: OpCode.delete, path: '/m' },
    { type: OpCode.closeSession, paths2Delete: ['/a/e'] },
  ];
  let stats = 0;
  for (const body of bodies) {
    const txn: Txn = { hdr: { clientId: sid, cxid: 1, zxid: ++zxid, time: 1700000000000 + zxid, type: body.type }, body };
    const evFull: TreeEvent[] = [];
    const evLean: TreeEvent[] = [];
    const a = full.applyTxn(txn, evFull);
    const b = lean.applyTxn(txn, evLean, false);
    assert.deepEqual(withoutStats(b), withoutStats(a), `type ${body.type}: same results`);
    assert.equal(b.stat, undefined);
    for (const r of b.results ?? []) assert.equal(r.stat, undefined);
    if (a.stat) stats++;
    assert.deepEqual(evLean, evFull, `type ${body.type}: same events`);
    assert.equal(lean.tree.treeDigest(), full.tree.treeDigest());
    assert.deepEqual(lean.tree.lastProcessedZxidDigest, full.tree.lastProcessedZxidDigest);
    assert.deepEqual([...lean.sessions], [...full.sessions]);
    // The next txn with Stats gets them again.
    assert.equal(lean.tree.get('/a')?.stat().mzxid, full.tree.get('/a')?.stat().mzxid);
  }
  assert.ok(stats >= 4, 'the full database reported Stats for its creates, setData and setACL');
  const after = lean.applyTxn(
    { hdr: { clientId: sid, cxid: 2, zxid: ++zxid, time: 1700000000000, type: OpCode.setData }, body: { type: OpCode.setData, path: '/a', data: null, version: 2 } },
  );
  assert.equal(after.stat?.mzxid, zxid, 'withStats defaults to true');
  assert.equal(lean.committedLog.size, bodies.length + 1);
  assert.equal(lean.tree.nodeCount, full.tree.nodeCount);
});
