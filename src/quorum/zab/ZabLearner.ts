// The learner side of Zab (follower, or observer) as a pure state machine: FOLLOWERINFO/OBSERVERINFO,
// LEADERINFO → persist acceptedEpoch → ACKEPOCH, DIFF/TRUNC/SNAP, NEWLEADER (log the sync txns, wait
// until they are durable, persist currentEpoch, then ACK: the ZOOKEEPER-4785 order), UPTODATE, then
// broadcast (log each PROPOSAL, ACK once durable, commit on COMMIT; observers apply INFORMs).
// Every input returns the outputs the host must carry out in order; a persist, truncate or
// takeSnapshot output must be done before any later output of the same batch.
import {
  ZAB_PROTOCOL_VERSION,
  epochOf,
  makeZxid,
  zxidHex,
  type Proposal,
  type SessionTouch,
  type ZabMessage,
} from './messages.js';

export type LearnerOutput<T, S> =
  | { kind: 'send'; msg: ZabMessage<T, S> }
  | { kind: 'persistAcceptedEpoch'; epoch: number }
  | { kind: 'persistCurrentEpoch'; epoch: number }
  /** Cut the txn log after `zxid` and reload the database from disk (TRUNC). */
  | { kind: 'truncate'; zxid: bigint }
  /** Replace the database with the leader's snapshot (SNAP's, output at NEWLEADER); not yet durable. */
  | { kind: 'loadSnapshot'; zxid: bigint; snapshot: S }
  /** Write the database as a snapshot, durably, now (at NEWLEADER after SNAP or TRUNC). */
  | { kind: 'takeSnapshot'; zxid: bigint }
  /** Append to the txn log; the host reports durability with logged(). */
  | { kind: 'log'; zxid: bigint; txn: T }
  /** Committed: apply, in zxid order. */
  | { kind: 'commit'; zxid: bigint; txn: T }
  /** UPTODATE: start serving clients. */
  | { kind: 'serving'; epoch: number }
  /** SYNC or REVALIDATE replies, for the host's request pipeline. */
  | { kind: 'leaderReply'; msg: ZabMessage<T, S> }
  /** Give up on this leader: close the connection and go back to election. */
  | { kind: 'leaderLost'; reason: string };

export interface ZabLearnerOptions {
  sid: number;
  type: 'follower' | 'observer';
  acceptedEpoch: number;
  currentEpoch: number;
  /** The last zxid in this learner's database (ZooKeeper: lastProcessedZxid after replaying the log). */
  lastLoggedZxid: bigint;
  initLimit: number;
  syncLimit: number;
  configVersion?: bigint;
}

type LearnerState =
  | 'idle'
  | 'awaitLeaderInfo'
  | 'awaitSyncMode'
  | 'syncing' // before NEWLEADER
  | 'newLeaderLogging' // NEWLEADER seen, waiting for the sync txns to be durable
  | 'awaitUpToDate'
  | 'broadcast'
  | 'lost';

export class ZabLearner<T, S = unknown> {
  readonly sid: number;
  readonly type: 'follower' | 'observer';
  private readonly opts: ZabLearnerOptions;
  private st: LearnerState = 'idle';
  private acceptedEpoch: number;
  private currentEpoch: number;
  private lastLoggedZxid: bigint;
  private newEpoch = -1;
  private mode: 'DIFF' | 'TRUNC' | 'SNAP' | null = null;
  /** SNAP's state, held until NEWLEADER. */
  private pendingSnapshot: { zxid: bigint; snapshot: S } | null = null;

  /** Txns received from the leader and not yet committed here, in zxid order. */
  private readonly pending: Proposal<T>[] = [];
  /** Sync phase: txns not yet handed to the log, and COMMIT zxids remembered until UPTODATE. */
  private notLogged: Proposal<T>[] = [];
  private committedDuringSync: bigint[] = [];
  /** Observers during sync: INFORMs are committed txns, applied after UPTODATE. */
  private informed: Proposal<T>[] = [];

  private durableZxid = -1n;
  /** Logged zxids waiting for durability before their ACK. */
  private readonly toAck: bigint[] = [];
  /** Highest zxid whose ACK must be held until NEWLEADER's ACK is out. */
  private newLeaderWaitFor = -1n;

  private halfTicks = 0;
  private ticks = 0;
  private silentSince = 0;
  private touches = new Map<bigint, number>();

  constructor(opts: ZabLearnerOptions) {
    this.sid = opts.sid;
    this.type = opts.type;
    this.opts = opts;
    this.acceptedEpoch = opts.acceptedEpoch;
    this.currentEpoch = opts.currentEpoch;
    this.lastLoggedZxid = opts.lastLoggedZxid;
  }

  get state(): LearnerState {
    return this.st;
  }

