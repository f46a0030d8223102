// The leader core counts ACKs per proposal: as bits of a number up to 30 voters, in a Set past
// that, and asks the ensemble's quorum check either way. A proposal commits exactly when the
// leader (once its log is durable) and its acking followers form a quorum, in zxid order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZabLeader, type LeaderOutput } from '../../../src/quorum/zab/ZabLeader.js';

type Out = LeaderOutput<string, string>;

/** A leader (sid 1) established in epoch 1 with followers 2..n, all synced; its log is durable at once when `durable`. */
function established(n: number, isQuorum?: (s: ReadonlySet<number>) => boolean) {
  const voters = Array.from({ length: n }, (_, i) => i + 1);
  const leader = new ZabLeader<string, string>({
    sid: 1, voters, acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0n, committedLog: [],
    snapshot: () => '', initLimit: 10, syncLimit: 5, isQuorum,
  });
  const commits: bigint[] = [];
  const take = (outs: Out[]) => {
    for (const o of outs) if (o.kind === 'commit') commits.push(o.zxid);
  };
  take(leader.start());
  for (const sid of voters.slice(1)) {
    take(leader.receive(sid, { type: 'FOLLOWERINFO', zxid: 0n, sid: BigInt(sid), protocolVersion: 0x10000, configVersion: 0n }));
  }
  for (const sid of voters.slice(1)) take(leader.receive(sid, { type: 'ACKEPOCH', zxid: 0n, currentEpoch: 0 }));
  for (const sid of voters.slice(1)) take(leader.receive(sid, { type: 'ACK', zxid: 0x100000000n }));
  assert.ok(leader.isEstablished);
  return { leader, commits, take };
}

for (const n of [5, 33]) {
  test(`${n} voters: a proposal commits at the majority's ack, not before, and later ones wait for it`, () => {
    const { leader, commits, take } = established(n);
    const z1 = 0x100000001n, z2 = 0x100000002n;
    take(leader.propose(z1, 'a'));
    take(leader.propose(z2, 'b'));
    take(leader.logged(z2));
    const majority = Math.floor(n / 2) + 1;
    // Followers ack z2 first: it still waits for z1.
    for (let sid = 2; sid <= majority; sid++) take(leader.receive(sid, { type: 'ACK', zxid: z2 }));
    assert.deepEqual(commits, []);
    // z1's acks: one short of a majority (the leader counts), then a repeated ack that adds nothing.
    for (let sid = 2; sid < majority; sid++) take(leader.receive(sid, { type: 'ACK', zxid: z1 }));
    take(leader.receive(2, { type: 'ACK', zxid: z1 }));
    assert.deepEqual(commits, [], 'one ack short of a quorum');
    take(leader.receive(majority, { type: 'ACK', zxid: z1 }));
    assert.deepEqual(commits, [z1, z2]);
  });
}

test('the ensemble\'s own quorum check decides (a weighted ensemble where follower 3 is needed)', () => {
  const asked: number[][] = [];
  const isQuorum = (s: ReadonlySet<number>) => {
    asked.push([...s].sort());
    return s.has(1) && s.has(3);
  };
  const { leader, commits, take } = established(3, isQuorum);
  const z = 0x100000001n;
  take(leader.propose(z, 'a'));
  take(leader.receive(2, { type: 'ACK', zxid: z }));
  take(leader.logged(z));
  assert.deepEqual(commits, [], 'leader and follower 2 are no quorum here');
  take(leader.receive(3, { type: 'ACK', zxid: z }));
  assert.deepEqual(commits, [z]);
  // A second proposal acked the same way reuses the answers already given.
  const before = asked.length;
  const z2 = 0x100000002n;
  take(leader.propose(z2, 'b'));
  take(leader.logged(z2));
  take(leader.receive(2, { type: 'ACK', zxid: z2 }));
  take(leader.receive(3, { type: 'ACK', zxid: z2 }));
  assert.deepEqual(commits, [z, z2]);
  assert.ok(asked.length <= before + 1, 'the answer for an ack set seen before is not asked again');
});
