// Replays the election traffic Apache ZooKeeper 3.8.0 members sent each other (the recorded run in
// ../shared/vectors/quorum, files in run order) into one FastLeaderElection core per member, each
// configured like the recorded member and started when it was. Every member only ever sees the
// frames recorded as addressed to it, never another core's output, so what each core sends is
// checked against what the real member sent, frame by frame and byte for byte (through the wire
// codec, with the sender's membership text), and its decision against the real one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FastLeaderElection, type ElectionOutput, type LocalHistory, type Notification, type OutgoingNotification } from '../../../src/quorum/election/FastLeaderElection.js';
import { QuorumMaj } from '../../../src/quorum/election/QuorumVerifier.js';
import { longHex, STATE_CODES, stateFromCode, type ServerState } from '../../../src/quorum/election/Vote.js';
import { decodeNotification, encodeNotificationFrame, voteNotification } from '../../../src/quorum/wire/ElectionWire.js';
import { vectorsDir } from '../../support/vectors.js';

const VECTORS = vectorsDir('quorum');
const haveVectors = fs.existsSync(path.join(VECTORS, 'election-initial.jsonl'));

interface Frame {
  seq: number;
  conn: string;
  /** When the proxy saw that connection open (same clock as t). */
  connOpened: number;
  t: number;
  from: number;
  to: number;
  n: Notification;
  /** The exact bytes on the wire, length prefix included. */
  hex: string;
  config: string;
}