  get epoch(): number {
    return this.newEpoch;
  }

  get syncMode(): 'DIFF' | 'TRUNC' | 'SNAP' | null {
    return this.mode;
  }

  /** Connected to the leader: announce ourselves. */
  start(): LearnerOutput<T, S>[] {
    if (this.st !== 'idle') throw new Error('learner already started');
    this.st = 'awaitLeaderInfo';
    const zxid = makeZxid(this.acceptedEpoch, 0);
    const info = { zxid, sid: BigInt(this.sid), protocolVersion: ZAB_PROTOCOL_VERSION, configVersion: this.opts.configVersion ?? 0n };
    return [{ kind: 'send', msg: this.type === 'follower' ? { type: 'FOLLOWERINFO', ...info } : { type: 'OBSERVERINFO', ...info } }];
  }

  private lose(out: LearnerOutput<T, S>[], reason: string): LearnerOutput<T, S>[] {
    if (this.st !== 'lost') {
      this.st = 'lost';
      out.push({ kind: 'leaderLost', reason });
    }
    return out;
  }

  /** A message from the leader, in connection order. */
  receive(msg: ZabMessage<T, S>): LearnerOutput<T, S>[] {
    if (this.st === 'lost' || this.st === 'idle') return [];
    this.silentSince = this.ticks;
    switch (this.st) {
      case 'awaitLeaderInfo':
        return this.onLeaderInfo(msg, []);
      case 'awaitSyncMode':
        return this.onSyncMode(msg, []);
      case 'syncing':
      case 'newLeaderLogging':
      case 'awaitUpToDate':
        return this.onSyncPacket(msg, []);
      case 'broadcast':
        return this.onBroadcast(msg);
    }
  }

  private onLeaderInfo(msg: ZabMessage<T, S>, out: LearnerOutput<T, S>[]): LearnerOutput<T, S>[] {
    if (msg.type !== 'LEADERINFO') return this.lose(out, `expected LEADERINFO, got ${msg.type}`);
    const e = epochOf(msg.zxid);
    let payload: number;
    if (e > this.acceptedEpoch) {
      payload = this.currentEpoch;
      this.acceptedEpoch = e;
      out.push({ kind: 'persistAcceptedEpoch', epoch: e });
    } else if (e === this.acceptedEpoch) {
      payload = -1;
    } else {
      return this.lose(out, `Leaders epoch, ${e} is less than accepted epoch, ${this.acceptedEpoch}`);
    }
    this.newEpoch = e;
    this.st = 'awaitSyncMode';
    out.push({ kind: 'send', msg: { type: 'ACKEPOCH', zxid: this.lastLoggedZxid, currentEpoch: payload } });
    return out;
  }

  private onSyncMode(msg: ZabMessage<T, S>, out: LearnerOutput<T, S>[]): LearnerOutput<T, S>[] {
    switch (msg.type) {
      case 'DIFF':
        this.mode = 'DIFF';
        break;
      case 'TRUNC':
        this.mode = 'TRUNC';
        this.lastLoggedZxid = msg.zxid;
        out.push({ kind: 'truncate', zxid: msg.zxid });
        break;
      case 'SNAP':
        this.mode = 'SNAP';
        this.lastLoggedZxid = msg.zxid;
        // Loaded at NEWLEADER, together with the snapshot that persists it: a learner that loses the
        // leader before NEWLEADER keeps the history its disk holds. Replacing the tree now would
        // leave memory ahead of the disk, and a later DIFF would log txns that only apply on top
        // of a snapshot never written (a restart replays them onto the old state).
        this.pendingSnapshot = { zxid: msg.zxid, snapshot: msg.snapshot };
        break;
      default:
        return this.lose(out, `expected DIFF, TRUNC or SNAP, got ${msg.type}`);
    }
    this.st = 'syncing';
    return out;
  }

  private pushPending(p: Proposal<T>, out: LearnerOutput<T, S>[]): boolean {
    const last = this.pending.length > 0 ? this.pending[this.pending.length - 1].zxid : this.lastLoggedZxid;
    if (p.zxid <= last) {
      this.lose(out, `proposal ${zxidHex(p.zxid)} is not after ${zxidHex(last)}`);
      return false;
    }
    this.pending.push(p);
    return true;
  }

