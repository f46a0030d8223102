// Rules of the election core one at a time, on hand-fed inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastLeaderElection, type ElectionOutput, type Notification } from '../../../src/quorum/election/FastLeaderElection.js';
import { QuorumHierarchical, QuorumMaj, numericQuorumCheck } from '../../../src/quorum/election/QuorumVerifier.js';
import { LONG_MIN, makeVote, totalOrderPredicate, votesEqual } from '../../../src/quorum/election/Vote.js';

const sends = (outs: ElectionOutput[]) => outs.flatMap((o) => (o.type === 'send' ? [o] : []));
const timers = (outs: ElectionOutput[]) => outs.flatMap((o) => (o.type === 'setTimer' ? [o] : []));
const decided = (outs: ElectionOutput[]) => outs.flatMap((o) => (o.type === 'decided' ? [o] : []));
const lastToken = (outs: ElectionOutput[]) => timers(outs).at(-1)!.token;
const looking = (leader: bigint, zxid: bigint, round: bigint, peerEpoch: bigint): Notification => ({ state: 'LOOKING', leader, zxid, electionEpoch: round, peerEpoch, version: 2 });

function core(myId: bigint, voters = [1n, 2n, 3n], learnerType: 'participant' | 'observer' = 'participant') {
  return new FastLeaderElection({ myId, learnerType, verifier: new QuorumMaj(voters) });
}

test('order: peerEpoch, then zxid, then sid; weight 0 never wins', () => {
  const c = (leader: bigint, zxid: bigint, peerEpoch: bigint) => ({ leader, zxid, peerEpoch });
  assert.equal(totalOrderPredicate(1n, c(1n, 0n, 2n), c(3n, 0x100000009n, 1n)), true);
  assert.equal(totalOrderPredicate(1n, c(1n, 0x100000002n, 1n), c(3n, 0x100000001n, 1n)), true);
  assert.equal(totalOrderPredicate(1n, c(3n, 5n, 1n), c(2n, 5n, 1n)), true);
  assert.equal(totalOrderPredicate(1n, c(2n, 5n, 1n), c(3n, 5n, 1n)), false);
  assert.equal(totalOrderPredicate(1n, c(2n, 5n, 1n), c(2n, 5n, 1n)), false, 'a vote does not beat itself');
  assert.equal(totalOrderPredicate(0n, c(9n, 99n, 9n), c(1n, 0n, 0n)), false);
  assert.equal(totalOrderPredicate(1n, c(1n, 0n, 0n), c(LONG_MIN, LONG_MIN, LONG_MIN)), true, "any voter beats an observer's vote");
});

test('vote equality: LOOKING compares all four numbers; established votes leader and peerEpoch', () => {
  const a = makeVote(3n, 0n, 1n, 1n, 'FOLLOWING', 2);
  assert.equal(votesEqual(a, makeVote(3n, 0x10000000fn, 7n, 1n, 'LEADING', 2)), true);
  assert.equal(votesEqual(a, makeVote(3n, 0n, 1n, 2n, 'LEADING', 2)), false);
  assert.equal(votesEqual(a, makeVote(3n, 0n, 1n, 2n, 'LEADING', 0)), true, 'peerEpoch ignored across format versions');
  assert.equal(votesEqual(a, makeVote(3n, 0n, 1n, 1n, 'LOOKING')), true);
  assert.equal(votesEqual(a, makeVote(3n, 0n, 1n, 0n, 'LOOKING')), false);
  assert.equal(votesEqual(makeVote(3n, 0n, 1n, 1n), makeVote(3n, 0n, 2n, 1n)), false);
});

