// The leader side of Zab as a pure state machine: discovery (epoch proposal and acknowledgement
// barriers), per-learner synchronisation (DIFF/TRUNC/SNAP, NEWLEADER, UPTODATE), broadcast
// (PROPOSAL → quorum of ACKs → COMMIT/INFORM in zxid order) and liveness (PING, sync limits).
// No sockets, timers or files: every input returns the outputs the host must carry out, in order.
// A persist output must be durable before any later output of the same batch is carried out: that is
// what makes "persist acceptedEpoch, then LEADERINFO" hold.
import {
  ZAB_PROTOCOL_VERSION,
  counterOf,
  epochOf,
  makeZxid,
  zxidHex,
  type Proposal,
  type SessionTouch,
  type ZabMessage,
} from './messages.js';
import { chooseSync, type SyncDecision } from './syncDecision.js';

export type LearnerType = 'follower' | 'observer';

export type LeaderOutput<T, S> =
  | { kind: 'send'; to: number; msg: ZabMessage<T, S> }
  | { kind: 'persistAcceptedEpoch'; epoch: number }
  | { kind: 'persistCurrentEpoch'; epoch: number }
  /** Append to the leader's own txn log; the host reports durability with logged(). */
  | { kind: 'log'; zxid: bigint; txn: T }
  /** Committed: apply, in zxid order. */
  | { kind: 'commit'; zxid: bigint; txn: T }
  /** A quorum acked NEWLEADER: the leader serves from here on. */
  | { kind: 'established'; epoch: number }
  | { kind: 'syncChosen'; sid: number; decision: Omit<SyncDecision<T>, 'proposals'> & { proposals: number } }
  /** Drop the connection to this learner (it reconnects through election). */
  | { kind: 'disconnect'; sid: number; reason: string }
  /** Sessions a learner saw activity on (its PING reply). */
  | { kind: 'touchSessions'; sid: number; sessions: SessionTouch[] }
  /** REQUEST, REVALIDATE or SYNC from a learner, for the host's request pipeline. */
  | { kind: 'learnerRequest'; sid: number; msg: ZabMessage<T, S> }
  /** The leader gives up (no quorum, barrier timeout, zxid exhaustion): back to election. */
  | { kind: 'stepDown'; reason: string };

/**
 * The leader's committed log (ZooKeeper: the last commitLogCount committed proposals). The core adds
 * every commit and drops the oldest beyond its bound itself; it reads the proposals back only to
 * sync a learner.
 */
export interface CommittedWindow<T> {
  readonly size: number;
  /** Oldest and newest zxid held (only read when size > 0). */
  readonly minZxid: bigint;
  readonly maxZxid: bigint;
  /** Adds the newest commit, dropping the oldest once more than the window's bound are held. */
  add(zxid: bigint, txn: T): void;
  /** Every proposal held, oldest first. */
  proposals(): readonly Proposal<T>[];
}

/** The default window: the proposals themselves, in an array bounded to `count`. */
export class ArrayCommittedWindow<T> implements CommittedWindow<T> {
  private readonly items: Proposal<T>[];
  constructor(
    private readonly count: number,
    initial: readonly Proposal<T>[] = [],
  ) {
    this.items = initial.slice(-count);
  }
  get size(): number {
    return this.items.length;
  }
  get minZxid(): bigint {
    return this.items[0]!.zxid;
  }
  get maxZxid(): bigint {
    return this.items[this.items.length - 1]!.zxid;
  }
  add(zxid: bigint, txn: T): void {
    this.items.push({ zxid, txn });
    if (this.items.length > this.count) this.items.shift();
  }
  proposals(): readonly Proposal<T>[] {
    return this.items;
  }
}

