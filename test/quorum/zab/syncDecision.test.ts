// LearnerHandler.syncFollower's choice, case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSync } from '../../../src/quorum/zab/syncDecision.js';
import type { Proposal } from '../../../src/quorum/zab/messages.js';

const z = (e: number, c: number): bigint => (BigInt(e) << 32n) | BigInt(c);
const props = (list: bigint[]): Proposal<string>[] => list.map((zxid) => ({ zxid, txn: zxid.toString(16) }));
const zs = (d: { proposals: Proposal<string>[] }): bigint[] => d.proposals.map((p) => p.zxid);

const committedLog = props([z(1, 5), z(1, 6), z(1, 7), z(2, 1), z(2, 2)]);

test('in sync: empty DIFF at the peer zxid', () => {
  const d = chooseSync({ peerLastZxid: z(2, 2), lastProcessedZxid: z(2, 2), committedLog });
  assert.deepEqual([d.mode, d.zxid, zs(d)], ['DIFF', z(2, 2), []]);
});

test('peer inside the committed log: DIFF(maxCommittedLog) with the rest, crossing an epoch', () => {
  const d = chooseSync({ peerLastZxid: z(1, 6), lastProcessedZxid: z(2, 2), committedLog });
  assert.deepEqual([d.mode, d.zxid, zs(d)], ['DIFF', z(2, 2), [z(1, 7), z(2, 1), z(2, 2)]]);
});

test('peer ahead of the committed log: TRUNC(maxCommittedLog)', () => {
  const d = chooseSync({ peerLastZxid: z(2, 9), lastProcessedZxid: z(2, 2), committedLog });
  assert.deepEqual([d.mode, d.zxid, zs(d)], ['TRUNC', z(2, 2), []]);
});

test('peer ahead with a new-epoch zxid (counter 0) is not truncated: DIFF', () => {
  const d = chooseSync({ peerLastZxid: z(3, 0), lastProcessedZxid: z(3, 0), committedLog });
  assert.equal(d.mode, 'DIFF');
  const e = chooseSync({ peerLastZxid: z(2, 0), lastProcessedZxid: z(2, 2), committedLog });
  assert.deepEqual([e.mode, e.zxid, zs(e)], ['DIFF', z(2, 2), [z(2, 1), z(2, 2)]]);
});

test('peer has a txn we never had, same epoch: TRUNC to the last txn before it, then DIFF the rest', () => {
  const log = props([z(1, 5), z(1, 6), z(1, 8), z(1, 9)]);
  const d = chooseSync({ peerLastZxid: z(1, 7), lastProcessedZxid: z(1, 9), committedLog: log });
  assert.deepEqual([d.mode, d.zxid, zs(d)], ['TRUNC', z(1, 6), [z(1, 8), z(1, 9)]]);
});

test('peer has a txn we never had, and our next txn is of another epoch: SNAP', () => {
  const d = chooseSync({ peerLastZxid: z(1, 8), lastProcessedZxid: z(2, 2), committedLog });
  assert.equal(d.mode, 'SNAP');
  assert.equal(d.zxid, z(2, 2));
  assert.match(d.reason, /another epoch/);
});

test('peer behind the committed log: from the txn log, then the committed log', () => {
  const txnLog = props([z(1, 1), z(1, 2), z(1, 3), z(1, 4), z(1, 5), z(1, 6)]);
  const d = chooseSync({ peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 2), committedLog, txnLogFrom: (from) => txnLog.filter((p) => p.zxid >= from) });
  assert.deepEqual([d.mode, d.zxid, zs(d)], ['DIFF', z(2, 2), [z(1, 3), z(1, 4), z(1, 5), z(1, 6), z(1, 7), z(2, 1), z(2, 2)]]);
});

test('txn log with a gap before the committed log, or not reaching back, or too big: SNAP', () => {
  const gap = props([z(1, 1), z(1, 2), z(1, 3)]);
  const a = chooseSync({ peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 2), committedLog, txnLogFrom: () => gap });
  assert.equal(a.mode, 'SNAP');
  assert.match(a.reason, /gap/);
  const late = props([z(1, 4), z(1, 5)]);
  const b = chooseSync({ peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 2), committedLog, txnLogFrom: () => late });
  assert.equal(b.mode, 'SNAP');
  const c = chooseSync({ peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 2), committedLog, txnLogFrom: () => null });
  assert.match(c.reason, /size limit/);
  const none = chooseSync({ peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 2), committedLog });
  assert.equal(none.mode, 'SNAP');
});

test('forceSnapshotSync and an empty committed log', () => {
  assert.equal(chooseSync({ peerLastZxid: z(2, 2), lastProcessedZxid: z(2, 2), committedLog, forceSnapshotSync: true }).mode, 'SNAP');
  // Empty log: the window collapses to lastProcessedZxid.
  const d = chooseSync({ peerLastZxid: z(1, 3), lastProcessedZxid: z(1, 2), committedLog: [] });
  assert.deepEqual([d.mode, d.zxid], ['TRUNC', z(1, 2)]);
  const e = chooseSync({ peerLastZxid: z(1, 1), lastProcessedZxid: z(1, 2), committedLog: [] });
  assert.equal(e.mode, 'SNAP');
});
