// The byte ring the DIFF and replay windows hold their txns in: entries come back byte for byte
// across wrap-around, growth for large txns and the count and byte bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TxnRing, pushTxn, txnAt } from '../../src/protocol/TxnRing.js';
import { encodeTxn } from '../../src/protocol/txn.js';
import { createTxn, setDataTxn, plain } from '../storage/helpers.js';

/** Entry bytes for zxid z: length and content both depend on z, so a misplaced entry shows. */
function bytesFor(z: number, len = 20 + (z % 37)): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (z * 31 + i) & 0xff;
  return b;
}

function entries(r: TxnRing): { zxid: number; bytes: Buffer }[] {
  const out = [];
  for (let i = 0; i < r.size; i++) out.push({ zxid: r.zxidAt(i), bytes: r.copyAt(i) });
  return out;
}

test('count bound: the oldest entries go first; zxids and bytes stay paired across wrap-around', () => {
  const r = new TxnRing({ maxCount: 7, initialBytes: 1024 });
  assert.deepEqual([r.size, r.minZxid, r.maxZxid, r.totalBytes], [0, 0, 0, 0]);
  for (let z = 1; z <= 500; z++) {
    r.push(z, bytesFor(z));
    const lo = Math.max(1, z - 6);
    assert.equal(r.size, z - lo + 1);
    assert.deepEqual(entries(r), Array.from({ length: z - lo + 1 }, (_, i) => ({ zxid: lo + i, bytes: bytesFor(lo + i) })));
  }
  // 500 entries of ~40 bytes went through a 1 KB buffer holding ~7: it wrapped, it did not grow.
  assert.equal(r.capacityBytes, 1024);
  assert.equal(r.totalBytes, entries(r).reduce((n, e) => n + e.bytes.length, 0));
});

test('large entries grow the buffer; it shrinks back once they are gone; every entry survives the move', () => {
  const r = new TxnRing({ maxCount: 4, initialBytes: 1024 });
  for (let z = 1; z <= 3; z++) r.push(z, bytesFor(z));
  const big = bytesFor(4, 1_500_000);
  r.push(4, big);
  assert.ok(r.capacityBytes >= 1_500_000);
  assert.deepEqual(entries(r), [1, 2, 3, 4].map((z) => ({ zxid: z, bytes: z === 4 ? big : bytesFor(z) })));
  // Small entries after the big one: it stays until pushed out (count bound 4).
  for (let z = 5; z <= 7; z++) r.push(z, bytesFor(z));
  assert.deepEqual(entries(r).map((e) => e.zxid), [4, 5, 6, 7]);
  assert.deepEqual(r.copyAt(0), big);
  for (let z = 8; z <= 100; z++) r.push(z, bytesFor(z));
  assert.deepEqual(entries(r), [97, 98, 99, 100].map((z) => ({ zxid: z, bytes: bytesFor(z) })));
  // Rearranged at some point after the big entry left: no longer megabytes for ~200 bytes.
  for (let z = 101; z <= 20_000; z++) r.push(z, bytesFor(z, 600));
  assert.ok(r.capacityBytes <= 64 * 1024, `capacity ${r.capacityBytes}`);
  assert.deepEqual(entries(r).map((e) => e.zxid), [19997, 19998, 19999, 20000]);
});

test('byte bound: the oldest go until the rest fit, but the newest stays however large', () => {
  const r = new TxnRing({ maxCount: 100, maxBytes: 1000, initialBytes: 1024 });
  for (let z = 1; z <= 30; z++) r.push(z, bytesFor(z, 100));
  assert.deepEqual(entries(r).map((e) => e.zxid), [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
  assert.equal(r.totalBytes, 1000);
  r.push(31, bytesFor(31, 5000));
  assert.deepEqual(entries(r), [{ zxid: 31, bytes: bytesFor(31, 5000) }]);
  r.push(32, bytesFor(32, 10));
  assert.deepEqual(entries(r).map((e) => e.zxid), [32]);
  r.clear();
  assert.deepEqual([r.size, r.totalBytes, r.minZxid], [0, 0, 0]);
  r.push(40, bytesFor(40));
  assert.deepEqual(entries(r), [{ zxid: 40, bytes: bytesFor(40) }]);
});

test('firstAbove finds the first zxid above any value, including gaps and the ends', () => {
  const r = new TxnRing({ maxCount: 10 });
  for (const z of [10, 20, 30, 40]) r.push(z, bytesFor(z));
  assert.deepEqual([5, 10, 15, 40, 50].map((z) => r.firstAbove(z)), [0, 1, 1, 4, 4]);
});

test('txns go in and come back equal, decoded with their own bytes', () => {
  const r = new TxnRing({ maxCount: 3 });
  const txns = [createTxn(1, '/a', 'x', 0), setDataTxn(2, '/a', 'y'.repeat(3000), 0), createTxn(3, '/b', null, 1)];
  for (const t of txns) pushTxn(r, t);
  for (let i = 0; i < txns.length; i++) {
    const back = txnAt(r, i);
    assert.deepEqual(plain(back), plain(txns[i]!));
    assert.deepEqual(encodeTxn(back), encodeTxn(txns[i]!));
  }
  // A decoded txn owns its bytes: changing the ring afterwards does not touch it.
  const first = txnAt(r, 0);
  for (let z = 4; z < 10; z++) pushTxn(r, setDataTxn(z, '/a', 'z'.repeat(z * 100), z));
  assert.deepEqual(plain(first), plain(txns[0]!));
});

test('the leader core\'s byte window holds what the array window holds and leads to the same sync decisions', async () => {
  const { ArrayCommittedWindow } = await import('../../src/quorum/zab/ZabLeader.js');
  const { chooseSync } = await import('../../src/quorum/zab/syncDecision.js');
  const { TxnProposalWindow } = await import('../../src/protocol/TxnRing.js');
  const bytesWin = new TxnProposalWindow(50);
  const arrayWin = new ArrayCommittedWindow<ReturnType<typeof createTxn>>(50);
  // Two runs of zxids with a gap between them (small: the helper uses the zxid as cxid, an int).
  const zxids = [...Array.from({ length: 40 }, (_, i) => i + 1), ...Array.from({ length: 40 }, (_, i) => 1000 + i)];
  for (const z of zxids) {
    const t = setDataTxn(z, '/n', 'v'.repeat(z % 200), z);
    bytesWin.add(BigInt(z), t);
    arrayWin.add(BigInt(z), t);
  }
  assert.equal(bytesWin.size, 50);
  assert.deepEqual([bytesWin.minZxid, bytesWin.maxZxid], [arrayWin.minZxid, arrayWin.maxZxid]);
  const norm = (ps: readonly { zxid: bigint; txn: ReturnType<typeof createTxn> }[]) => ps.map((p) => ({ zxid: p.zxid, txn: plain(p.txn) }));
  assert.deepEqual(norm(bytesWin.proposals()), norm(arrayWin.proposals()));
  for (const peer of [0, 5, 30, 31, 39, 40, 41, 1000, 1010, 1039, 1040]) {
    const inp = { peerLastZxid: BigInt(peer), lastProcessedZxid: 1039n };
    const a = chooseSync({ ...inp, committedLog: bytesWin.proposals() });
    const b = chooseSync({ ...inp, committedLog: arrayWin.proposals() });
    assert.deepEqual({ ...a, proposals: norm(a.proposals) }, { ...b, proposals: norm(b.proposals) }, `peer ${peer}`);
  }
});