test('quorums: majority of voters only; hierarchical groups and zero weights', () => {
  const maj = new QuorumMaj([1n, 2n, 3n, 4n, 5n]);
  assert.equal(maj.containsQuorum([1n, 2n]), false);
  assert.equal(maj.containsQuorum([1n, 2n, 3n]), true);
  assert.equal(maj.containsQuorum([1n, 2n, 6n, 7n]), false, 'observers add nothing');
  const groups = [
    { id: 1n, members: [1n, 2n, 3n] },
    { id: 2n, members: [4n, 5n, 6n] },
    { id: 3n, members: [7n, 8n, 9n] },
  ];
  const h = new QuorumHierarchical(groups, new Map());
  assert.equal(h.containsQuorum([1n, 2n, 4n, 5n]), true, '4 of 9 can be a quorum');
  assert.equal(h.containsQuorum([1n, 2n, 3n, 4n, 7n]), false);
  const w = new QuorumHierarchical(groups, new Map([[7n, 0n], [8n, 0n], [9n, 0n]]));
  assert.equal(w.containsQuorum([1n, 2n]), false, 'two non-zero groups: both need a majority');
  assert.equal(w.containsQuorum([1n, 2n, 4n, 5n]), true);
  assert.throws(() => new QuorumHierarchical([{ id: 1n, members: [1n] }, { id: 2n, members: [1n] }], new Map()), /more than one group/);
});

test('numericQuorumCheck answers as containsQuorum for every set of sids (majority and hierarchical)', () => {
  const verifiers = [
    new QuorumMaj([1n, 2n, 3n, 4n, 5n]),
    new QuorumHierarchical([{ id: 1n, members: [1n, 2n] }, { id: 2n, members: [3n, 4n] }, { id: 3n, members: [5n, 6n] }], new Map([[6n, 0n]])),
  ];
  for (const v of verifiers) {
    const check = numericQuorumCheck(v);
    // Every subset of sids 1..7 (7 is a stranger to both: it must never count).
    for (let mask = 0; mask < 1 << 7; mask++) {
      const sids = [1, 2, 3, 4, 5, 6, 7].filter((_, i) => mask & (1 << i));
      assert.equal(check(new Set(sids)), v.containsQuorum(sids.map(BigInt)), `${v.constructor.name} {${sids.join(',')}}`);
    }
  }
});

test('a zero-weight voter with the highest zxid is never proposed', () => {
  const verifier = new QuorumHierarchical([{ id: 1n, members: [1n, 2n, 3n] }], new Map([[3n, 0n]]));
  const c = new FastLeaderElection({ myId: 1n, learnerType: 'participant', verifier });
  c.startLooking({ lastLoggedZxid: 5n, currentEpoch: 1n });
  const out = c.receive(3n, looking(3n, 9n, 1n, 1n));
  assert.equal(sends(out).length, 0);
  assert.equal(c.proposal.leader, 1n);
});

test('start: log line, own vote to every voter including itself, first wait 200 ms', () => {
  const c = core(2n);
  const out = c.startLooking({ lastLoggedZxid: 0x100000221n, currentEpoch: 1n });
  assert.deepEqual(
    out.filter((o) => o.type === 'log').map((o) => (o as { message: string }).message),
    ['New election. My id = 2, proposed zxid=0x100000221'],
  );
  assert.deepEqual(
    sends(out).map((s) => [s.to, s.notification.leader, s.notification.electionEpoch]),
    [
      [1n, 2n, 1n],
      [2n, 2n, 1n],
      [3n, 2n, 1n],
    ],
  );
  assert.deepEqual(timers(out).map((t) => t.delayMs), [200]);
});

test('notification timeouts double up to 60 s; resend when delivered, else connect to everyone', () => {
  const c = core(1n);
  let out = c.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) {
    out = c.timeout(lastToken(out), i % 2 === 0);
    delays.push(timers(out)[0]!.delayMs);
    if (i % 2 === 0) assert.equal(sends(out).length, 3);
    else assert.deepEqual(out.filter((o) => o.type === 'connectAll').length, 1);
  }
  assert.deepEqual(delays, [400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000, 60000, 60000]);
  assert.ok(out.some((o) => o.type === 'log' && o.message === 'Notification time out: 60000 ms'));
  assert.deepEqual(c.timeout(lastToken(out) - 1, true), [], 'a stale timer token does nothing');
});

