// LeaderCommit and FollowerCommit: the pipeline's CommitStage on the Zab cores, over real log stages
// (MemoryTxnLog, Node's scheduler) and an in-process transport that delivers asynchronously.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Txn } from '../../../src/protocol/txn.js';
import { MemoryTxnLog } from '../../../src/storage/MemoryTxnLog.js';
import { nodeRuntime } from '../../../src/runtime/Runtime.js';
import { ZabLeader } from '../../../src/quorum/zab/ZabLeader.js';
import { ZabLearner } from '../../../src/quorum/zab/ZabLearner.js';
import type { ZabMessage } from '../../../src/quorum/zab/messages.js';
import type { CommitSink, CommitStage } from '../../../src/server/pipeline/Commit.js';
import { leaderCommit, type LeaderCommit } from '../../../src/server/pipeline/LeaderCommit.js';
import { followerCommit, type FollowerCommit } from '../../../src/server/pipeline/FollowerCommit.js';

type M = ZabMessage<Txn, Txn[]>;

function sessionTxn(zxid: number, i: number): Txn {
  return { hdr: { clientId: BigInt(0x1000 + i), cxid: 0, zxid, time: Date.now(), type: -10 }, body: { type: -10, timeOut: 4000 + i } } as Txn;
}

class Sink implements CommitSink {
  readonly txns: Txn[] = [];
  errors: Error[] = [];
  committed(txn: Txn): void {
    this.txns.push(txn);
  }
  fatal(err: Error): void {
    this.errors.push(err);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await tick();
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a leader and two followers over the pipeline commit stages: quorum commit, zxid order, ACK after durability', async () => {
  const epochs = new Map<number, { accepted: number; current: number }>([1, 2, 3].map((s) => [s, { accepted: 0, current: 0 }]));
  const store = (sid: number) => ({
    setAcceptedEpoch: (e: number) => void (epochs.get(sid)!.accepted = e),
    setCurrentEpoch: async (e: number) => {
      await tick(); // a slow fsync of the epoch file: later outputs must wait for it
      epochs.get(sid)!.current = e;
    },
  });
  const wire: string[] = [];
  let leaderStage!: LeaderCommit<Txn[]>;
  const followerStages = new Map<number, FollowerCommit<Txn[]>>();
  const established: number[] = [];
  const serving: number[] = [];
  const forwarded: string[] = [];

  const leaderLog = new MemoryTxnLog();
  const leaderSink = new Sink();
  const core = new ZabLeader<Txn, Txn[]>({
    sid: 1, voters: [1, 2, 3], acceptedEpoch: 0, currentEpoch: 0, lastProcessedZxid: 0n, committedLog: [],
    snapshot: () => [], initLimit: 10, syncLimit: 5,
  });
  const leaderFactory = leaderCommit<Txn[]>(
    core, leaderLog, nodeRuntime,
    {
      send: (to, msg: M) => {
        // LEADERINFO may only leave once acceptedEpoch is on disk.
        if (msg.type === 'LEADERINFO') assert.equal(epochs.get(1)!.accepted, 1);
        if (msg.type === 'NEWLEADER') assert.equal(epochs.get(1)!.current, 1);
        wire.push(`1->${to} ${msg.type}`);
        setImmediate(() => followerStages.get(to)?.receive(msg));
      },
      disconnect: () => assert.fail('no disconnects expected'),
    },
    store(1),
    {
      established: (e) => established.push(e),
      stepDown: (r) => assert.fail(`step down: ${r}`),
      learnerRequest: (sid, msg) => forwarded.push(`${sid} ${msg.type}`),
    },
    undefined,
    (s) => (leaderStage = s),
  );
  const leaderCs: CommitStage = leaderFactory(leaderSink);

  const followerLogs = new Map<number, MemoryTxnLog>();
  const followerSinks = new Map<number, Sink>();
  for (const sid of [2, 3]) {
    const log = new MemoryTxnLog();
    followerLogs.set(sid, log);
    const sink = new Sink();
    followerSinks.set(sid, sink);
    const learner = new ZabLearner<Txn, Txn[]>({ sid, type: 'follower', acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0n, initLimit: 10, syncLimit: 5 });
    followerCommit<Txn[]>(
      learner, log, nodeRuntime,
      {
        send: (_to, msg: M) => {
          if (msg.type === 'ACK' && (msg.zxid & 0xffffffffn) !== 0n) {
            // A follower's ACK means the txn is in its log.
            assert.ok(log.txns.some((t) => BigInt(t.hdr.zxid) === msg.zxid), `ACK 0x${msg.zxid.toString(16)} before durable`);
          }
          wire.push(`${sid}->1 ${msg.type}`);
          setImmediate(() => leaderStage.receive(sid, msg));
        },
        disconnect: () => assert.fail('no disconnects expected'),
      },
      1,
      { ...store(sid), truncate: () => assert.fail('no TRUNC'), loadSnapshot: () => assert.fail('no SNAP'), takeSnapshot: () => assert.fail('no SNAP') },
      { serving: (e) => serving.push(e), leaderLost: (r) => assert.fail(`leader lost: ${r}`) },
      undefined,
      (s) => followerStages.set(sid, s),
    )(sink);
  }

  const request: M = { type: 'REQUEST', zxid: -1n, sessionId: 0x1234n, cxid: 1, opType: 9, body: new Uint8Array(), authinfo: null };
  assert.equal(followerStages.get(2)!.forward(request), false, 'nothing is forwarded before UPTODATE');
  leaderStage.start();
  for (const f of followerStages.values()) f.start();
  await until('establishment and UPTODATE', () => established.length === 1 && serving.length === 2);
  assert.deepEqual(established, [1]);
  assert.deepEqual([...epochs.values()], [1, 2, 3].map(() => ({ accepted: 1, current: 1 })));
  assert.equal(followerStages.get(3)!.forward(request), true);
  await until('the forwarded request reaches the leader host', () => forwarded.length === 1);
  assert.deepEqual(forwarded, ['3 REQUEST']);

  const txns = Array.from({ length: 20 }, (_, i) => sessionTxn(Number(core.nextZxid()) + i, i));
  for (const t of txns) leaderCs.propose(t);
  assert.ok(leaderCs.inFlight > 0);
  await leaderCs.settled();
  assert.equal(leaderCs.inFlight, 0);
  assert.deepEqual(leaderSink.txns.map((t) => t.hdr.zxid), txns.map((t) => t.hdr.zxid));
  assert.equal(leaderLog.txns.length, 20);
  await until('followers commit', () => [...followerSinks.values()].every((s) => s.txns.length === 20));
  for (const [sid, sink] of followerSinks) {
    assert.deepEqual(sink.txns.map((t) => t.hdr.zxid), txns.map((t) => t.hdr.zxid), `follower ${sid}`);
    assert.equal(followerLogs.get(sid)!.txns.length, 20);
    await followerStages.get(sid)!.settled();
    assert.equal(followerStages.get(sid)!.inFlight, 0);
    assert.deepEqual(sink.errors, []);
  }
  assert.deepEqual(leaderSink.errors, []);
  // A follower does not prepare writes: proposing on it is a clear error, not a silent drop.
  const f2 = followerStages.get(2)!;
  f2.propose(sessionTxn(999, 99));
  assert.match(followerSinks.get(2)!.errors[0].message, /forwarded to the leader/);
  assert.ok(wire.filter((w) => w.endsWith('PROPOSAL')).length === 40);
  await leaderCs.close();
});
