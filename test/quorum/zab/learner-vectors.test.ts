// The learner core fed the packets a real Apache ZooKeeper 3.8 leader sent: it must answer with what
// the real learner answered, and take the same sync decision (truncate, snapshot, log, commit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZabLearner, type LearnerOutput } from '../../../src/quorum/zab/ZabLearner.js';
import { label, loadVector, vectorsAvailable, type Msg } from './vectors.js';

const skip = vectorsAvailable() ? false : 'recorded vectors not present';

interface Run {
  sent: Msg[];
  outputs: LearnerOutput<string, string>[];
}

/**
 * Plays the leader's side of `conn` into a learner core whose disk makes every append durable at once,
 * and records what the core sends back.
 */
function replay(file: string, conn: string, opts: ConstructorParameters<typeof ZabLearner>[0]): { run: Run; recorded: Msg[] } {
  const v = loadVector(file);
  const frames = v.frames.filter((f) => f.conn === conn);
  const core = new ZabLearner<string, string>(opts);
  const run: Run = { sent: [], outputs: [] };
  const carry = (outs: LearnerOutput<string, string>[]): void => {
    for (const o of outs) {
      run.outputs.push(o);
      if (o.kind === 'send') run.sent.push(o.msg);
      if (o.kind === 'log') carry(core.logged(o.zxid));
    }
  };
  carry(core.start());
  for (const f of frames) if (f.dir === 's2c') carry(core.receive(f.msg));
  return { run, recorded: frames.filter((f) => f.dir === 'c2s').map((f) => f.msg) };
}

/** Request traffic comes from the host, not the core; ACKs of synced txns may come before or after UPTODATE's ACK. */
function comparable(ms: Msg[]): { control: string[]; txnAcks: string[] } {
  const control: string[] = [];
  const txnAcks: string[] = [];
  for (const m of ms) {
    if (m.type === 'REQUEST' || m.type === 'REVALIDATE') continue;
    if (m.type === 'ACK' && (m.zxid & 0xffffffffn) !== 0n) txnAcks.push(label(m));
    else control.push(label(m));
  }
  return { control, txnAcks };
}

function kinds(outs: LearnerOutput<string, string>[]): string[] {
  return outs
    .filter((o) => o.kind !== 'send')
    .map((o) => {
      switch (o.kind) {
        case 'persistAcceptedEpoch':
        case 'persistCurrentEpoch':
        case 'serving':
          return `${o.kind} ${o.epoch}`;
        case 'truncate':
        case 'loadSnapshot':
        case 'takeSnapshot':
        case 'log':
        case 'commit':
          return `${o.kind} 0x${o.zxid.toString(16)}`;
        default:
          return o.kind;
      }
    });
}

test('follower-restart-diff: DIFF with 6 PROPOSAL+COMMIT pairs, same ACKs as ZooKeeper 3.8', { skip }, () => {
  const { run, recorded } = replay('follower-restart-diff.jsonl', 'q3', {
    sid: 1,
    type: 'follower',
    acceptedEpoch: 1,
    currentEpoch: 1,
    lastLoggedZxid: 0x10000000fn,
    initLimit: 10,
    syncLimit: 5,
  });
  const ours = comparable(run.sent);
  const theirs = comparable(recorded);
  assert.deepEqual(ours.control, theirs.control);
  assert.deepEqual(ours.txnAcks, theirs.txnAcks);
  assert.equal(ours.txnAcks.length, 6);
  // The epoch did not change: nothing to accept, ACKEPOCH carries -1.
  const ackEpoch = run.sent.find((m) => m.type === 'ACKEPOCH');
  assert.deepEqual(ackEpoch, { type: 'ACKEPOCH', zxid: 0x10000000fn, currentEpoch: -1 });
  const zx = ['10', '11', '12', '13', '14', '15'];
  assert.deepEqual(kinds(run.outputs), [
    ...zx.map((z) => `log 0x1000000${z}`),
    'persistCurrentEpoch 1',
    'serving 1',
    ...zx.map((z) => `commit 0x1000000${z}`),
  ]);
  // The NEWLEADER ack goes out only after every synced txn is durable and currentEpoch is written.
  const idxEpoch = run.outputs.findIndex((o) => o.kind === 'persistCurrentEpoch');
  const idxAck = run.outputs.findIndex((o) => o.kind === 'send' && o.msg.type === 'ACK');
  const lastLog = run.outputs.map((o) => o.kind).lastIndexOf('log');
  assert.ok(lastLog < idxEpoch && idxEpoch < idxAck);
  // The txns committed are the bytes the leader proposed.
  const v = loadVector('follower-restart-diff.jsonl');
  const proposed = v.frames.filter((f) => f.conn === 'q3' && f.msg.type === 'PROPOSAL').map((f) => (f.msg as { txn: string }).txn);
  const committed = run.outputs.filter((o) => o.kind === 'commit').map((o) => (o as { txn: string }).txn);
  assert.deepEqual(committed, proposed);
});