test('finalize wait: a quorum must stand 200 ms; a worse vote restarts the wait, a better one reopens', () => {
  const c = core(3n);
  let out = c.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  out = c.receive(3n, looking(3n, 0n, 1n, 0n));
  out = c.receive(2n, looking(3n, 0n, 1n, 0n));
  assert.deepEqual(timers(out).map((t) => t.delayMs), [200, 200], 'loop wait, then finalizeWait');
  out = c.receive(1n, looking(1n, 0n, 1n, 0n));
  assert.equal(decided(out).length, 0);
  assert.deepEqual(timers(out).map((t) => t.delayMs), [200]);
  assert.equal(c.timeout(lastToken(out) - 1, true).length, 0, 'the restarted wait replaced the old one');
  // A better vote (higher peerEpoch) reopens the round: 3 adopts it.
  out = c.receive(1n, looking(1n, 0n, 1n, 1n));
  assert.equal(c.proposal.leader, 1n);
  assert.equal(sends(out).length, 3);
  const c2 = core(3n);
  c2.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  c2.receive(3n, looking(3n, 0n, 1n, 0n));
  out = c2.receive(2n, looking(3n, 0n, 1n, 0n));
  out = c2.timeout(lastToken(out), true);
  assert.deepEqual(decided(out).map((d) => [d.state, d.vote.leader, d.vote.electionEpoch]), [['LEADING', 3n, 1n]]);
  assert.equal(c2.state, 'LEADING');
});

test('rounds: a higher round resets the tally; a lower one is ignored but answered', () => {
  const c = core(1n);
  c.startLooking({ lastLoggedZxid: 7n, currentEpoch: 1n });
  let out = c.receive(2n, looking(2n, 3n, 5n, 1n));
  assert.equal(c.logicalClock, 5n);
  assert.equal(c.proposal.leader, 1n, 'own vote is better than the newcomer');
  assert.deepEqual(sends(out).map((s) => s.notification.electionEpoch), [5n, 5n, 5n]);
  out = c.receive(3n, looking(3n, 0n, 2n, 0n));
  assert.deepEqual(
    sends(out).map((s) => [s.to, s.notification.state, s.notification.leader, s.notification.electionEpoch]),
    [[3n, 'LOOKING', 1n, 5n]],
  );
  assert.equal(c.proposal.leader, 1n);
  out = c.receive(2n, looking(2n, -1n, 5n, 1n));
  assert.equal(sends(out).length, 0, 'zxid -1 is ignored');
});

test('joining an established ensemble needs the leader itself to say LEADING', () => {
  const c = core(1n, [1n, 2n, 3n, 4n, 5n]);
  c.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  const following = (leader: bigint): Notification => ({ state: 'FOLLOWING', leader, zxid: 0n, electionEpoch: 4n, peerEpoch: 2n, version: 2 });
  assert.equal(decided(c.receive(2n, following(3n))).length, 0);
  assert.equal(decided(c.receive(4n, following(3n))).length, 0);
  assert.equal(decided(c.receive(5n, following(3n))).length, 0, 'a quorum of followers of a silent leader is not enough');
  const out = c.receive(3n, { state: 'LEADING', leader: 3n, zxid: 0n, electionEpoch: 4n, peerEpoch: 2n, version: 2 });
  assert.deepEqual(decided(out).map((d) => [d.state, d.vote.leader, d.vote.electionEpoch]), [['FOLLOWING', 3n, 4n]]);
  assert.equal(c.logicalClock, 4n);
  // Followers naming *us* from another round do not make us lead.
  const d = core(3n);
  d.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  assert.equal(decided(d.receive(1n, following(3n))).length, 0);
  assert.equal(decided(d.receive(2n, following(3n))).length, 0);
});