export interface ZabLeaderOptions<T, S> {
  sid: number;
  /** Voting members, the leader included. */
  voters: readonly number[];
  observers?: readonly number[];
  acceptedEpoch: number;
  currentEpoch: number;
  /** Last zxid in the leader's database (everything it logged; it all becomes committed at NEWLEADER). */
  lastProcessedZxid: bigint;
  /** The tail of the leader's history kept in memory for DIFF (ZooKeeper: the last commitLogCount). */
  committedLog: readonly Proposal<T>[];
  /**
   * Where the core keeps that tail as it commits, seeded by the host (`committedLog` is then
   * ignored): a host can hold its txns in a compact form and decode them when a learner syncs.
   * Default: an array of the proposals.
   */
  committedWindow?: CommittedWindow<T>;
  commitLogCount?: number;
  /** Reads the leader's txn log from a zxid for syncing learners behind the committed log; null = not possible. */
  txnLogFrom?: (fromZxid: bigint) => Iterable<Proposal<T>> | null;
  /** The leader's state at `zxid` (its last processed zxid), sent after SNAP. */
  snapshot: (zxid: bigint) => S;
  /** Ticks (tickTime each); the host calls tick() every tickTime/2. */
  initLimit: number;
  syncLimit: number;
  /** The config text NEWLEADER carries. */
  config?: string;
  forceSnapshotSync?: boolean;
  /**
   * Whether these sids form a quorum (the ensemble's QuorumVerifier: hierarchical groups and
   * weights); a plain majority of `voters` when absent.
   */
  isQuorum?: (sids: ReadonlySet<number>) => boolean;
}

type HandlerState =
  | 'awaitingEpoch' // sent FOLLOWERINFO, LEADERINFO not yet sent
  | 'leaderInfoSent'
  | 'awaitingEpochAck' // ACKEPOCH received, waiting for the epoch-ack quorum
  | 'newLeaderSent'
  | 'newLeaderAcked'
  | 'upToDate';

interface Handler {
  sid: number;
  type: LearnerType;
  state: HandlerState;
  acceptedEpoch: number;
  peerLastZxid: bigint;
  /** Tick by which the learner must have sent something again. */
  deadline: number;
  /** Registered for live PROPOSAL/COMMIT (followers) or INFORM (observers) traffic. */
  forwarding: boolean;
  /**
   * Proposals sent to this follower and not acked by it yet, oldest first (zxids), with the tick
   * each was sent (ticks at the same index): two arrays rather than an object per proposal.
   */
  unackedZxids: bigint[];
  unackedTicks: number[];
}

interface Outstanding<T> {
  zxid: bigint;
  txn: T;
  /**
   * The voters that acked it: bit i for the i-th voter when there are at most MASK_VOTERS of them
   * (no Set per proposal), else in `ackSet`.
   */
  ackMask: number;
  ackSet: Set<number> | null;
  /** Acks counted when it was last found short of a quorum (the same acks give the same answer). */
  ackCount: number;
  shortAt: number;
}

/** Up to this many voters, acks are bits of a number. */
const MASK_VOTERS = 30;

/** Below this a zxid is exact as a double, and its arithmetic needs no bigint. */
const SAFE_ZXID = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 0x100000000;

// epochOf/counterOf without bigint arithmetic for the zxids every proposal and ack carries.
function counter(zxid: bigint): number {
  return zxid >= 0n && zxid <= SAFE_ZXID ? Number(zxid) % TWO_32 : counterOf(zxid);
}

function epochOfZxid(zxid: bigint): number {
  return zxid >= 0n && zxid <= SAFE_ZXID ? Math.floor(Number(zxid) / TWO_32) : epochOf(zxid);
}

type Phase = 'discovery' | 'epochAck' | 'newLeaderAck' | 'established' | 'stopped';

export class ZabLeader<T, S = unknown> {
  readonly sid: number;
  private readonly voters: Set<number>;
  /** Each voter's bit in an ack mask; null past MASK_VOTERS voters (acks are then kept in Sets). */
  private readonly voterBits: Map<number, number> | null = null;
  /** isQuorum's answer per ack mask. */
  private readonly quorumOfMask = new Map<number, boolean>();
  private readonly observers: Set<number>;
  private readonly opts: ZabLeaderOptions<T, S>;
  private readonly commitLogCount: number;

  private phase: Phase = 'discovery';
  private epoch = -1;
  private readonly epochContributors = new Set<number>();
  private readonly epochAckers = new Set<number>();
  private readonly newLeaderAckers = new Set<number>();
  private readonly handlers = new Map<number, Handler>();