test('follower-restart-diff: ACKs wait for durability (a slow disk holds them, and the NEWLEADER ACK)', { skip }, () => {
  const v = loadVector('follower-restart-diff.jsonl');
  const core = new ZabLearner<string, string>({ sid: 1, type: 'follower', acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x10000000fn, initLimit: 10, syncLimit: 5 });
  core.start();
  const sent: Msg[] = [];
  for (const f of v.frames.filter((x) => x.conn === 'q3' && x.dir === 's2c')) {
    if (f.msg.type === 'UPTODATE') break;
    for (const o of core.receive(f.msg)) if (o.kind === 'send') sent.push(o.msg);
  }
  assert.deepEqual(sent.map(label), ['ACKEPOCH 0x10000000f']);
  assert.equal(core.state, 'newLeaderLogging');
  const partial = core.logged(0x100000012n).filter((o) => o.kind === 'send');
  assert.equal(partial.length, 0, 'no ACK while part of the sync txns is not durable');
  const rest = core.logged(0x100000015n);
  assert.deepEqual(
    rest.filter((o) => o.kind === 'send').map((o) => label((o as { msg: Msg }).msg)),
    ['ACK 0x100000000', 'ACK 0x100000010', 'ACK 0x100000011', 'ACK 0x100000012', 'ACK 0x100000013', 'ACK 0x100000014', 'ACK 0x100000015'],
  );
});

test('leader-failover-trunc: TRUNC(0x200000006) for the member holding the unreplicated 0x200000007', { skip }, () => {
  const { run, recorded } = replay('leader-failover-trunc.jsonl', 'q10', {
    sid: 2,
    type: 'follower',
    acceptedEpoch: 2,
    currentEpoch: 2,
    lastLoggedZxid: 0x200000007n,
    initLimit: 10,
    syncLimit: 5,
  });
  assert.deepEqual(comparable(run.sent), comparable(recorded));
  assert.deepEqual(run.sent[1], { type: 'ACKEPOCH', zxid: 0x200000007n, currentEpoch: 2 });
  assert.deepEqual(kinds(run.outputs), [
    'persistAcceptedEpoch 3',
    'truncate 0x200000006',
    'takeSnapshot 0x200000006',
    'persistCurrentEpoch 3',
    'serving 3',
    // closeSession of the new epoch, broadcast to everyone afterwards
    'log 0x300000001',
    'commit 0x300000001',
  ]);
});

test('leader-failover-trunc: follower 1 and observer 4 get an empty DIFF in the new epoch', { skip }, () => {
  for (const [conn, sid, type] of [['q8', 1, 'follower'], ['q9', 4, 'observer']] as const) {
    const { run, recorded } = replay('leader-failover-trunc.jsonl', conn, {
      sid, type, acceptedEpoch: 2, currentEpoch: 2, lastLoggedZxid: 0x200000006n, initLimit: 10, syncLimit: 5,
    });
    assert.deepEqual(comparable(run.sent), comparable(recorded), conn);
    assert.equal(run.sent[0].type, type === 'follower' ? 'FOLLOWERINFO' : 'OBSERVERINFO');
    const expected = ['persistAcceptedEpoch 3', 'persistCurrentEpoch 3', 'serving 3', 'log 0x300000001', 'commit 0x300000001'];
    // Follower 1's reconnected client revalidates its session: the reply goes to the host.
    if (type === 'follower') expected.splice(3, 0, 'leaderReply');
    assert.deepEqual(kinds(run.outputs), expected, conn);
  }
});