  private onSyncPacket(msg: ZabMessage<T, S>, out: LearnerOutput<T, S>[]): LearnerOutput<T, S>[] {
    switch (msg.type) {
      case 'PROPOSAL':
        if (this.type === 'observer') {
          this.informed.push({ zxid: msg.zxid, txn: msg.txn });
        } else {
          const p = { zxid: msg.zxid, txn: msg.txn };
          if (!this.pushPending(p, out)) return out;
          this.notLogged.push(p);
          // After NEWLEADER a proposal is logged at once and acked after UPTODATE's ack.
          if (this.st !== 'syncing') this.flushNotLogged(out);
        }
        return out;
      case 'COMMIT':
        this.committedDuringSync.push(msg.zxid);
        return out;
      case 'INFORM':
        this.informed.push({ zxid: msg.zxid, txn: msg.txn });
        this.committedDuringSync.push(msg.zxid);
        return out;
      case 'NEWLEADER':
        if (this.st !== 'syncing') return this.lose(out, 'second NEWLEADER');
        if (msg.zxid !== makeZxid(this.newEpoch, 0)) return this.lose(out, `NEWLEADER ${zxidHex(msg.zxid)} for another epoch than ${this.newEpoch}`);
        if (this.pendingSnapshot) {
          out.push({ kind: 'loadSnapshot', zxid: this.pendingSnapshot.zxid, snapshot: this.pendingSnapshot.snapshot });
          this.pendingSnapshot = null;
        }
        if (this.mode === 'SNAP' || this.mode === 'TRUNC') out.push({ kind: 'takeSnapshot', zxid: this.lastLoggedZxid });
        this.st = 'newLeaderLogging';
        this.newLeaderWaitFor = this.notLogged.length > 0 ? this.notLogged[this.notLogged.length - 1].zxid : -1n;
        this.flushNotLogged(out);
        this.maybeAckNewLeader(out);
        return out;
      case 'UPTODATE':
        if (this.st !== 'awaitUpToDate') return this.lose(out, 'UPTODATE before NEWLEADER was acknowledged');
        return this.onUpToDate(out);
      case 'PING':
        return out; // ZooKeeper ignores pings until UPTODATE
      default:
        return this.lose(out, `unexpected ${msg.type} during synchronisation`);
    }
  }

  private flushNotLogged(out: LearnerOutput<T, S>[]): void {
    for (const p of this.notLogged) {
      out.push({ kind: 'log', zxid: p.zxid, txn: p.txn });
      this.toAck.push(p.zxid);
      this.lastLoggedZxid = p.zxid;
    }
    this.notLogged = [];
  }

  private maybeAckNewLeader(out: LearnerOutput<T, S>[]): void {
    if (this.st !== 'newLeaderLogging' || this.durableZxid < this.newLeaderWaitFor) return;
    this.currentEpoch = this.newEpoch;
    out.push({ kind: 'persistCurrentEpoch', epoch: this.newEpoch });
    out.push({ kind: 'send', msg: { type: 'ACK', zxid: makeZxid(this.newEpoch, 0) } });
    this.st = 'awaitUpToDate';
    this.sendAcks(out);
  }

  private sendAcks(out: LearnerOutput<T, S>[]): void {
    if (this.type !== 'follower') {
      this.toAck.length = 0;
      return;
    }
    while (this.toAck.length > 0 && this.toAck[0]! <= this.durableZxid) {
      out.push({ kind: 'send', msg: { type: 'ACK', zxid: this.toAck.shift()! } });
    }
  }

  private onUpToDate(out: LearnerOutput<T, S>[]): LearnerOutput<T, S>[] {
    out.push({ kind: 'send', msg: { type: 'ACK', zxid: makeZxid(this.newEpoch, 0) } });
    this.st = 'broadcast';
    out.push({ kind: 'serving', epoch: this.newEpoch });
    if (this.type === 'follower') {
      for (const z of this.committedDuringSync) {
        if (!this.commitHead(z, out)) return out;
      }
    } else {
      for (const z of this.committedDuringSync) {
        const p = this.informed.find((q) => q.zxid === z);
        if (!p || p.zxid <= this.lastLoggedZxid) continue;
        this.lastLoggedZxid = p.zxid;
        out.push({ kind: 'log', zxid: p.zxid, txn: p.txn });
        out.push({ kind: 'commit', zxid: p.zxid, txn: p.txn });
      }
      this.informed = [];
    }
    this.committedDuringSync = [];
    return out;
  }

  /** Commits `zxid`, which must be the oldest txn not yet committed here. */
  private commitHead(zxid: bigint, out: LearnerOutput<T, S>[]): boolean {
    const head = this.pending[0];
    if (!head) return true; // ZooKeeper only warns: nothing pending to commit
    if (head.zxid !== zxid) {
      this.lose(out, `Committing zxid ${zxidHex(zxid)} but next pending txn ${zxidHex(head.zxid)}`);
      return false;
    }
    this.pending.shift();
    out.push({ kind: 'commit', zxid, txn: head.txn });
    return true;
  }