test('observers: propose Long.MIN_VALUE, never counted, learn the leader, answered at once', () => {
  const obs = core(4n, [1n, 2n, 3n], 'observer');
  const out = obs.startLooking({ lastLoggedZxid: 9n, currentEpoch: 1n });
  assert.deepEqual(
    sends(out).map((s) => [s.to, s.notification.leader, s.notification.zxid, s.notification.peerEpoch]),
    [1n, 2n, 3n].map((to) => [to, LONG_MIN, LONG_MIN, LONG_MIN]),
  );
  // A voter does not record an observer's notification, it answers with its vote and round.
  const voter = core(1n);
  voter.startLooking({ lastLoggedZxid: 5n, currentEpoch: 1n });
  const reply = voter.receive(4n, { ...looking(LONG_MIN, LONG_MIN, 1n, LONG_MIN) });
  assert.deepEqual(
    sends(reply).map((s) => [s.to, s.notification.state, s.notification.leader, s.notification.electionEpoch]),
    [[4n, 'LOOKING', 1n, 1n]],
  );
  assert.ok(!reply.some((o) => o.type === 'log'), 'not even logged as a notification');
  // The observer follows LOOKING voters' votes and settles as OBSERVING, never LEADING.
  obs.receive(1n, looking(2n, 5n, 1n, 1n));
  const o2 = obs.receive(2n, looking(2n, 5n, 1n, 1n));
  const end = obs.timeout(lastToken(o2), true);
  assert.deepEqual(decided(end).map((d) => [d.state, d.vote.leader]), [['OBSERVING', 2n]]);
});

test('established members answer LOOKING voters with their fixed vote; a leader reports them', () => {
  const c = core(3n);
  c.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  c.receive(3n, looking(3n, 0n, 1n, 0n));
  const o = c.receive(2n, looking(3n, 0n, 1n, 0n));
  c.timeout(lastToken(o), true);
  c.updateElectionVote(1n);
  const out = c.receive(1n, looking(1n, 0x10000000fn, 1n, 1n));
  assert.deepEqual(out.filter((x) => x.type === 'lookingVoter'), [{ type: 'lookingVoter', sid: 1n }]);
  assert.deepEqual(
    sends(out).map((s) => s.notification),
    [{ state: 'LEADING', leader: 3n, zxid: 0n, electionEpoch: 1n, peerEpoch: 1n }],
  );
  assert.deepEqual(sends(c.receive(2n, { state: 'FOLLOWING', leader: 3n, zxid: 0n, electionEpoch: 1n, peerEpoch: 1n, version: 2 })), []);
});

test("notification log line in Apache's wording", () => {
  const c = core(1n);
  c.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  const out = c.receive(2n, looking(2n, 0x100000221n, 2n, 1n));
  assert.ok(
    out.some(
      (o) =>
        o.type === 'log' &&
        o.message ===
          'Notification: my state:LOOKING; n.sid:2, n.state:LOOKING, n.leader:2, n.round:0x2, n.peerEpoch:0x1, n.zxid:0x100000221, message format version:0x2, n.config version:0x0',
    ),
  );
});

test('notifications before the loop starts wait for it; bad intervals are refused', () => {
  const c = core(1n);
  assert.deepEqual(c.receive(3n, looking(3n, 0n, 1n, 0n)).filter((o) => o.type === 'send'), []);
  const out = c.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
  assert.equal(c.proposal.leader, 3n, 'the early vote was processed after our own went out');
  assert.equal(sends(out).length, 6);
  assert.throws(() => new FastLeaderElection({ myId: 1n, learnerType: 'participant', verifier: new QuorumMaj([1n]), minNotificationIntervalMs: 0 }), /intervals/);
});