test('observer: SNAP(0x200000000) from an empty start, then INFORMs committed without ACKs', { skip }, () => {
  const { run, recorded } = replay('observer.jsonl', 'q6', {
    sid: 4, type: 'observer', acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0n, initLimit: 10, syncLimit: 5,
  });
  assert.deepEqual(comparable(run.sent), comparable(recorded));
  assert.ok(!run.sent.some((m) => m.type === 'ACK' && (m.zxid & 0xffffffffn) !== 0n), 'observers never ack txns');
  const k = kinds(run.outputs);
  assert.deepEqual(k.slice(0, 5), ['persistAcceptedEpoch 2', 'loadSnapshot 0x200000000', 'takeSnapshot 0x200000000', 'persistCurrentEpoch 2', 'serving 2']);
  assert.deepEqual(k.filter((x) => x.startsWith('commit')), [1, 2, 3, 4, 5].map((i) => `commit 0x20000000${i}`));
  const snap = run.outputs.find((o) => o.kind === 'loadSnapshot') as { snapshot: string };
  assert.ok(snap.snapshot.length > 2000, 'the snapshot stream reaches the host');
});

test('a LEADERINFO below the accepted epoch sends the learner back to election', () => {
  const core = new ZabLearner<string, string>({ sid: 1, type: 'follower', acceptedEpoch: 3, currentEpoch: 3, lastLoggedZxid: 0x300000004n, initLimit: 10, syncLimit: 5 });
  core.start();
  const out = core.receive({ type: 'LEADERINFO', zxid: 0x200000000n, protocolVersion: 0x10000 });
  assert.equal(out.length, 1);
  assert.equal(out[0].kind, 'leaderLost');
  assert.equal(core.state, 'lost');
});

test('a COMMIT that does not match the oldest pending txn ends following', () => {
  const core = new ZabLearner<string, string>({ sid: 1, type: 'follower', acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x100000001n, initLimit: 10, syncLimit: 5 });
  core.start();
  core.receive({ type: 'LEADERINFO', zxid: 0x100000000n, protocolVersion: 0x10000 });
  core.receive({ type: 'DIFF', zxid: 0x100000001n });
  core.receive({ type: 'NEWLEADER', zxid: 0x100000000n, config: '' });
  core.receive({ type: 'UPTODATE', zxid: -1n });
  core.receive({ type: 'PROPOSAL', zxid: 0x100000002n, txn: 'a' });
  core.receive({ type: 'PROPOSAL', zxid: 0x100000003n, txn: 'b' });
  const out = core.receive({ type: 'COMMIT', zxid: 0x100000003n });
  assert.deepEqual(out.map((o) => o.kind), ['leaderLost']);
});

test('the learner gives up on a silent leader after syncLimit ticks (initLimit before NEWLEADER)', () => {
  const core = new ZabLearner<string, string>({ sid: 1, type: 'follower', acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0n, initLimit: 4, syncLimit: 2 });
  core.start();
  let lostAt = -1;
  for (let half = 1; half <= 20 && lostAt < 0; half++) if (core.tick().some((o) => o.kind === 'leaderLost')) lostAt = half;
  assert.equal(lostAt, 10, 'initLimit 4 ticks = 8 half ticks of silence, lost on the 5th tick');
  const c2 = new ZabLearner<string, string>({ sid: 1, type: 'follower', acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0n, initLimit: 4, syncLimit: 2 });
  c2.start();
  c2.receive({ type: 'LEADERINFO', zxid: 0x100000000n, protocolVersion: 0x10000 });
  c2.receive({ type: 'DIFF', zxid: 0n });
  c2.receive({ type: 'NEWLEADER', zxid: 0x100000000n, config: '' });
  c2.receive({ type: 'UPTODATE', zxid: -1n });
  lostAt = -1;
  for (let half = 1; half <= 20 && lostAt < 0; half++) {
    if (half <= 4) c2.receive({ type: 'PING', zxid: 0x100000000n, sessions: null });
    if (c2.tick().some((o) => o.kind === 'leaderLost')) lostAt = half;
  }
  // Last packet during tick 1 (half tick 4 comes before its tick): more than 2 ticks of silence at tick 4.
  assert.equal(lostAt, 8);
});

function syncedLearner(type: 'follower' | 'observer'): ZabLearner<string, string> {
  const core = new ZabLearner<string, string>({ sid: 5, type, acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x100000002n, initLimit: 10, syncLimit: 5 });
  core.start();
  core.receive({ type: 'LEADERINFO', zxid: 0x200000000n, protocolVersion: 0x10000 });
  core.receive({ type: 'DIFF', zxid: 0x100000004n });
  return core;
}