function loadFrames(file: string): Frame[] {
  const lines = fs.readFileSync(path.join(VECTORS, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const frames: Frame[] = [];
  const opened = new Map<string, number>((JSON.parse(lines[0]!).connections as Array<{ conn: string; opened_t: number }>).map((c) => [c.conn, c.opened_t]));
  for (const line of lines.slice(1)) {
    const f = JSON.parse(line);
    if (f.port !== 'election' || f.kind !== 'message') continue;
    // Inputs come from the bytes (the wire codec), checked against the recording's own decoding.
    const wire = decodeNotification(Buffer.from(f.hex, 'hex').subarray(4));
    const d = f.decoded.notification;
    assert.deepEqual(
      [wire.state, BigInt(wire.leader), BigInt(wire.zxid), BigInt(wire.electionEpoch), BigInt(wire.peerEpoch), wire.version, wire.config],
      [d.state, BigInt(d.leader), BigInt(d.zxid), BigInt(d.electionEpoch), BigInt(d.peerEpoch), d.version, d.config],
      `${file} seq ${f.seq}`,
    );
    const state = stateFromCode(wire.state);
    assert.ok(state, `${file} seq ${f.seq}: state ${wire.state}`);
    frames.push({
      seq: f.seq,
      conn: f.conn,
      connOpened: opened.get(f.conn) ?? f.t,
      t: f.t,
      from: f.from,
      to: f.to,
      n: { state, leader: BigInt(wire.leader), zxid: BigInt(wire.zxid), electionEpoch: BigInt(wire.electionEpoch), peerEpoch: BigInt(wire.peerEpoch), version: wire.version, configVersion: 0n },
      hex: f.hex,
      config: wire.config ?? '',
    });
  }
  return frames;
}

const VOTERS = new QuorumMaj([1n, 2n, 3n]);
const OBSERVER = 4;

interface Sent {
  t: number;
  to: number;
  n: OutgoingNotification;
}
interface Decision {
  t: number;
  state: ServerState;
  leader: bigint;
  electionEpoch: bigint;
}

/** One recorded member: its core plus the election timer the wiring would run. */
class Member {
  core: FastLeaderElection;
  timer: { at: number; token: number } | null = null;
  sent: Sent[] = [];
  decisions: Decision[] = [];
  logs: string[] = [];

  constructor(readonly sid: number) {
    this.core = new FastLeaderElection({ myId: BigInt(sid), learnerType: sid === OBSERVER ? 'observer' : 'participant', verifier: VOTERS });
  }

  apply(now: number, outs: ElectionOutput[]): void {
    const loop: Notification[] = [];
    for (const o of outs) {
      switch (o.type) {
        case 'send':
          this.sent.push({ t: now, to: Number(o.to), n: o.notification });
          // QuorumCnxManager puts a member's messages to itself straight into its receive queue.
          if (o.to === BigInt(this.sid)) loop.push({ ...o.notification, version: 2, configVersion: 0n });
          break;
        case 'setTimer':
          this.timer = { at: now + o.delayMs / 1000, token: o.token };
          break;
        case 'cancelTimer':
          this.timer = null;
          break;
        case 'decided':
          this.decisions.push({ t: now, state: o.state, leader: o.vote.leader, electionEpoch: o.vote.electionEpoch });
          break;
        case 'log':
          this.logs.push(o.message);
          break;
        default:
          break;
      }
    }
    for (const n of loop) this.apply(now, this.core.receive(BigInt(this.sid), n));
  }
}

type Action = { t: number; sid: number; run: (m: Member, now: number) => void };

/** Runs one file's window: recorded frames in, scripted member actions, timers in virtual time. */
function runWindow(members: Map<number, Member>, frames: Frame[], actions: Action[], endT: number): void {
  type Ev = { t: number; order: number; fire: () => void };
  const evs: Ev[] = [];
  actions.forEach((a, i) => evs.push({ t: a.t, order: i, fire: () => a.run(members.get(a.sid)!, a.t) }));
  frames.forEach((f, i) =>
    evs.push({
      t: f.t,
      order: 1000 + i,
      fire: () => {
        const m = members.get(f.to);
        if (m) m.apply(f.t, m.core.receive(BigInt(f.from), f.n));
      },
    }),
  );
  evs.sort((a, b) => a.t - b.t || a.order - b.order);
  const fireTimersUntil = (t: number) => {
    for (;;) {
      let next: Member | null = null;
      for (const m of members.values()) if (m.timer && m.timer.at <= t && (!next || m.timer.at < next.timer!.at)) next = m;
      if (!next) return;
      const { at, token } = next.timer!;
      next.timer = null;
      next.apply(at, next.core.timeout(token, true));
    }
  };
  for (const ev of evs) {
    fireTimersUntil(ev.t);
    ev.fire();
  }
  fireTimersUntil(endT);
}

const fmt = (n: OutgoingNotification) => `${n.state} leader=${n.leader} zxid=0x${longHex(n.zxid)} round=${n.electionEpoch} peerEpoch=${n.peerEpoch}`;

/**
 * Every recorded message from a modelled member must be one its core sent to that peer, in the
 * same order, no later than the recording shows it (QuorumCnxManager keeps one unsent message per
 * peer and drops the older, so cores may send more than the wire shows, never less).
 */
function checkSent(file: string, members: Map<number, Member>, frames: Frame[], fromIndex: Map<number, number>, staleResends: number[]): number {
  checkResends(file, members, frames, fromIndex, staleResends);
  let matched = 0;
  const cursor = new Map<string, number>();
  for (const f of frames) {
    if (staleResends.includes(f.seq)) continue;
    const m = members.get(f.from);
    assert.ok(m, `${file} seq ${f.seq}: sender ${f.from} is not modelled`);
    const key = `${f.from}->${f.to}`;
    let i = cursor.get(key) ?? fromIndex.get(f.from) ?? 0;
    const want = fmt(f.n);
    while (i < m.sent.length && !(m.sent[i]!.to === f.to && fmt(m.sent[i]!.n) === want)) i++;
    const sentToPeer = m.sent.slice(fromIndex.get(f.from) ?? 0).filter((s) => s.to === f.to).map((s) => `${s.t.toFixed(4)} ${fmt(s.n)}`);
    assert.ok(i < m.sent.length, `${file} seq ${f.seq}: member ${f.from} sent to ${f.to} "${want}" at ${f.t}, its core did not; core sent:\n${sentToPeer.join('\n')}`);
    assert.ok(m.sent[i]!.t <= f.t + 1e-9, `${file} seq ${f.seq}: core of ${f.from} sent "${want}" only at ${m.sent[i]!.t}, recorded at ${f.t}`);
    // What the core sent, encoded with the sender's membership text, is the recorded bytes.
    const n = m.sent[i]!.n;
    const bytes = encodeNotificationFrame(voteNotification(STATE_CODES[n.state], Number(n.leader), Number(n.zxid), Number(n.electionEpoch), Number(n.peerEpoch), f.config));
    assert.equal(bytes.toString('hex'), f.hex, `${file} seq ${f.seq}: bytes`);
    cursor.set(key, i + 1);
    matched++;
  }
  return matched;
}

/**
 * The frames left out are QuorumCnxManager's doing, not the election's: the first message on a new
 * connection, equal to the last message the sender's election handed it for that peer before (sent on
 * an older connection, or still waiting in its queue while the peer was down).
 */
function checkResends(file: string, members: Map<number, Member>, frames: Frame[], fromIndex: Map<number, number>, staleResends: number[]): void {
  const seenConn = new Set<string>();
  for (const f of frames) {
    const key = `${f.conn}:${f.from}->${f.to}`;
    const first = !seenConn.has(key);
    seenConn.add(key);
    if (!staleResends.includes(f.seq)) continue;
    assert.ok(first, `${file} seq ${f.seq} is not the first message on ${f.conn}`);
    const m = members.get(f.from)!;
    // Times restart at 0 in every file: earlier windows count whole, this one up to the moment
    // the connection opened (its sender starts with what is queued, or else the last one sent).
    const start = fromIndex.get(f.from) ?? 0;
    const before = [...m.sent.slice(0, start), ...m.sent.slice(start).filter((x) => x.t < f.connOpened)].filter((x) => x.to === f.to);
    const last = before.at(-1);
    assert.ok(last && fmt(last.n) === fmt(f.n), `${file} seq ${f.seq} (${fmt(f.n)}) is not ${f.from}'s last message to ${f.to} (${last ? fmt(last.n) : 'none'})`);
  }
}

const startAt = (frames: Frame[], seq: number) => frames.find((f) => f.seq === seq)!.t - 1e-6;

function fresh(members: Map<number, Member>, sid: number): Member {
  const m = new Member(sid);
  members.set(sid, m);
  return m;
}

const look = (h: LocalHistory) => (m: Member, now: number) => m.apply(now, m.core.startLooking(h));
const becomeLooking = () => (m: Member) => m.core.becomeLooking();
const epochSet = (e: bigint) => (m: Member) => m.core.updateElectionVote(e);

function expectDecision(file: string, m: Member, from: number, state: ServerState, leader: bigint, electionEpoch: bigint): void {
  const d = m.decisions.slice(from);
  assert.equal(d.length, 1, `${file}: member ${m.sid} decided ${d.length} times: ${JSON.stringify(d, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  assert.deepEqual([d[0]!.state, d[0]!.leader, d[0]!.electionEpoch], [state, leader, electionEpoch], `${file}: member ${m.sid}`);
}

test('recorded Apache ZooKeeper 3.8 elections replay through the cores, in run order', { skip: !haveVectors && 'vectors not found' }, () => {
  const members = new Map<number, Member>();
  const marks = () => new Map([...members].map(([sid, m]) => [sid, m.sent.length]));
  const dmarks = () => new Map([...members].map(([sid, m]) => [sid, m.decisions.length]));
  let totalMatched = 0;
  let totalRecorded = 0;

  // 1. Three empty members start together; all elect 3 in round 1.
  {
    const file = 'election-initial.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    for (const sid of [1, 2, 3]) fresh(members, sid);
    const d = dmarks();
    runWindow(
      members,
      fr,
      [
        { t: startAt(fr, 3), sid: 2, run: look({ lastLoggedZxid: 0n, currentEpoch: 0n }) },
        { t: startAt(fr, 5), sid: 3, run: look({ lastLoggedZxid: 0n, currentEpoch: 0n }) },
        { t: startAt(fr, 11), sid: 1, run: look({ lastLoggedZxid: 0n, currentEpoch: 0n }) },
      ],
      3,
    );
    totalMatched += checkSent(file, members, fr, new Map(), []);
    expectDecision(file, members.get(1)!, d.get(1)!, 'FOLLOWING', 3n, 1n);
    expectDecision(file, members.get(2)!, d.get(2)!, 'FOLLOWING', 3n, 1n);
    expectDecision(file, members.get(3)!, d.get(3)!, 'LEADING', 3n, 1n);
    assert.ok(members.get(1)!.logs.includes('New election. My id = 1, proposed zxid=0x0'));
    // Zab (sync-initial) establishes epoch 1 on all three.
    for (const sid of [1, 2, 3]) members.get(sid)!.core.updateElectionVote(1n);
  }

  // 2. Follower 1 restarts (last zxid 0x10000000f); 2 and 3 answer FOLLOWING/LEADING.
  {
    const file = 'follower-restart-diff.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    fresh(members, 1);
    const s = marks();
    const d = dmarks();
    runWindow(members, fr, [{ t: startAt(fr, 29), sid: 1, run: look({ lastLoggedZxid: 0x10000000fn, currentEpoch: 1n }) }], 5);
    // seq 26 and 28: QuorumCnxManager re-sends the last message of an earlier connection first.
    totalMatched += checkSent(file, members, fr, s, [26, 28]);
    expectDecision(file, members.get(1)!, d.get(1)!, 'FOLLOWING', 3n, 1n);
    members.get(1)!.core.updateElectionVote(1n);
  }

  // 3. Follower 2 restarts (last zxid 0x100000015).
  {
    const file = 'follower-restart-snap.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    fresh(members, 2);
    const s = marks();
    const d = dmarks();
    runWindow(members, fr, [{ t: startAt(fr, 10), sid: 2, run: look({ lastLoggedZxid: 0x100000015n, currentEpoch: 1n }) }], 7);
    totalMatched += checkSent(file, members, fr, s, [7, 9]);
    expectDecision(file, members.get(2)!, d.get(2)!, 'FOLLOWING', 3n, 1n);
    members.get(2)!.core.updateElectionVote(1n);
  }

  // 4. Leader 3 killed: 1 and 2 (both at 0x100000221) elect 2 in round 2.
  {
    const file = 'leader-failover.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    members.delete(3);
    const s = marks();
    const d = dmarks();
    const h = { lastLoggedZxid: 0x100000221n, currentEpoch: 1n };
    runWindow(
      members,
      fr,
      [
        { t: 0, sid: 1, run: becomeLooking() },
        { t: 0, sid: 2, run: becomeLooking() },
        { t: startAt(fr, 1), sid: 2, run: look(h) },
        { t: startAt(fr, 2), sid: 1, run: look(h) },
      ],
      2,
    );
    totalMatched += checkSent(file, members, fr, s, []);
    expectDecision(file, members.get(1)!, d.get(1)!, 'FOLLOWING', 2n, 2n);
    expectDecision(file, members.get(2)!, d.get(2)!, 'LEADING', 2n, 2n);
    for (const sid of [1, 2]) members.get(sid)!.core.updateElectionVote(2n);
  }

  // 5. Observer 4 starts: proposes Long.MIN_VALUE, learns leader 2 from FOLLOWING/LEADING answers.
  {
    const file = 'observer.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    const obs = fresh(members, 4);
    const s = marks();
    const d = dmarks();
    runWindow(members, fr, [{ t: startAt(fr, 5), sid: 4, run: look({ lastLoggedZxid: 0n, currentEpoch: 0n }) }], 3);
    totalMatched += checkSent(file, members, fr, s, []);
    expectDecision(file, obs, d.get(4)!, 'OBSERVING', 2n, 2n);
    assert.equal(obs.core.logicalClock, 2n);
    assert.ok(obs.sent.every((x) => x.to !== 4), 'an observer sends nothing to itself: it is not a voter');
    assert.equal(members.get(1)!.decisions.length, d.get(1), 'answering an observer changes nothing');
    obs.core.updateElectionVote(2n);
  }

  // 6. Old leader 3 restarts (0x100000221, epoch 1): round 1, then round 2 from a stale re-send, then joins 2.
  {
    const file = 'old-leader-rejoin.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    fresh(members, 3);
    const s = marks();
    const d = dmarks();
    runWindow(members, fr, [{ t: startAt(fr, 8), sid: 3, run: look({ lastLoggedZxid: 0x100000221n, currentEpoch: 1n }) }], 3);
    totalMatched += checkSent(file, members, fr, s, [6, 9]);
    expectDecision(file, members.get(3)!, d.get(3)!, 'FOLLOWING', 2n, 2n);
    assert.equal(members.get(3)!.core.logicalClock, 2n);
    members.get(3)!.core.updateElectionVote(2n);
  }

  // 7. Leader 2 killed: 1 and 3 (0x200000006) elect 3 in round 3. The observer, answered by LOOKING
  // members with their previous vote (leader 2), settles on the dead leader 2 after finalizeWait, as
  // Apache did, fails to connect, looks again in round 4 and learns 3. Then 2 restarts with the
  // uncommitted 0x200000007 and, despite the higher zxid, follows 3 on FOLLOWING/LEADING answers.
  {
    const file = 'leader-failover-trunc.jsonl';
    const fr = loadFrames(file);
    totalRecorded += fr.length;
    const killT = 2.543213;
    members.delete(2);
    const s = marks();
    const d = dmarks();
    const h = { lastLoggedZxid: 0x200000006n, currentEpoch: 2n };
    runWindow(
      members,
      fr,
      [
        { t: killT, sid: 1, run: becomeLooking() },
        { t: killT, sid: 3, run: becomeLooking() },
        { t: killT, sid: 4, run: becomeLooking() },
        { t: startAt(fr, 21), sid: 1, run: look(h) },
        { t: startAt(fr, 22), sid: 3, run: look(h) },
        { t: startAt(fr, 24), sid: 4, run: look({ lastLoggedZxid: 0x200000005n, currentEpoch: 2n }) },
        { t: 3.006907, sid: 1, run: epochSet(3n) },
        { t: 3.006907, sid: 3, run: epochSet(3n) },
        { t: startAt(fr, 42), sid: 4, run: look({ lastLoggedZxid: 0x200000005n, currentEpoch: 2n }) },
        { t: startAt(fr, 56) - 0.01, sid: 2, run: () => fresh(members, 2) },
        { t: startAt(fr, 56), sid: 2, run: look({ lastLoggedZxid: 0x200000007n, currentEpoch: 2n }) },
      ],
      6,
    );
    totalMatched += checkSent(file, members, fr, s, [57, 61]);
    expectDecision(file, members.get(1)!, d.get(1)!, 'FOLLOWING', 3n, 3n);
    expectDecision(file, members.get(3)!, d.get(3)!, 'LEADING', 3n, 3n);
    const obs = members.get(4)!.decisions.slice(d.get(4)!);
    assert.deepEqual(
      obs.map((x) => [x.state, x.leader, x.electionEpoch]),
      [
        ['OBSERVING', 2n, 3n],
        ['OBSERVING', 3n, 3n],
      ],
    );
    assert.ok(obs[0]!.t < fr.find((f) => f.seq === 42)!.t, 'the stale decision came before the second round');
    expectDecision(file, members.get(2)!, 0, 'FOLLOWING', 3n, 3n);
  }
  // Every recorded election message of the run except the 8 stale re-sends is accounted for.
  assert.equal(totalRecorded, 61);
  assert.equal(totalMatched, totalRecorded - 8);
});