test('finalize wait is skipped when the only voters missing are ones the wiring could not reach', () => {
  // The dead leader (1) is unreachable: once 2 and 3 agree there is nothing to wait for.
  const c = core(3n);
  c.startLooking({ lastLoggedZxid: 5n, currentEpoch: 1n });
  c.receive(3n, looking(3n, 5n, 1n, 1n));
  assert.equal(decided(c.peerReachable(1n, false)).length, 0, 'no quorum yet');
  let out = c.receive(2n, looking(3n, 5n, 1n, 1n));
  assert.deepEqual(decided(out).map((d) => [d.state, d.vote.leader, d.voters]), [['LEADING', 3n, [2n, 3n]]]);
  assert.equal(c.state, 'LEADING', 'decided without a finalize wait');
  assert.equal(out.at(-1)!.type, 'decided');

  // The quorum first, the failed dial later: the failure ends the wait.
  const f = core(2n);
  f.startLooking({ lastLoggedZxid: 5n, currentEpoch: 1n });
  f.receive(2n, looking(2n, 5n, 1n, 1n));
  out = f.receive(3n, looking(3n, 5n, 1n, 1n));
  assert.equal(f.proposal.leader, 3n);
  f.receive(2n, looking(3n, 5n, 1n, 1n));
  assert.equal(decided(out).length, 0);
  out = f.peerReachable(1n, false);
  assert.deepEqual(decided(out).map((d) => [d.state, d.vote.leader]), [['FOLLOWING', 3n]]);

  // A voter heard from again counts as reachable: the wait is Apache's 200 ms again.
  const g = core(3n);
  g.peerReachable(1n, false);
  g.startLooking({ lastLoggedZxid: 5n, currentEpoch: 1n });
  g.receive(1n, looking(1n, 0n, 1n, 0n));
  g.receive(3n, looking(3n, 5n, 1n, 1n));
  out = g.receive(2n, looking(3n, 5n, 1n, 1n));
  assert.equal(decided(out).length, 0, '1 voted for someone else: wait');
  assert.deepEqual(timers(out).map((t) => t.delayMs).at(-1), 200);

  // Without news from the wiring nothing changes (the existing finalize test), and a reachable
  // voter that has not voted yet keeps the wait.
  const h = core(3n);
  h.startLooking({ lastLoggedZxid: 5n, currentEpoch: 1n });
  h.receive(3n, looking(3n, 5n, 1n, 1n));
  out = h.receive(2n, looking(3n, 5n, 1n, 1n));
  assert.equal(decided(out).length, 0);
  assert.equal(decided(h.peerReachable(1n, true)).length, 0);
});

test("a voter's round heard while following counts in this member's next election", () => {
  // 1 follows 3 (elected in round 1). 3 dies; 2 notices first and opens round 2 voting for
  // itself; its notification reaches 1 while 1 still follows 3.
  const c = core(1n);
  c.startLooking({ lastLoggedZxid: 0x100000005n, currentEpoch: 1n });
  c.receive(1n, looking(1n, 0x100000005n, 1n, 1n));
  c.receive(3n, looking(3n, 0x100000005n, 1n, 1n));
  const o = c.receive(2n, looking(3n, 0x100000005n, 1n, 1n));
  c.timeout(lastToken(o), true);
  assert.equal(c.state, 'FOLLOWING');
  const answered = c.receive(2n, looking(2n, 0x100000009n, 2n, 1n));
  assert.deepEqual(sends(answered).map((s) => [s.to, s.notification.state, s.notification.leader]), [[2n, 'FOLLOWING', 3n]]);
  // 1 now notices: its round 2 starts from 2's vote (better history), with no wait for a resend.
  c.peerReachable(3n, false);
  const out = c.startLooking({ lastLoggedZxid: 0x100000005n, currentEpoch: 1n });
  assert.equal(c.proposal.leader, 2n);
  assert.deepEqual(sends(out).filter((s) => s.notification.leader === 2n).map((s) => s.to), [1n, 2n, 3n]);
  // Its own vote for 2 comes back to it: 1 and 2 agree, 3 is unreachable, so 1 decides at once.
  const decidedNow = c.receive(1n, looking(2n, 0x100000009n, 2n, 1n));
  assert.deepEqual(decided(decidedNow).map((d) => [d.state, d.vote.leader, d.vote.electionEpoch]), [['FOLLOWING', 2n, 2n]]);
  // Heard-while-established notifications are handed over once: a later election starts clean.
  c.peerReachable(2n, false);
  const later = c.startLooking({ lastLoggedZxid: 0x200000001n, currentEpoch: 2n });
  assert.equal(c.proposal.leader, 1n);
  assert.equal(decided(later).length, 0);
});