test('ZOOKEEPER-4394: a COMMIT right after NEWLEADER, for a proposal queued before it, is matched, not a crash', () => {
  const core = syncedLearner('follower');
  const outs: LearnerOutput<string, string>[] = [];
  const feed = (o: LearnerOutput<string, string>[]) => {
    for (const x of o) {
      outs.push(x);
      if (x.kind === 'log') feed(core.logged(x.zxid));
    }
  };
  feed(core.receive({ type: 'PROPOSAL', zxid: 0x100000003n, txn: 'c' }));
  feed(core.receive({ type: 'COMMIT', zxid: 0x100000003n }));
  feed(core.receive({ type: 'PROPOSAL', zxid: 0x100000004n, txn: 'd' }));
  feed(core.receive({ type: 'COMMIT', zxid: 0x100000004n }));
  // A live proposal of the new epoch, forwarded before NEWLEADER; its COMMIT arrives after NEWLEADER.
  feed(core.receive({ type: 'PROPOSAL', zxid: 0x200000001n, txn: 'e' }));
  feed(core.receive({ type: 'NEWLEADER', zxid: 0x200000000n, config: '' }));
  feed(core.receive({ type: 'COMMIT', zxid: 0x200000001n }));
  feed(core.receive({ type: 'UPTODATE', zxid: -1n }));
  assert.equal(core.state, 'broadcast');
  assert.deepEqual(kinds(outs).filter((k) => k.startsWith('commit')), ['commit 0x100000003', 'commit 0x100000004', 'commit 0x200000001']);
  assert.ok(!outs.some((o) => o.kind === 'leaderLost'));
});

test('an observer syncing by DIFF commits the PROPOSAL+COMMIT pairs after UPTODATE and sends no txn ACKs', () => {
  const core = syncedLearner('observer');
  const outs: LearnerOutput<string, string>[] = [];
  for (const m of [
    { type: 'PROPOSAL', zxid: 0x100000003n, txn: 'c' },
    { type: 'COMMIT', zxid: 0x100000003n },
    { type: 'PROPOSAL', zxid: 0x100000004n, txn: 'd' },
    { type: 'COMMIT', zxid: 0x100000004n },
    { type: 'INFORM', zxid: 0x200000001n, txn: 'e' },
    { type: 'NEWLEADER', zxid: 0x200000000n, config: '' },
    { type: 'UPTODATE', zxid: -1n },
    { type: 'INFORM', zxid: 0x200000002n, txn: 'f' },
  ] as const) outs.push(...core.receive(m as never));
  assert.deepEqual(kinds(outs).filter((k) => k.startsWith('commit')), ['commit 0x100000003', 'commit 0x100000004', 'commit 0x200000001', 'commit 0x200000002']);
  const acks = outs.filter((o) => o.kind === 'send' && o.msg.type === 'ACK').map((o) => label((o as { msg: Msg }).msg));
  assert.deepEqual(acks, ['ACK 0x200000000', 'ACK 0x200000000']);
});

test('SNAP replaces the tree only at NEWLEADER, together with the snapshot that persists it', () => {
  const start = () => {
    const core = new ZabLearner<string, string>({ sid: 5, type: 'follower', acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x100000002n, initLimit: 10, syncLimit: 5 });
    core.start();
    core.receive({ type: 'LEADERINFO', zxid: 0x200000000n, protocolVersion: 0x10000 });
    return core;
  };
  // Leader lost between SNAP and NEWLEADER: the tree and the disk keep this member's own history
  // (a tree loaded now would be ahead of a disk that never got the snapshot).
  const lost = start();
  const before = [...lost.receive({ type: 'SNAP', zxid: 0x100000009n, snapshot: 'tree' }), ...lost.receive({ type: 'PROPOSAL', zxid: 0x10000000an, txn: 'a' })];
  before.push(...lost.disconnected());
  assert.deepEqual(kinds(before), ['leaderLost']);
  // NEWLEADER: load, then persist, then log what was proposed meanwhile.
  const core = start();
  const outs = [
    ...core.receive({ type: 'SNAP', zxid: 0x100000009n, snapshot: 'tree' }),
    ...core.receive({ type: 'PROPOSAL', zxid: 0x10000000an, txn: 'a' }),
    ...core.receive({ type: 'NEWLEADER', zxid: 0x200000000n, config: '' }),
  ];
  assert.deepEqual(kinds(outs), ['loadSnapshot 0x100000009', 'takeSnapshot 0x100000009', 'log 0x10000000a']);
});
