// The learner core once serving: what each broadcast packet yields, and how it refuses a leader
// that breaks zxid order (the cases a recorded run of a well-behaved Apache leader never shows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZabLearner, type LearnerOutput } from '../../../src/quorum/zab/ZabLearner.js';

const E = 5;
const z = (c: number): bigint => (BigInt(E) << 32n) | BigInt(c);

/** A learner brought through LEADERINFO, DIFF, NEWLEADER and UPTODATE with nothing to sync. */
function serving(type: 'follower' | 'observer'): ZabLearner<string> {
  const l = new ZabLearner<string>({ sid: 2, type, acceptedEpoch: E - 1, currentEpoch: E - 1, lastLoggedZxid: 0n, initLimit: 10, syncLimit: 5 });
  l.start();
  l.receive({ type: 'LEADERINFO', zxid: z(0), protocolVersion: 0x10000 });
  l.receive({ type: 'DIFF', zxid: 0n });
  l.receive({ type: 'NEWLEADER', zxid: z(0), config: '' });
  l.receive({ type: 'UPTODATE', zxid: 0n });
  assert.equal(l.state, 'broadcast');
  return l;
}

const kinds = (outs: LearnerOutput<string, unknown>[]) => outs.map((o) => (o.kind === 'send' ? `send ${o.msg.type} ${o.msg.zxid}` : o.kind === 'log' || o.kind === 'commit' ? `${o.kind} ${o.zxid} ${o.txn}` : o.kind));

test('follower: PROPOSAL is logged, ACKed once durable (in order, each once), committed on COMMIT', () => {
  const l = serving('follower');
  assert.deepEqual(kinds(l.receive({ type: 'PROPOSAL', zxid: z(1), txn: 'a' })), [`log ${z(1)} a`]);
  assert.deepEqual(kinds(l.receive({ type: 'PROPOSAL', zxid: z(2), txn: 'b' })), [`log ${z(2)} b`]);
  assert.deepEqual(kinds(l.receive({ type: 'PROPOSAL', zxid: z(3), txn: 'c' })), [`log ${z(3)} c`]);
  assert.deepEqual(kinds(l.logged(z(2))), [`send ACK ${z(1)}`, `send ACK ${z(2)}`]);
  assert.deepEqual(kinds(l.logged(z(2))), []);
  assert.deepEqual(kinds(l.receive({ type: 'COMMIT', zxid: z(1) })), [`commit ${z(1)} a`]);
  assert.deepEqual(kinds(l.logged(z(3))), [`send ACK ${z(3)}`]);
  assert.deepEqual(kinds(l.receive({ type: 'COMMIT', zxid: z(2) })), [`commit ${z(2)} b`]);
  assert.deepEqual(kinds(l.receive({ type: 'COMMIT', zxid: z(3) })), [`commit ${z(3)} c`]);
  // Nothing pending: ZooKeeper only warns.
  assert.deepEqual(kinds(l.receive({ type: 'COMMIT', zxid: z(4) })), []);
  assert.equal(l.state, 'broadcast');
});

test('follower: a PROPOSAL not after the last, or a COMMIT out of order, loses the leader', () => {
  const a = serving('follower');
  a.receive({ type: 'PROPOSAL', zxid: z(2), txn: 'x' });
  assert.deepEqual(a.receive({ type: 'PROPOSAL', zxid: z(2), txn: 'y' }), [{ kind: 'leaderLost', reason: `proposal 0x${z(2).toString(16)} is not after 0x${z(2).toString(16)}` }]);
  assert.equal(a.state, 'lost');
  const b = serving('follower');
  b.receive({ type: 'PROPOSAL', zxid: z(1), txn: 'x' });
  b.receive({ type: 'PROPOSAL', zxid: z(2), txn: 'y' });
  const out = b.receive({ type: 'COMMIT', zxid: z(2) });
  assert.equal(out.length, 1);
  assert.match(out[0]!.kind === 'leaderLost' ? out[0]!.reason : '', /Committing zxid 0x500000002 but next pending txn 0x500000001/);
  assert.deepEqual(b.logged(z(2)), []);
  const c = serving('follower');
  assert.equal(c.receive({ type: 'INFORM', zxid: z(1), txn: 'i' })[0]!.kind, 'leaderLost');
});

test('observer: INFORM is logged and committed at once; PROPOSAL and COMMIT lose the leader; no ACKs', () => {
  const l = serving('observer');
  assert.deepEqual(kinds(l.receive({ type: 'INFORM', zxid: z(1), txn: 'i' })), [`log ${z(1)} i`, `commit ${z(1)} i`]);
  assert.deepEqual(l.logged(z(1)), []);
  assert.equal(l.receive({ type: 'INFORM', zxid: z(1), txn: 'j' })[0]!.kind, 'leaderLost');
  assert.equal(serving('observer').receive({ type: 'PROPOSAL', zxid: z(1), txn: 'p' })[0]!.kind, 'leaderLost');
  assert.equal(serving('observer').receive({ type: 'COMMIT', zxid: z(1) })[0]!.kind, 'leaderLost');
});

test('PING is answered with the sessions touched since, SYNC and REVALIDATE go to the host', () => {
  const l = serving('follower');
  l.touchSession(0x10n, 4000);
  l.touchSession(0x11n, 6000);
  assert.deepEqual(l.receive({ type: 'PING', zxid: z(0), sessions: null }), [
    { kind: 'send', msg: { type: 'PING', zxid: z(0), sessions: [{ sessionId: 0x10n, timeout: 4000 }, { sessionId: 0x11n, timeout: 6000 }] } },
  ]);
  assert.deepEqual(l.receive({ type: 'PING', zxid: z(0), sessions: null }), [{ kind: 'send', msg: { type: 'PING', zxid: z(0), sessions: [] } }]);
  const sync = { type: 'SYNC', zxid: -1n } as const;
  assert.deepEqual(l.receive(sync), [{ kind: 'leaderReply', msg: sync }]);
});