  // Broadcast is the steady state: several calls per write, so each returns an array literal of
  // exactly its outputs (an empty array grown by push() costs a 17-slot backing store).
  private onBroadcast(msg: ZabMessage<T, S>): LearnerOutput<T, S>[] {
    switch (msg.type) {
      case 'PROPOSAL': {
        if (this.type === 'observer') return this.lose([], 'observer got a PROPOSAL');
        const last = this.pending.length > 0 ? this.pending[this.pending.length - 1]!.zxid : this.lastLoggedZxid;
        if (msg.zxid <= last) return this.lose([], `proposal ${zxidHex(msg.zxid)} is not after ${zxidHex(last)}`);
        // The message is itself a Proposal ({zxid, txn}); nothing changes it, so it is kept as is.
        this.pending.push(msg);
        this.lastLoggedZxid = msg.zxid;
        this.toAck.push(msg.zxid);
        return [{ kind: 'log', zxid: msg.zxid, txn: msg.txn }];
      }
      case 'COMMIT': {
        if (this.type === 'observer') return this.lose([], 'observer got a COMMIT');
        const head = this.pending[0];
        if (!head) return []; // ZooKeeper only warns: nothing pending to commit
        if (head.zxid !== msg.zxid) return this.lose([], `Committing zxid ${zxidHex(msg.zxid)} but next pending txn ${zxidHex(head.zxid)}`);
        this.pending.shift();
        return [{ kind: 'commit', zxid: msg.zxid, txn: head.txn }];
      }
      case 'INFORM':
        if (this.type !== 'observer') return this.lose([], 'follower got an INFORM');
        if (msg.zxid <= this.lastLoggedZxid) return this.lose([], `INFORM ${zxidHex(msg.zxid)} is not after ${zxidHex(this.lastLoggedZxid)}`);
        this.lastLoggedZxid = msg.zxid;
        return [
          { kind: 'log', zxid: msg.zxid, txn: msg.txn },
          { kind: 'commit', zxid: msg.zxid, txn: msg.txn },
        ];
      case 'PING': {
        const sessions: SessionTouch[] = [...this.touches].map(([sessionId, timeout]) => ({ sessionId, timeout }));
        this.touches = new Map();
        return [{ kind: 'send', msg: { type: 'PING', zxid: msg.zxid, sessions } }];
      }
      case 'SYNC':
      case 'REVALIDATE':
        return [{ kind: 'leaderReply', msg }];
      default:
        return this.lose([], `unexpected ${msg.type} while following`);
    }
  }

  /** The log is durable up to `zxid`. */
  logged(zxid: bigint): LearnerOutput<T, S>[] {
    if (this.st === 'lost') return [];
    if (zxid > this.durableZxid) this.durableZxid = zxid;
    if (this.st === 'broadcast' && this.type === 'follower') return this.readyAcks();
    const out: LearnerOutput<T, S>[] = [];
    if (this.st === 'newLeaderLogging') this.maybeAckNewLeader(out);
    else if (this.st === 'awaitUpToDate' || this.st === 'broadcast') this.sendAcks(out);
    return out;
  }

  /** sendAcks for a follower in broadcast, into an array of the right size (once per log flush). */
  private readyAcks(): LearnerOutput<T, S>[] {
    let n = 0;
    while (n < this.toAck.length && this.toAck[n]! <= this.durableZxid) n++;
    const out: LearnerOutput<T, S>[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { kind: 'send', msg: { type: 'ACK', zxid: this.toAck[i]! } };
    // shift() rather than splice(), which would build an array of the removed items.
    for (let i = 0; i < n; i++) this.toAck.shift();
    return out;
  }

  /** A client of this learner did something on a session: reported in the next PING reply. */
  touchSession(sessionId: bigint, timeout: number): void {
    this.touches.set(sessionId, timeout);
  }

  /** A client request to forward (REQUEST, REVALIDATE), once serving. */
  forward(msg: ZabMessage<T, S>): LearnerOutput<T, S>[] {
    if (this.st !== 'broadcast') throw new Error('forward before UPTODATE');
    return [{ kind: 'send', msg }];
  }

  /** Called every tickTime/2; the leader is presumed dead after initLimit (before NEWLEADER) or syncLimit ticks of silence. */
  tick(): LearnerOutput<T, S>[] {
    const out: LearnerOutput<T, S>[] = [];
    if (this.st === 'lost' || this.st === 'idle') return out;
    this.halfTicks++;
    if (this.halfTicks % 2 !== 0) return out;
    this.ticks++;
    const limit = this.st === 'awaitLeaderInfo' || this.st === 'awaitSyncMode' || this.st === 'syncing' ? this.opts.initLimit : this.opts.syncLimit;
    if (this.ticks - this.silentSince > limit) this.lose(out, `no packet from the leader for ${limit} ticks`);
    return out;
  }

  /** The connection to the leader closed. */
  disconnected(): LearnerOutput<T, S>[] {
    return this.lose([], 'connection to the leader closed');
  }
}