  private currentEpoch: number;
  private halfTicks = 0;
  /** ZooKeeper's `tick`: one per tickTime. */
  private ticks = 0;
  private phaseDeadline: number;

  private readonly committedLog: CommittedWindow<T>;
  private lastProcessedZxid: bigint;
  private lastProposed: bigint;
  private lastCommitted: bigint;
  private durableZxid: bigint;
  private readonly outstanding: Outstanding<T>[] = [];
  /** Learners' forwarded syncs, answered once the zxid that was last proposed at the time commits. */
  private readonly pendingSyncs: { zxid: bigint; sid: number }[] = [];

  constructor(opts: ZabLeaderOptions<T, S>) {
    if (!opts.voters.includes(opts.sid)) throw new Error(`leader ${opts.sid} is not a voting member`);
    if (opts.initLimit <= 0 || opts.syncLimit <= 0) throw new Error('initLimit and syncLimit must be positive');
    this.sid = opts.sid;
    this.opts = opts;
    this.voters = new Set(opts.voters);
    if (this.voters.size <= MASK_VOTERS) {
      this.voterBits = new Map();
      for (const sid of this.voters) this.voterBits.set(sid, 1 << this.voterBits.size);
    }
    this.observers = new Set(opts.observers ?? []);
    this.commitLogCount = Math.max(1, opts.commitLogCount ?? 500);
    this.committedLog = opts.committedWindow ?? new ArrayCommittedWindow<T>(this.commitLogCount, opts.committedLog);
    this.lastProcessedZxid = opts.lastProcessedZxid;
    this.lastProposed = opts.lastProcessedZxid;
    this.lastCommitted = opts.lastProcessedZxid;
    this.durableZxid = opts.lastProcessedZxid;
    this.phaseDeadline = opts.initLimit;
    this.currentEpoch = opts.currentEpoch;
  }

  /** Starts discovery with the leader's own epoch contribution. */
  start(): LeaderOutput<T, S>[] {
    const out: LeaderOutput<T, S>[] = [];
    this.contributeEpoch(this.sid, this.opts.acceptedEpoch, true, out);
    return out;
  }

  get state(): Phase {
    return this.phase;
  }

  get isEstablished(): boolean {
    return this.phase === 'established';
  }

  get stopped(): boolean {
    return this.phase === 'stopped';
  }

  /** The epoch being established (-1 until the epoch quorum). */
  get newEpoch(): number {
    return this.epoch;
  }

  get lastZxid(): bigint {
    return this.lastProposed;
  }

  get committedZxid(): bigint {
    return this.lastCommitted;
  }

  get pendingProposals(): number {
    return this.outstanding.length;
  }

  /** Learners' forwarded syncs not answered yet (zk_pending_syncs). */
  get pendingSyncCount(): number {
    return this.pendingSyncs.length;
  }

  /**
   * Whether syncing a learner whose last zxid is `peerLastZxid` would read the txn log (it is behind
   * the committed log). txnLogFrom is synchronous while TxnLog.readTxnsAfter is not: a host reads
   * ahead when this says so, before it delivers that learner's ACKEPOCH, and serves txnLogFrom from
   * what it read.
   */
  needsTxnLog(peerLastZxid: bigint): boolean {
    if (this.committedLog.size === 0 || peerLastZxid === this.lastProcessedZxid) return false;
    return peerLastZxid < this.committedLog.minZxid;
  }

  /** Learners currently connected, with their handshake state (for operators: zk_learners, zk_synced_followers). */
  learners(): { sid: number; type: LearnerType; state: HandlerState; synced: boolean }[] {
    return [...this.handlers.values()].map((h) => ({ sid: h.sid, type: h.type, state: h.state, synced: this.ticks <= h.deadline }));
  }

  private addAck(p: Outstanding<T>, sid: number): void {
    if (p.ackSet) {
      const before = p.ackSet.size;
      p.ackSet.add(sid);
      if (p.ackSet.size !== before) p.ackCount++;
      return;
    }
    const bit = this.voterBits!.get(sid);
    if (bit === undefined || (p.ackMask & bit) !== 0) return;
    p.ackMask |= bit;
    p.ackCount++;
  }

  /** Whether a quorum acked `p`. The answer for a mask is kept: the check is a pure function of the set. */
  private acked(p: Outstanding<T>): boolean {
    if (p.ackSet) return this.isQuorum(p.ackSet);
    let q = this.quorumOfMask.get(p.ackMask);
    if (q === undefined) {
      const set = new Set<number>();
      for (const [sid, bit] of this.voterBits!) if ((p.ackMask & bit) !== 0) set.add(sid);
      q = this.isQuorum(set);
      // A handful of masks occur (which followers are fast); the bound only guards the odd case.
      if (this.quorumOfMask.size >= 1024) this.quorumOfMask.clear();
      this.quorumOfMask.set(p.ackMask, q);
    }
    return q;
  }

  private isQuorum(set: Set<number>): boolean {
    if (this.opts.isQuorum) return this.opts.isQuorum(set);
    let n = 0;
    for (const s of set) if (this.voters.has(s)) n++;
    return n * 2 > this.voters.size;
  }

  private send(out: LeaderOutput<T, S>[], to: number, msg: ZabMessage<T, S>): void {
    out.push({ kind: 'send', to, msg });
  }

  private stepDown(out: LeaderOutput<T, S>[], reason: string): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    for (const h of this.handlers.values()) out.push({ kind: 'disconnect', sid: h.sid, reason: 'leader stepping down' });
    this.handlers.clear();
    out.push({ kind: 'stepDown', reason });
  }

  private dropLearner(out: LeaderOutput<T, S>[], sid: number, reason: string): void {
    if (!this.handlers.delete(sid)) return;
    out.push({ kind: 'disconnect', sid, reason });
  }

  // ---- discovery ----

  private contributeEpoch(sid: number, acceptedEpoch: number, isVoter: boolean, out: LeaderOutput<T, S>[]): void {
    if (this.phase !== 'discovery') return;
    if (acceptedEpoch >= this.epoch) this.epoch = acceptedEpoch + 1;
    if (isVoter) this.epochContributors.add(sid);
    if (this.epochContributors.has(this.sid) && this.isQuorum(this.epochContributors)) {
      if (this.epoch > 0xffffffff) {
        this.stepDown(out, 'epoch space exhausted');
        return;
      }
      out.push({ kind: 'persistAcceptedEpoch', epoch: this.epoch });
      this.phase = 'epochAck';
      this.phaseDeadline = this.ticks + this.opts.initLimit;
      this.lastProposed = makeZxid(this.epoch, 0);
      // The leader acknowledges its own epoch with its own history.
      this.epochAckers.add(this.sid);
      for (const h of this.handlers.values()) {
        if (h.state === 'awaitingEpoch') this.sendLeaderInfo(h, out);
      }
      this.checkEpochAckQuorum(out);
    }
  }

  private sendLeaderInfo(h: Handler, out: LeaderOutput<T, S>[]): void {
    h.state = 'leaderInfoSent';
    this.send(out, h.sid, { type: 'LEADERINFO', zxid: makeZxid(this.epoch, 0), protocolVersion: ZAB_PROTOCOL_VERSION });
  }

  private checkEpochAckQuorum(out: LeaderOutput<T, S>[]): void {
    if (this.phase !== 'epochAck' || !this.isQuorum(this.epochAckers)) return;
    out.push({ kind: 'persistCurrentEpoch', epoch: this.epoch });
    this.currentEpoch = this.epoch;
    this.phase = 'newLeaderAck';
    this.phaseDeadline = this.ticks + this.opts.initLimit;
    this.newLeaderAckers.add(this.sid);
    for (const h of [...this.handlers.values()]) {
      if (h.state === 'awaitingEpochAck') this.syncLearner(h, out);
    }
    this.checkNewLeaderQuorum(out);
  }

  // ---- synchronisation ----

  private syncLearner(h: Handler, out: LeaderOutput<T, S>[]): void {
    const decision = chooseSync<T>({
      peerLastZxid: h.peerLastZxid,
      lastProcessedZxid: this.lastProcessedZxid,
      committedLog: this.committedLog.proposals(),
      txnLogFrom: this.opts.txnLogFrom,
      forceSnapshotSync: this.opts.forceSnapshotSync,
    });
    out.push({ kind: 'syncChosen', sid: h.sid, decision: { mode: decision.mode, zxid: decision.zxid, reason: decision.reason, proposals: decision.proposals.length } });
    let lastQueued: bigint;
    if (decision.mode === 'SNAP') {
      this.send(out, h.sid, { type: 'SNAP', zxid: decision.zxid, snapshot: this.opts.snapshot(decision.zxid) });
      lastQueued = decision.zxid;
    } else {
      this.send(out, h.sid, { type: decision.mode, zxid: decision.zxid });
      lastQueued = h.peerLastZxid;
      for (const p of decision.proposals) {
        this.sendProposal(out, h, p.zxid, p.txn);
        this.send(out, h.sid, { type: 'COMMIT', zxid: p.zxid });
        lastQueued = p.zxid;
      }
      if (decision.mode === 'TRUNC' && decision.proposals.length === 0) lastQueued = decision.zxid;
    }
    // startForwarding: outstanding proposals above what was queued, then live traffic.
    if (h.type === 'follower') {
      for (const p of this.outstanding) {
        if (p.zxid > lastQueued) this.sendProposal(out, h, p.zxid, p.txn);
      }
    }
    h.forwarding = true;
    h.state = 'newLeaderSent';
    this.send(out, h.sid, { type: 'NEWLEADER', zxid: makeZxid(this.epoch, 0), config: this.opts.config ?? '' });
  }

  private sendProposal(out: LeaderOutput<T, S>[], h: Handler, zxid: bigint, txn: T): void {
    this.send(out, h.sid, { type: 'PROPOSAL', zxid, txn });
    if (h.type === 'follower') {
      h.unackedZxids.push(zxid);
      h.unackedTicks.push(this.ticks);
    }
  }

  private checkNewLeaderQuorum(out: LeaderOutput<T, S>[]): void {
    if (this.phase !== 'newLeaderAck' || !this.isQuorum(this.newLeaderAckers)) return;
    this.phase = 'established';
    this.lastCommitted = makeZxid(this.epoch, 0);
    // As ZooKeeper's data tree: the last processed zxid becomes the epoch's zxid, which no txn has.
    this.lastProcessedZxid = makeZxid(this.epoch, 0);
    out.push({ kind: 'established', epoch: this.epoch });
    for (const h of this.handlers.values()) {
      if (h.state === 'newLeaderAcked') this.sendUpToDate(h, out);
    }
  }

  private sendUpToDate(h: Handler, out: LeaderOutput<T, S>[]): void {
    h.state = 'upToDate';
    this.send(out, h.sid, { type: 'UPTODATE', zxid: -1n });
  }

  // ---- inputs ----

  /** A message from learner `from`, in the order its connection delivered it. */
  receive(from: number, msg: ZabMessage<T, S>): LeaderOutput<T, S>[] {
    const out: LeaderOutput<T, S>[] = [];
    if (this.phase === 'stopped') return out;
    if (msg.type === 'FOLLOWERINFO' || msg.type === 'OBSERVERINFO') {
      this.onLearnerInfo(from, msg.type === 'FOLLOWERINFO' ? 'follower' : 'observer', msg.zxid, out);
      return out;
    }
    const h = this.handlers.get(from);
    if (!h) return out; // no handshake on this connection: ZooKeeper drops it
    h.deadline = this.ticks + this.opts.syncLimit;
    switch (msg.type) {
      case 'ACKEPOCH':
        this.onAckEpoch(h, msg.zxid, msg.currentEpoch, out);
        break;
      case 'ACK':
        // A proposal's ack may commit it (and those after it): their outputs in tryCommit's array.
        if (this.onAck(h, msg.zxid, out)) return this.tryCommit(out);
        break;
      case 'PING':
        if (msg.sessions && msg.sessions.length > 0) out.push({ kind: 'touchSessions', sid: h.sid, sessions: msg.sessions });
        break;
      case 'REQUEST':
      case 'REVALIDATE':
      case 'SYNC':
        if (h.state === 'upToDate') out.push({ kind: 'learnerRequest', sid: h.sid, msg });
        break;
      default:
        this.dropLearner(out, h.sid, `unexpected ${msg.type} from learner ${h.sid}`);
    }
    return out;
  }

  private onLearnerInfo(from: number, type: LearnerType, zxid: bigint, out: LeaderOutput<T, S>[]): void {
    const isVoter = this.voters.has(from);
    if (type === 'follower' && !isVoter) {
      out.push({ kind: 'disconnect', sid: from, reason: `FOLLOWERINFO from ${from}, which is not a voting member` });
      return;
    }
    if (type === 'observer' && !this.observers.has(from)) {
      out.push({ kind: 'disconnect', sid: from, reason: `OBSERVERINFO from ${from}, which is not an observer` });
      return;
    }
    if (from === this.sid) {
      out.push({ kind: 'disconnect', sid: from, reason: 'learner claims the leader\'s sid' });
      return;
    }
    // A learner reconnecting replaces its old handler.
    this.handlers.delete(from);
    const h: Handler = {
      sid: from,
      type,
      state: 'awaitingEpoch',
      acceptedEpoch: epochOf(zxid),
      peerLastZxid: -1n,
      deadline: this.ticks + this.opts.initLimit + this.opts.syncLimit,
      forwarding: false,
      unackedZxids: [],
      unackedTicks: [],
    };
    this.handlers.set(from, h);
    if (this.phase === 'discovery') this.contributeEpoch(from, h.acceptedEpoch, type === 'follower', out);
    else if (h.acceptedEpoch > this.epoch) {
      // The learner promised (ACKEPOCH) a later epoch, from a leader attempt that never established:
      // it can never follow ours. Dropping it alone (Apache answers LEADERINFO and the learner
      // refuses it) leaves it rejoining us forever; a new election picks an epoch past its promise.
      this.stepDown(out, `learner ${from} accepted epoch ${h.acceptedEpoch} beyond ours (${this.epoch}): a new epoch is needed`);
      return;
    }
    if (this.phase !== 'discovery' && h.state === 'awaitingEpoch') this.sendLeaderInfo(h, out);
  }

  private onAckEpoch(h: Handler, zxid: bigint, peerCurrentEpoch: number, out: LeaderOutput<T, S>[]): void {
    if (h.state !== 'leaderInfoSent') {
      this.dropLearner(out, h.sid, `ACKEPOCH from ${h.sid} out of order`);
      return;
    }
    h.peerLastZxid = zxid;
    if (peerCurrentEpoch !== -1) {
      const ahead =
        peerCurrentEpoch > this.currentEpoch ||
        (peerCurrentEpoch === this.currentEpoch && zxid > this.lastProcessedZxid);
      if (ahead) {
        this.dropLearner(out, h.sid, `Follower ${h.sid} is ahead of the leader: epoch ${peerCurrentEpoch} zxid ${zxidHex(zxid)}`);
        return;
      }
      if (h.type === 'follower' && zxid !== -1n) this.epochAckers.add(h.sid);
    }
    h.state = 'awaitingEpochAck';
    if (this.phase === 'epochAck') this.checkEpochAckQuorum(out);
    else if (this.phase === 'newLeaderAck' || this.phase === 'established') this.syncLearner(h, out);
  }

  /** Takes an ACK in; true when it counted for a proposal (which may now commit). */
  private onAck(h: Handler, zxid: bigint, out: LeaderOutput<T, S>[]): boolean {
    if (h.state === 'newLeaderSent') {
      if (zxid !== makeZxid(this.epoch, 0)) {
        this.dropLearner(out, h.sid, `expected the NEWLEADER ack ${zxidHex(makeZxid(this.epoch, 0))} from ${h.sid}, got ${zxidHex(zxid)}`);
        return false;
      }
      h.state = 'newLeaderAcked';
      if (h.type === 'follower') this.newLeaderAckers.add(h.sid);
      if (this.phase === 'established') this.sendUpToDate(h, out);
      else this.checkNewLeaderQuorum(out);
      return false;
    }
    if (h.state !== 'newLeaderAcked' && h.state !== 'upToDate') {
      this.dropLearner(out, h.sid, `ACK from ${h.sid} before synchronisation`);
      return false;
    }
    // The UPTODATE ack, acks for txns committed during sync, and observer acks count for nothing.
    if (counter(zxid) === 0 || h.type !== 'follower') return false;
    // ACKs come in zxid order: this one covers everything sent to this learner before it.
    while (h.unackedZxids.length > 0 && h.unackedZxids[0] <= zxid) {
      h.unackedZxids.shift();
      h.unackedTicks.shift();
    }
    // Outstanding proposals have consecutive zxids: the ack's position is its distance from the oldest.
    if (this.outstanding.length === 0 || zxid < this.outstanding[0].zxid) return false;
    const first = this.outstanding[0].zxid;
    const p = this.outstanding[zxid <= SAFE_ZXID ? Number(zxid) - Number(first) : Number(zxid - first)];
    if (!p || p.zxid !== zxid) return false;
    this.addAck(p, h.sid);
    return true;
  }

  /** A learner's connection closed. */
  disconnected(sid: number): LeaderOutput<T, S>[] {
    this.handlers.delete(sid);
    return [];
  }

  /** The next zxid propose() accepts. */
  nextZxid(): bigint {
    return this.lastProposed + 1n;
  }

  /** A txn prepared on the leader with zxid nextZxid(). */
  propose(zxid: bigint, txn: T): LeaderOutput<T, S>[] {
    const out: LeaderOutput<T, S>[] = [];
    if (this.phase !== 'established') throw new Error('propose before the leader is established');
    const next = zxid <= SAFE_ZXID && this.lastProposed >= 0n ? Number(zxid) === Number(this.lastProposed) + 1 : zxid === this.lastProposed + 1n;
    if (!next || epochOfZxid(zxid) !== this.epoch) {
      throw new Error(`proposal ${zxidHex(zxid)} out of order: expected ${zxidHex(this.lastProposed + 1n)}`);
    }
    if (counter(zxid) === 0xffffffff) {
      // ZOOKEEPER-1277: a new epoch is cheaper than a zxid that wraps.
      this.stepDown(out, 'zxid counter exhausted; forcing a new epoch');
      return out;
    }
    this.lastProposed = zxid;
    this.outstanding.push({ zxid, txn, ackMask: 0, ackSet: this.voterBits ? null : new Set(), ackCount: 0, shortAt: -1 });
    // Every write comes here: its outputs go in an array of their exact size (one that grows
    // from empty reserves room for 17).
    let followers = 0;
    for (const h of this.handlers.values()) if (h.forwarding && h.type === 'follower') followers++;
    const sized: LeaderOutput<T, S>[] = new Array(followers + 1);
    let i = 0;
    if (followers > 0) {
      // One PROPOSAL shared by the followers: messages are only read.
      const msg: ZabMessage<T, S> = { type: 'PROPOSAL', zxid, txn };
      for (const h of this.handlers.values()) {
        if (!h.forwarding || h.type !== 'follower') continue;
        sized[i++] = { kind: 'send', to: h.sid, msg };
        h.unackedZxids.push(zxid);
        h.unackedTicks.push(this.ticks);
      }
    }
    sized[i] = { kind: 'log', zxid, txn };
    return sized;
  }

  /** The leader's own log is durable up to `zxid`: its own ack. */
  logged(zxid: bigint): LeaderOutput<T, S>[] {
    const out: LeaderOutput<T, S>[] = [];
    if (this.phase === 'stopped') return out;
    if (zxid > this.durableZxid) this.durableZxid = zxid;
    return this.tryCommit(out);
  }

  /** Commits what a quorum acked, in zxid order; returns `out`, or the array its outputs went to. */
  private tryCommit(out: LeaderOutput<T, S>[]): LeaderOutput<T, S>[] {
    while (this.outstanding.length > 0 && this.phase === 'established') {
      const head = this.outstanding[0];
      // The leader's own ack joins once its log is durable that far (durability only grows).
      if (head.zxid <= this.durableZxid) this.addAck(head, this.sid);
      if (head.ackCount === head.shortAt) return out;
      if (!this.acked(head)) {
        head.shortAt = head.ackCount;
        return out;
      }
      this.outstanding.shift();
      this.lastCommitted = head.zxid;
      this.lastProcessedZxid = head.zxid;
      this.committedLog.add(head.zxid, head.txn);
      // Mostly one commit per ack, with nothing before it: its outputs then go in an array of their
      // exact size (one that grows from empty reserves room for 17); otherwise they are appended.
      let i = out.length;
      if (i === 0) {
        let learners = 0;
        for (const h of this.handlers.values()) if (h.forwarding) learners++;
        out = new Array(learners + 1);
      }
      // One COMMIT (and one INFORM) shared by every learner: messages are only read.
      let commit: ZabMessage<T, S> | undefined;
      let inform: ZabMessage<T, S> | undefined;
      for (const h of this.handlers.values()) {
        if (!h.forwarding) continue;
        if (h.type === 'follower') out[i++] = { kind: 'send', to: h.sid, msg: (commit ??= { type: 'COMMIT', zxid: head.zxid }) };
        else out[i++] = { kind: 'send', to: h.sid, msg: (inform ??= { type: 'INFORM', zxid: head.zxid, txn: head.txn }) };
      }
      out[i++] = { kind: 'commit', zxid: head.zxid, txn: head.txn };
      while (this.pendingSyncs.length > 0 && this.pendingSyncs[0].zxid <= head.zxid) {
        const ps = this.pendingSyncs.shift()!;
        if (this.handlers.has(ps.sid)) this.send(out, ps.sid, { type: 'SYNC', zxid: 0n });
      }
    }
    return out;
  }

  /**
   * A learner forwarded a client's sync: SYNC goes back at once if nothing is outstanding, otherwise
   * right after the COMMIT of the zxid proposed last at this moment (ZooKeeper's processSync).
   */
  syncRequested(sid: number): LeaderOutput<T, S>[] {
    const out: LeaderOutput<T, S>[] = [];
    if (this.phase !== 'established' || !this.handlers.has(sid)) return out;
    if (this.outstanding.length === 0) this.send(out, sid, { type: 'SYNC', zxid: 0n });
    else this.pendingSyncs.push({ zxid: this.lastProposed, sid });
    return out;
  }

  /** Called every tickTime/2: PINGs every half tick; the quorum and learner deadlines every tick. */
  tick(): LeaderOutput<T, S>[] {
    const out: LeaderOutput<T, S>[] = [];
    if (this.phase === 'stopped') return out;
    this.halfTicks++;
    if (this.halfTicks % 2 === 0) {
      this.ticks++;
      if (this.phase !== 'established') {
        if (this.ticks > this.phaseDeadline) {
          this.stepDown(out, `timed out waiting for a quorum in phase ${this.phase} (initLimit ${this.opts.initLimit} ticks)`);
          return out;
        }
      }
      for (const h of [...this.handlers.values()]) {
        if (this.ticks > h.deadline) this.dropLearner(out, h.sid, `learner ${h.sid} silent for syncLimit`);
        else if (h.unackedTicks.length > 0 && this.ticks - h.unackedTicks[0]! > this.opts.syncLimit) {
          this.dropLearner(out, h.sid, `learner ${h.sid} did not ack 0x${h.unackedZxids[0]!.toString(16)} within syncLimit (transaction timeout)`);
        }
      }
      if (this.phase === 'established') {
        const synced = new Set<number>([this.sid]);
        for (const h of this.handlers.values()) if (h.type === 'follower' && this.ticks <= h.deadline) synced.add(h.sid);
        if (!this.isQuorum(synced)) {
          this.stepDown(out, 'Not sufficient followers synced, only synced with sids: [ ' + [...synced].join(',') + ' ]');
          return out;
        }
      }
    }
    for (const h of this.handlers.values()) {
      if (h.state === 'newLeaderSent' || h.state === 'newLeaderAcked' || h.state === 'upToDate') {
        this.send(out, h.sid, { type: 'PING', zxid: this.lastProposed, sessions: null });
      }
    }
    return out;
  }
}
