// One seeded run of a whole ensemble (3 or 5 voters plus observers) in virtual time, built from the
// production cores: FastLeaderElection, ZabLeader/ZabLearner under LeaderCommit/FollowerCommit, the
// RequestPipeline (followers forward writes) and ZkDatabase. Each member is composed the way
// src/server/QuorumPeer.ts composes a real member (lead / follow / roleEnded / fastForward), with the
// sockets, files and clocks replaced: a seeded network, SimDisk logs that lose unsynced writes on a
// crash, epoch files and snapshots on that disk, and restarts that recover from it.
//
// The network, honestly: Zab runs over TCP, so one connection delivers in order, never duplicates,
// and "a lost packet" means the connection breaks (everything not yet delivered is gone, both ends
// learn it, the learner goes back to election). Reordering exists only between connections.
// Election notifications travel on per-pair FIFO links where a message may be lost (a broken
// connection) or delivered twice (Apache re-sends the last message on a new connection).
// Partitions drop everything between the two sides until they heal.
//
// Checked while running: at most one established leader per epoch; one txn per zxid everywhere;
// every member applies zxids in increasing order and its tree digest at a zxid equals every other
// member's at that zxid (and txns' own digests, with digest assertions on); an established leader
// holds every write acknowledged before it was established; replies to a session come in request
// order with non-decreasing zxids; no session expires while its client is being answered, nor
// sooner than a full timeout after a leader is established; no member hits a fatal error. At the end
// (all healed, one leader, everyone caught up) against the final leader's history H: every member
// holds exactly H and the same session table; every acknowledged write is in H, is the session's
// own request, and its reply matches H; writes are linearizable (a write acknowledged before another
// began has the smaller zxid); every read returns H's state at the reply zxid; a sync's reply zxid
// covers every write acknowledged before the sync began.
//
// Where this composition differs from QuorumPeer (whose lead/follow it mirrors): TRUNC reloads the
// tree from the disk when it had applied past the TRUNC point (QuorumPeer refuses that today), and a
// TRUNC below the member's snapshot drops its state so that it rejoins empty (see truncate below).
import { CreateMode, Err, OpCode } from '../../src/protocol/constants.js';
import { Writer, Reader } from '../../src/jute/archive.js';
import type { Codec } from '../../src/jute/codec.js';
import * as R from '../../src/protocol/records.js';
import { encodeTxn, type Txn } from '../../src/protocol/txn.js';
import type { Identity } from '../../src/auth/AuthProviders.js';
import { DataTree } from '../../src/tree/DataTree.js';
import { WatchManager } from '../../src/tree/WatchManager.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { DEFAULT_COMMIT_LOG_COUNT } from '../../src/tree/CommittedLog.js';
import { TxnProposalWindow } from '../../src/protocol/TxnRing.js';
import { SessionTracker } from '../../src/session/SessionTracker.js';
import { ServerStats } from '../../src/server/ServerStats.js';
import { RequestPipeline, type PipelineSettings } from '../../src/server/pipeline/RequestPipeline.js';
import type { ClientChannel } from '../../src/server/pipeline/ClientChannel.js';
import { leaderCommit, type LeaderCommit } from '../../src/server/pipeline/LeaderCommit.js';
import { followerCommit, type FollowerCommit } from '../../src/server/pipeline/FollowerCommit.js';
import { readSnapshotBody, serializeSnapshotSync, type SnapshotBody } from '../../src/storage/Snapshot.js';
import { FastLeaderElection, type ElectionOutput, type Notification } from '../../src/quorum/election/FastLeaderElection.js';
import { QuorumMaj } from '../../src/quorum/election/QuorumVerifier.js';
import type { ServerState, Vote } from '../../src/quorum/election/Vote.js';
import { ZabLeader } from '../../src/quorum/zab/ZabLeader.js';
import { ZabLearner } from '../../src/quorum/zab/ZabLearner.js';
import { makeZxid, type ZabMessage } from '../../src/quorum/zab/messages.js';
import { fromWire, toWire } from '../../src/quorum/net/QuorumChannels.js';
import { restartSessionClocks } from '../../src/server/QuorumPeer.js';
import type { Runtime, TimerHandle } from '../../src/runtime/Runtime.js';
import { Model, ROOT } from './Model.js';
import { SimDisk, SimTxnLog } from './SimDisk.js';
import { SimScheduler, seededRandom } from './SimRuntime.js';

const TICK_MS = 100;
const INIT_LIMIT = 10;
const SYNC_LIMIT = 5;
/** Short enough that sessions expire within a run when nobody keeps them alive; clients here never pause. */
const SESSION_TIMEOUT_MS = 4_000;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const PATHS = [ROOT, `${ROOT}/a`, `${ROOT}/b`, `${ROOT}/a/x`];
const START = 1_700_000_000_000;

export interface EnsembleSimOptions {
  voters: number;
  observers: number;
  clients: number;
  /** Client operations issued during the chaos phase. */
  ops: number;
  /** Virtual ms of faults (crashes, partitions, broken connections) before everything heals. */
  chaosMs: number;
  /** Chance that a message breaks its connection (Zab) or is lost (election), during chaos. */
  breakRate: number;
  /** Mean virtual ms between injected faults during chaos. */
  faultEveryMs: number;
}

export const DEFAULT_ENSEMBLE_OPTIONS: EnsembleSimOptions = {
  voters: 3, observers: 1, clients: 4, ops: 150, chaosMs: 6000, breakRate: 0.01, faultEveryMs: 500,
};

/** The ensemble shapes the tests run; the "long" ones (more ops, 15 s of faults) on demand (SIM_SHAPES). */
export const ENSEMBLE_SHAPES: Record<string, Partial<EnsembleSimOptions>> = {
  '3+1': { voters: 3, observers: 1 },
  '5+1': { voters: 5, observers: 1 },
  '3+1 long': { voters: 3, observers: 1, ops: 400, chaosMs: 15000 },
  '5+1 long': { voters: 5, observers: 1, ops: 400, chaosMs: 15000 },
};

export interface EnsembleSimResult {
  seed: number;
  options: EnsembleSimOptions;
  violations: string[];
  trace: string[];
  steps: number;
  acked: number;
  reads: number;
  crashes: number;
  partitions: number;
  breaks: number;
  epochs: number;
  historyLength: number;
  virtualMs: number;
  /** How learners were synchronised (DIFF/TRUNC/SNAP), to show the runs reach each. */
  syncModes: Record<string, number>;
  syncsAnswered: number;
  moves: number;
  expiries: number;
}

/** What SNAP carries and a snapshot file holds: the tree, plus (checker-only) the zxids it contains. */
interface SimSnap {
  zxid: number;
  body: SnapshotBody;
  zxids: number[];
}

interface Disk {
  log: SimDisk;
  snap: SimSnap | null;
  acceptedEpoch: number;
  currentEpoch: number;
}

type PeerMessage = ZabMessage<Txn, SimSnap>;

/** One TCP connection between a learner and its leader. */
interface ZConn {
  id: number;
  learner: number;
  leader: number;
  learnerInc: number;
  leaderInc: number;
  broken: boolean;
  /** Per direction: when the last byte written arrives (0: to the leader, 1: to the learner). */
  tail: [number, number];
  /** Leader side registered this connection for the learner's sid (its first packet arrived). */
  registered: boolean;
}

interface LeaderRole {
  kind: 'leader';
  gen: number;
  core: ZabLeader<Txn, SimSnap>;
  stage: LeaderCommit<SimSnap> | null;
  conns: Map<number, ZConn>;
  listening: boolean;
}

interface LearnerRole {
  kind: 'learner';
  gen: number;
  type: 'follower' | 'observer';
  leaderSid: number;
  core: ZabLearner<Txn, SimSnap> | null;
  stage: FollowerCommit<SimSnap> | null;
  conn: ZConn | null;
}

class Member {
  alive = false;
  inc = 0;
  runtime!: Runtime;
  fle!: FastLeaderElection;
  electionTimer: TimerHandle | null = null;
  delivered = false;
  db!: ZkDatabase;
  watches!: WatchManager;
  tracker!: SessionTracker;
  log!: SimTxnLog;
  /** One per process, as ZkServer has (each role's pipeline reports to it). */
  stats!: ServerStats;
  epochs = { acceptedEpoch: 0, currentEpoch: 0 };
  state: ServerState = 'LOOKING';
  generation = 0;
  roleStarted = 0;
  role: LeaderRole | LearnerRole | null = null;
  pipeline: RequestPipeline | null = null;
  serving = false;
  roleTimer: TimerHandle | null = null;
  channels = new Set<SimChannel>();
  /** Checker: zxids this member's database holds, and the last one applied. */
  applied = new Set<number>();
  lastApplied = -1;
  /** When this member last established itself as leader. */
  establishedAt = 0;
  readonly disk: Disk = { log: new SimDisk(), snap: null, acceptedEpoch: 0, currentEpoch: 0 };
  constructor(readonly sid: number, readonly type: 'participant' | 'observer') {}
}

interface Pending {
  xid: number;
  type: number;
  path: string;
  invokedAt: number;
  member: number;
}

interface WriteRecord {
  session: bigint;
  xid: number;
  type: number;
  path: string;
  zxid: number;
  err: number;
  invokedAt: number;
  ackedAt: number;
  body: unknown;
}

interface ReadRecord {
  session: bigint;
  client: number;
  member: number;
  type: number;
  path: string;
  zxid: number;
  err: number;
  body: unknown;
  invokedAt: number;
}

interface SyncRecord {
  session: bigint;
  member: number;
  zxid: number;
  invokedAt: number;
}

class SimChannel implements ClientChannel {
  readonly identities: Identity[] = [{ scheme: 'ip', id: '127.0.0.1' }];
  closed = false;
  readonly remoteAddress = '127.0.0.1';
  inflight = 0;
  sessionId = 0n;
  constructor(readonly sim: EnsembleSimulation, readonly client: SimClient, readonly member: Member) {}
  reply<T>(xid: number, zxid: number, err: number, _codec?: Codec<T>, body?: T): number {
    if (!this.closed) this.sim.onReply(this, xid, zxid, err, body as unknown);
    return 0;
  }
  notify(): void {}
  canRead(): boolean {
    return true;
  }
  noteResponse(): void {}
  pauseReading(): void {}
  resumeReading(): void {}
  close(): void {
    this.closed = true;
  }
  closeAfterFlush(): void {
    this.closed = true;
  }
}

class SimClient {
  channel: SimChannel | null = null;
  sessionId = 0n;
  connecting = false;
  nextXid = 1;
  /** Highest zxid this client has seen (ConnectRequest.lastZxidSeen). */
  lastZxid = 0;
  readonly pending: Pending[] = [];
  constructor(readonly id: number) {}
}

const hex = (z: number | bigint) => '0x' + z.toString(16);

/** A learner that cannot roll back to a TRUNC point: it has dropped its state and must rejoin. */
class ResyncNeeded extends Error {}

export class EnsembleSimulation {
  readonly sched = new SimScheduler(START);
  readonly random: () => number;
  readonly trace: string[] = [];
  readonly violations: string[] = [];
  private readonly members = new Map<number, Member>();
  private readonly voterIds: number[];
  private readonly verifier: QuorumMaj;
  private readonly clients: SimClient[] = [];
  private incSeq = 0;
  private connSeq = 0;
  private opsLeft: number;
  private chaos = true;
  /** Partition: members on different sides cannot talk; empty = no partition. */
  private side = new Map<number, number>();
  /** Election links: per ordered pair, when the last message arrives (FIFO). */
  private readonly linkTail = new Map<string, number>();

  // ---- ground truth for the checks
  private readonly leaders = new Map<number, number>();
  private readonly txnAt = new Map<number, { fp: string; txn: Txn }>();
  private readonly digestAt = new Map<number, { digest: bigint; sid: number }>();
  private readonly writes: WriteRecord[] = [];
  private readonly reads: ReadRecord[] = [];
  private readonly syncs: SyncRecord[] = [];
  private readonly sessionLast = new Map<bigint, number>();
  /** When each session's client last got a reply: a session in use must not expire. */
  private readonly activeAt = new Map<bigint, number>();
  private readonly expired = new Set<bigint>();
  private crashes = 0;
  private partitions = 0;
  private breaks = 0;
  private moves = 0;
  private expiries = 0;
  private readonly syncModes: Record<string, number> = {};

  constructor(readonly seed: number, readonly opts: EnsembleSimOptions) {
    this.random = seededRandom(seed);
    this.opsLeft = opts.ops;
    const n = opts.voters + opts.observers;
    for (let sid = 1; sid <= n; sid++) this.members.set(sid, new Member(sid, sid <= opts.voters ? 'participant' : 'observer'));
    this.voterIds = [...this.members.values()].filter((m) => m.type === 'participant').map((m) => m.sid);
    this.verifier = new QuorumMaj(this.voterIds.map(BigInt));
    for (let i = 0; i < opts.clients; i++) this.clients.push(new SimClient(i));
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }
  private rint(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }
  private note(s: string): void {
    this.trace.push(`${this.sched.now() - START} ${s}`);
  }
  private violation(s: string): void {
    this.note(`VIOLATION ${s}`);
    this.violations.push(`${this.sched.now() - START}ms: ${s}`);
  }
  private reachable(a: number, b: number): boolean {
    if (a === b) return true;
    const ma = this.members.get(a)!;
    const mb = this.members.get(b)!;
    if (!ma.alive || !mb.alive) return false;
    return (this.side.get(a) ?? 0) === (this.side.get(b) ?? 0);
  }
  private delay(): number {
    return this.chaos ? this.rint(1, 40) : this.rint(1, 10);
  }
  /** Runs fn later on behalf of member incarnation `inc` (dropped if that incarnation died). */
  private at(m: Member, ms: number, fn: () => void): void {
    const inc = m.inc;
    this.sched.schedule(ms, () => {
      if (m.alive && m.inc === inc) fn();
    }, inc);
  }

  // ================================================================== storage (recovery, snapshots)

  private copyDb(db: ZkDatabase): SnapshotBody {
    return readSnapshotBody(new Reader(Buffer.concat(serializeSnapshotSync(db, { form: 'body' }).chunks)));
  }

  private treeFrom(snap: SimSnap | null): ZkDatabase {
    if (!snap) return new ZkDatabase(new DataTree());
    const db = new ZkDatabase(DataTree.fromSnapshot(snap.body.acls, snap.body.nodes));
    db.lastProcessedZxid = snap.zxid;
    for (const [id, t] of snap.body.sessions) db.sessions.set(id, t);
    return db;
  }

  /** Loads the snapshot and replays the synced log after it into m.db (recovery, TRUNC reload). */
  private loadFromDisk(m: Member, upTo = Infinity): void {
    const snap = m.disk.snap;
    const fresh = this.treeFrom(snap);
    m.db.tree = fresh.tree;
    m.db.sessions.clear();
    for (const [id, t] of fresh.sessions) m.db.sessions.set(id, t);
    m.db.committedLog.clear();
    m.applied = new Set(snap?.zxids ?? []);
    m.lastApplied = snap ? snap.zxid : -1;
    for (const txn of m.disk.log.synced) {
      if (txn.hdr.zxid <= m.db.lastProcessedZxid || txn.hdr.zxid > upTo) continue;
      this.applyOutside(m, txn, 'replay');
    }
  }

  // ================================================================== member lifecycle

  private boot(m: Member): void {
    m.inc = ++this.incSeq;
    m.alive = true;
    m.runtime = this.sched.runtime(m.inc, this.random);
    m.fle = new FastLeaderElection({ myId: BigInt(m.sid), learnerType: m.type, verifier: this.verifier });
    m.electionTimer = null;
    m.db = new ZkDatabase(new DataTree());
    m.watches = new WatchManager();
    m.stats = new ServerStats();
    this.loadFromDisk(m);
    m.tracker = new SessionTracker(TICK_MS, this.sched.now());
    for (const [id, t] of m.db.sessions) m.tracker.add(id, t, this.sched.now());
    // Some incarnations get a slow disk: acks then trail proposals by tens of ms, which widens the
    // window in which a crash loses what was logged but not yet synced.
    m.log = new SimTxnLog(m.disk.log, this.sched, this.random, m.inc, this.chance(0.3) ? 60 : 4);
    m.epochs = { acceptedEpoch: m.disk.acceptedEpoch, currentEpoch: m.disk.currentEpoch };
    m.role = null;
    m.pipeline = null;
    m.serving = false;
    m.roleTimer = null;
    this.note(`s${m.sid} boots #${m.inc} at ${hex(m.db.lastProcessedZxid)} epochs ${m.epochs.acceptedEpoch}/${m.epochs.currentEpoch}`);
    this.look(m);
  }

  private crash(m: Member): void {
    if (!m.alive) return;
    this.crashes++;
    m.alive = false;
    m.log.crash();
    this.sched.kill(m.inc);
    this.note(`s${m.sid} CRASH (${m.disk.log.synced.length} txns durable)`);
    this.closeClients(m);
    m.pipeline = null;
    m.serving = false;
    const r = m.role;
    m.role = null;
    if (r?.kind === 'leader') for (const c of r.conns.values()) this.breakConn(c, 'leader crashed');
    if (r?.kind === 'learner' && r.conn) this.breakConn(r.conn, 'learner crashed');
  }

  private closeClients(m: Member): void {
    for (const ch of m.channels) {
      ch.closed = true;
      if (ch.client.channel === ch) this.dropClient(ch.client);
    }
    m.channels.clear();
  }

  // ================================================================== election (QuorumPeer.look / decided)

  private look(m: Member): void {
    m.state = 'LOOKING';
    m.serving = false;
    this.runElection(m, m.fle.startLooking({ lastLoggedZxid: BigInt(m.db.lastProcessedZxid), currentEpoch: BigInt(m.epochs.currentEpoch) }));
  }

  private runElection(m: Member, outs: ElectionOutput[]): void {
    for (const o of outs) {
      switch (o.type) {
        case 'send':
          this.sendNotification(m, Number(o.to), { ...o.notification, version: 2, configVersion: 0n });
          break;
        case 'setTimer': {
          m.electionTimer?.cancel();
          const token = o.token;
          m.electionTimer = m.runtime.scheduler.after(o.delayMs, () => {
            m.electionTimer = null;
            const d = m.delivered;
            m.delivered = true;
            this.runElection(m, m.fle.timeout(token, d));
          });
          break;
        }
        case 'cancelTimer':
          m.electionTimer?.cancel();
          m.electionTimer = null;
          break;
        case 'connectAll':
          m.delivered = true;
          break;
        case 'decided':
          this.decided(m, o.state, o.vote);
          break;
        default:
          break;
      }
    }
  }

  private sendNotification(from: Member, to: number, n: Notification): void {
    if (to === from.sid) {
      this.at(from, 0, () => this.runElection(from, from.fle.receive(BigInt(to), n)));
      return;
    }
    const key = `${from.sid}>${to}`;
    const arrive = Math.max(this.sched.now() + this.delay(), this.linkTail.get(key) ?? 0);
    this.linkTail.set(key, arrive);
    const lost = this.chaos && this.chance(this.opts.breakRate * 5);
    const dup = this.chaos && this.chance(this.opts.breakRate * 5);
    this.sched.schedule(arrive - this.sched.now(), () => {
      if (lost || !this.reachable(from.sid, to)) return;
      const m = this.members.get(to)!;
      this.runElection(m, m.fle.receive(BigInt(from.sid), n));
      if (dup && m.alive) this.runElection(m, m.fle.receive(BigInt(from.sid), n));
    });
  }

  private decided(m: Member, state: ServerState, vote: Vote): void {
    m.state = state;
    const gen = ++m.generation;
    m.roleStarted = this.sched.now();
    this.note(`s${m.sid} ${state} leader ${vote.leader} (zxid ${hex(vote.zxid)}, peerEpoch ${vote.peerEpoch})`);
    const run = state === 'LEADING' ? this.lead(m, gen) : this.follow(m, gen, Number(vote.leader), state === 'OBSERVING' ? 'observer' : 'follower');
    run.catch((e: Error) => this.roleEnded(m, gen, e.message));
  }

  /** QuorumPeer.roleEnded: drop the role, fast-forward the log into the tree, elect again. */
  private roleEnded(m: Member, gen: number, reason: string): void {
    if (!m.alive || gen !== m.generation) return;
    m.generation++;
    const inc = m.inc;
    this.note(`s${m.sid} ${m.state} ended: ${reason}`);
    let pause = this.sched.now() - m.roleStarted < 1000 ? TICK_MS : 0;
    if (m.state === 'OBSERVING') pause = Math.max(pause, 200);
    void this.endRole(m).then(async () => {
      if (!m.alive || m.inc !== inc) return;
      await this.fastForward(m);
      if (pause > 0) await new Promise<void>((r) => m.runtime.scheduler.after(pause, r));
      if (!m.alive || m.inc !== inc) return;
      m.fle.becomeLooking();
      this.look(m);
    }).catch((e: Error) => this.violation(`s${m.sid}: going back to LOOKING failed: ${e.message}`));
  }

  private async endRole(m: Member): Promise<void> {
    m.roleTimer?.cancel();
    m.roleTimer = null;
    const r = m.role;
    m.role = null;
    if (r?.kind === 'leader') {
      r.listening = false;
      for (const c of [...r.conns.values()]) this.closeConn(m, c, 'leader stopping');
    } else if (r?.kind === 'learner' && r.conn) {
      this.closeConn(m, r.conn, 'role ended');
    }
    await this.switchRole(m, null);
  }

  /** ZkServer.switchRole: clients go, the old pipeline drains, a new one (or none) serves. */
  private async switchRole(m: Member, make: ((p: Member) => RequestPipeline) | null): Promise<RequestPipeline | null> {
    const old = m.pipeline;
    m.serving = false;
    this.closeClients(m);
    m.pipeline = null;
    if (old) await old.stop();
    if (!make) return null;
    m.pipeline = make(m);
    return m.pipeline;
  }

  private async fastForward(m: Member): Promise<void> {
    for await (const txn of m.log.readTxnsAfter(m.db.lastProcessedZxid)) {
      if (txn.hdr.zxid <= m.db.lastProcessedZxid) continue;
      this.applyOutside(m, txn, 'fastForward');
    }
  }

  private enterEpoch(m: Member, epoch: number): void {
    const start = Number(makeZxid(epoch, 0));
    if (m.db.lastProcessedZxid < start) m.db.lastProcessedZxid = start;
  }

  private epochStore(m: Member) {
    const write = (which: 'acceptedEpoch' | 'currentEpoch', e: number) =>
      new Promise<void>((resolve) => {
        this.at(m, this.rint(1, 4), () => {
          m.disk[which] = e;
          m.epochs[which] = e;
          resolve();
        });
      });
    return {
      setAcceptedEpoch: (e: number) => write('acceptedEpoch', e),
      setCurrentEpoch: (e: number) => write('currentEpoch', e),
    };
  }

  private newPipeline(m: Member, makeCommit: ConstructorParameters<typeof RequestPipeline>[5]): RequestPipeline {
    const settings: PipelineSettings = {
      serverId: m.sid, extendedTypesEnabled: true, skipACL: false, enforceQuota: false, reconfigEnabled: false,
      maxFieldBytes: 1 << 21, globalOutstandingLimit: 1000, containerMaxPerMinute: 100, containerMaxNeverUsedIntervalMs: 0,
    };
    const inc = m.inc;
    return new RequestPipeline(
      m.db, m.watches, m.tracker, m.runtime, settings, makeCommit, m.stats,
      { warn: () => {}, error: (msg) => this.note(`s${m.sid} error: ${msg}`) },
      { afterApply: (_db, txn) => this.noteApplied(m, txn, 'commit') },
      (err) => {
        if (m.inc !== inc) return;
        if (err instanceof ResyncNeeded && m.role) {
          this.note(`s${m.sid}: ${err.message}`);
          this.roleEnded(m, m.role.gen, err.message);
          return;
        }
        this.violation(`s${m.sid} fatal: ${err.message}`);
        this.crash(m);
      },
    );
  }

  // ================================================================== LEADING (QuorumPeer.lead)

  private async lead(m: Member, gen: number): Promise<void> {
    const db = m.db;
    // As QuorumPeer.lead: the core's committed log is a byte window seeded from the database's.
    const window = new TxnProposalWindow(DEFAULT_COMMIT_LOG_COUNT);
    db.committedLog.copyInto(window.ring);
    const core = new ZabLeader<Txn, SimSnap>({
      sid: m.sid,
      voters: this.voterIds,
      observers: [...this.members.values()].filter((x) => x.type === 'observer').map((x) => x.sid),
      acceptedEpoch: m.epochs.acceptedEpoch,
      currentEpoch: m.epochs.currentEpoch,
      lastProcessedZxid: BigInt(db.lastProcessedZxid),
      committedLog: [],
      committedWindow: window,
      commitLogCount: DEFAULT_COMMIT_LOG_COUNT,
      snapshot: () => ({ zxid: m.db.lastProcessedZxid, body: this.copyDb(m.db), zxids: [...m.applied] }),
      initLimit: INIT_LIMIT,
      syncLimit: SYNC_LIMIT,
    });
    const role: LeaderRole = { kind: 'leader', gen, core, stage: null, conns: new Map(), listening: false };
    m.role = role;
    role.listening = true;
    let pipeline: RequestPipeline | null = null;
    pipeline = await this.switchRole(m, (mm) => this.newPipeline(mm, leaderCommit<SimSnap>(
      core, m.log, m.runtime,
      {
        send: (to, msg) => {
          const c = role.conns.get(to);
          if (c) this.transmit(m, c, msg);
        },
        disconnect: (sid, reason) => {
          const c = role.conns.get(sid);
          if (c) this.closeConn(m, c, reason);
        },
      },
      this.epochStore(m),
      {
        established: (epoch) => {
          if (gen !== m.generation || !m.alive) return;
          pipeline!.startEpoch(Number(core.nextZxid()));
          this.enterEpoch(m, epoch);
          m.fle.updateElectionVote(BigInt(epoch));
          restartSessionClocks(m.tracker, m.db, this.sched.now());
          m.serving = true;
          this.onEstablished(m, epoch, m.applied);
        },
        stepDown: (reason) => this.roleEnded(m, gen, reason),
        touchSessions: (_sid, sessions) => {
          for (const s of sessions) m.tracker.touch(s.sessionId, this.sched.now());
        },
        learnerRequest: (sid, msg) => this.learnerRequest(m, pipeline!, role.stage!, sid, msg),
        syncChosen: (sid, mode, zxid, proposals) => {
          this.syncModes[mode] = (this.syncModes[mode] ?? 0) + 1;
          this.note(`s${m.sid} syncs s${sid} by ${mode} ${hex(zxid)} (${proposals} proposals)`);
        },
      },
      undefined,
      (s) => (role.stage = s),
    )));
    if (gen !== m.generation || !role.stage) return;
    const st = role.stage;
    st.start();
    m.roleTimer = m.runtime.scheduler.every(TICK_MS / 2, () => {
      st.tick();
      if (m.serving) pipeline!.tick(this.sched.now());
    });
  }

  private learnerRequest(m: Member, pipeline: RequestPipeline, stage: LeaderCommit<SimSnap>, sid: number, msg: PeerMessage): void {
    if (msg.type !== 'REQUEST') return;
    if (msg.opType === OpCode.sync) {
      stage.syncRequested(sid);
      return;
    }
    try {
      pipeline.submitForwarded({
        sessionId: msg.sessionId, cxid: msg.cxid, type: msg.opType, body: Buffer.from(msg.body),
        authinfo: (msg.authinfo ?? []).map((a) => ({ scheme: a.scheme, id: a.id })),
      });
    } catch (e) {
      this.note(`s${m.sid}: dropping a malformed forwarded request from ${sid}: ${(e as Error).message}`);
    }
  }

  // ================================================================== FOLLOWING (QuorumPeer.follow)

  private async follow(m: Member, gen: number, leaderSid: number, type: 'follower' | 'observer'): Promise<void> {
    const role: LearnerRole = { kind: 'learner', gen, type, leaderSid, core: null, stage: null, conn: null };
    m.role = role;
    const conn = await this.dialLeader(m, leaderSid, this.sched.now() + INIT_LIMIT * TICK_MS);
    if (gen !== m.generation || !m.alive) {
      this.breakConn(conn, 'stale dial');
      return;
    }
    role.conn = conn;
    const db = m.db;
    const lastLogged = await m.log.getLastLoggedZxid();
    if (gen !== m.generation || !m.alive) return;
    const core = new ZabLearner<Txn, SimSnap>({
      sid: m.sid, type,
      acceptedEpoch: m.epochs.acceptedEpoch, currentEpoch: m.epochs.currentEpoch,
      lastLoggedZxid: BigInt(Math.max(db.lastProcessedZxid, lastLogged)),
      initLimit: INIT_LIMIT, syncLimit: SYNC_LIMIT,
    });
    role.core = core;
    const storage = {
      ...this.epochStore(m),
      truncate: async (zxid: bigint) => {
        // The txn log is cut, then the tree reloaded from what is left on disk if it held more.
        const snap = m.disk.snap;
        if (snap && snap.zxid > Number(zxid)) {
          // The snapshot holds txns the leader never had (an observer's, or one written at a
          // NEWLEADER whose epoch never established) and nothing older is on disk to roll back to:
          // this member drops its state and rejoins empty, to be sent the leader's whole state.
          m.disk.snap = null;
          m.disk.log.synced.length = 0;
          this.loadFromDisk(m);
          throw new ResyncNeeded(`TRUNC to ${hex(zxid)} below the snapshot at ${hex(snap.zxid)}: state dropped`);
        }
        await m.log.truncate(Number(zxid));
        if ([...m.applied].some((z) => z > Number(zxid))) this.loadFromDisk(m, Number(zxid));
        if (db.lastProcessedZxid > Number(zxid)) db.lastProcessedZxid = Number(zxid);
        this.note(`s${m.sid} TRUNC to ${hex(zxid)}`);
      },
      loadSnapshot: (zxid: bigint, snap: SimSnap) => {
        db.tree = DataTree.fromSnapshot(snap.body.acls, snap.body.nodes);
        db.lastProcessedZxid = Number(zxid);
        db.committedLog.clear();
        db.sessions.clear();
        for (const [id, timeout] of snap.body.sessions) db.sessions.set(id, timeout);
        m.applied = new Set(snap.zxids);
        m.lastApplied = Number(zxid);
        this.noteDigest(m, Number(zxid));
        this.note(`s${m.sid} SNAP at ${hex(zxid)}`);
      },
      takeSnapshot: () => {
        const snap: SimSnap = { zxid: db.lastProcessedZxid, body: this.copyDb(db), zxids: [...m.applied] };
        return new Promise<void>((resolve) => this.at(m, this.rint(1, 5), () => {
          m.disk.snap = snap;
          resolve();
        }));
      },
    };
    const pipeline = await this.switchRole(m, (mm) => this.newPipeline(mm, followerCommit<SimSnap>(
      core, m.log, m.runtime,
      {
        send: (_to, msg) => {
          if (role.conn) this.transmit(m, role.conn, msg);
        },
        disconnect: (_sid, reason) => {
          if (role.conn) this.closeConn(m, role.conn, reason);
        },
      },
      leaderSid, storage,
      {
        serving: (epoch) => {
          if (gen !== m.generation || !m.alive) return;
          m.fle.updateElectionVote(BigInt(epoch));
          this.enterEpoch(m, epoch);
          m.serving = true;
          this.note(`s${m.sid} serving as ${type} of s${leaderSid} in epoch ${epoch} at ${hex(m.db.lastProcessedZxid)}`);
        },
        leaderLost: (reason) => this.roleEnded(m, gen, reason),
        leaderReply: (msg) => {
          if (msg.type === 'SYNC') pipeline?.syncAnswered();
        },
      },
      undefined,
      (s) => (role.stage = s),
    )));
    if (gen !== m.generation || !role.stage || !pipeline) {
      if (role.conn) this.closeConn(m, role.conn, 'stale role');
      return;
    }
    const st = role.stage;
    pipeline.sessionClosed = (id) => {
      for (const ch of m.channels) if (ch.sessionId === id) ch.closed = true;
    };
    pipeline.forwarder = (req) =>
      st.forward({ type: 'REQUEST', zxid: -1n, sessionId: req.sessionId, cxid: req.cxid, opType: req.type, body: req.body, authinfo: req.authinfo });
    if (role.conn.broken) {
      // The connection died while the pipeline was being built: the learner notices at once.
      st.disconnected();
      this.roleEnded(m, gen, 'connection to the leader lost before the handshake');
      return;
    }
    st.start();
    m.roleTimer = m.runtime.scheduler.every(TICK_MS / 2, () => {
      for (const ch of m.channels) {
        const t = m.db.sessions.get(ch.sessionId);
        if (t !== undefined && !ch.closed) core.touchSession(ch.sessionId, t);
      }
      st.tick();
    });
  }

  /** dialLeader: retried every 200 ms until the deadline; connects only to a listening leader. */
  private dialLeader(m: Member, leaderSid: number, deadline: number): Promise<ZConn> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        this.at(m, this.delay(), () => {
          const l = this.members.get(leaderSid)!;
          const r = l.role;
          if (this.reachable(m.sid, leaderSid) && r?.kind === 'leader' && r.listening) {
            const c: ZConn = {
              id: ++this.connSeq, learner: m.sid, leader: leaderSid, learnerInc: m.inc, leaderInc: l.inc,
              broken: false, tail: [0, 0], registered: false,
            };
            resolve(c);
            return;
          }
          if (this.sched.now() + 200 > deadline) reject(new Error(`cannot connect to the leader s${leaderSid}`));
          else this.at(m, 200, attempt);
        });
      };
      attempt();
    });
  }

  // ================================================================== Zab connections

  private endsAlive(c: ZConn): boolean {
    const a = this.members.get(c.learner)!;
    const b = this.members.get(c.leader)!;
    return a.alive && a.inc === c.learnerInc && b.alive && b.inc === c.leaderInc;
  }

  /** Writes `msg` on `c` from `from`: it arrives after everything written before it, or the connection breaks. */
  private transmit(from: Member, c: ZConn, msg: PeerMessage): void {
    if (c.broken) return;
    const toLeader = from.sid === c.learner;
    const dir = toLeader ? 0 : 1;
    if (this.chaos && this.chance(this.opts.breakRate)) {
      this.breaks++;
      this.breakConn(c, `lost ${msg.type}`);
      return;
    }
    // The wire carries txns as bytes: each side gets its own decoded copy.
    const wire = msg.type === 'SNAP' ? msg : (fromWire(toWire(msg as ZabMessage<Txn, SnapshotBody>) as never) as PeerMessage);
    const arrive = Math.max(this.sched.now() + this.delay(), c.tail[dir]);
    c.tail[dir] = arrive;
    this.sched.schedule(arrive - this.sched.now(), () => {
      if (c.broken) return;
      if (!this.endsAlive(c) || !this.reachable(c.learner, c.leader)) {
        this.breakConn(c, 'peer unreachable');
        return;
      }
      if (toLeader) this.leaderReceives(c, wire);
      else this.learnerReceives(c, wire);
    });
  }

  private leaderReceives(c: ZConn, msg: PeerMessage): void {
    const l = this.members.get(c.leader)!;
    const r = l.role;
    if (r?.kind !== 'leader' || !r.listening) {
      this.breakConn(c, 'leader not listening');
      return;
    }
    if (!c.registered) {
      if (msg.type !== 'FOLLOWERINFO' && msg.type !== 'OBSERVERINFO') {
        this.closeConn(l, c, `first packet ${msg.type}`);
        return;
      }
      c.registered = true;
      // A learner that reconnects replaces its old connection (LeaderListener).
      const old = r.conns.get(c.learner);
      if (old && old !== c) this.closeConn(l, old, 'replaced by a new connection');
      r.conns.set(c.learner, c);
    }
    if (r.conns.get(c.learner) !== c) return;
    r.stage?.receive(c.learner, msg);
  }

  private learnerReceives(c: ZConn, msg: PeerMessage): void {
    const m = this.members.get(c.learner)!;
    const r = m.role;
    if (r?.kind !== 'learner' || r.conn !== c || !r.stage) return;
    r.stage.receive(msg);
  }

  /** One side closes: it knows now, the other side learns after a delay. */
  private closeConn(by: Member, c: ZConn, reason: string): void {
    if (c.broken) return;
    c.broken = true;
    this.onConnClosed(by.sid, c, reason);
    const other = by.sid === c.learner ? c.leader : c.learner;
    this.sched.schedule(this.delay(), () => this.onConnClosed(other, c, reason));
  }

  /** The network broke it: both ends learn after a delay. */
  private breakConn(c: ZConn, reason: string): void {
    if (c.broken) return;
    c.broken = true;
    this.note(`conn s${c.learner}-s${c.leader} breaks: ${reason}`);
    for (const sid of [c.learner, c.leader]) this.sched.schedule(this.delay(), () => this.onConnClosed(sid, c, reason));
  }

  private onConnClosed(sid: number, c: ZConn, reason: string): void {
    const m = this.members.get(sid)!;
    if (!m.alive || m.inc !== (sid === c.learner ? c.learnerInc : c.leaderInc)) return;
    const r = m.role;
    if (sid === c.leader) {
      if (r?.kind === 'leader' && r.conns.get(c.learner) === c) {
        r.conns.delete(c.learner);
        r.stage?.disconnected(c.learner);
      }
    } else if (r?.kind === 'learner' && r.conn === c && r.stage) {
      r.stage.disconnected();
      this.roleEnded(m, r.gen, `connection to the leader lost: ${reason}`);
    }
  }

  // ================================================================== checks on the replicas

  /** A txn applied outside the pipeline (recovery, fast-forward): a failure is a divergence. */
  private applyOutside(m: Member, txn: Txn, how: string): void {
    try {
      m.db.applyTxn(txn);
    } catch (e) {
      this.violation(`s${m.sid} ${how} of ${hex(txn.hdr.zxid)} failed: ${(e as Error).message}`);
      return;
    }
    this.noteApplied(m, txn, how);
  }

  private noteApplied(m: Member, txn: Txn, how: string): void {
    const z = txn.hdr.zxid;
    if (z <= m.lastApplied) this.violation(`s${m.sid} applied ${hex(z)} (${how}) after ${hex(m.lastApplied)}`);
    m.lastApplied = z;
    m.applied.add(z);
    const fp = encodeTxn(txn).toString('base64');
    const known = this.txnAt.get(z);
    if (!known && txn.body.type === OpCode.closeSession) {
      this.expiries++;
      this.note(`session ${hex(txn.hdr.clientId)} expires at ${hex(z)}`);
      // Clients here never close their sessions: this is an expiry. A session whose client got an
      // answer within the last half timeout was kept alive (through any leader change: a new
      // leader starts every session's clock afresh), so expiring it is a bug.
      this.expired.add(txn.hdr.clientId);
      if (m.role?.kind === 'leader' && how === 'commit') {
        const since = this.sched.now() - m.establishedAt;
        if (since < SESSION_TIMEOUT_MS - 2 * TICK_MS) this.violation(`session ${hex(txn.hdr.clientId)} expired ${since} ms after s${m.sid} became leader (timeout ${SESSION_TIMEOUT_MS})`);
      }
      const at = this.activeAt.get(txn.hdr.clientId);
      if (at !== undefined && this.sched.now() - at < SESSION_TIMEOUT_MS / 2) {
        this.violation(`session ${hex(txn.hdr.clientId)} expired at ${hex(z)} although its client was answered ${this.sched.now() - at} ms ago`);
      }
    }
    if (!known) this.txnAt.set(z, { fp, txn });
    else if (known.fp !== fp) this.violation(`s${m.sid} applied a different txn at ${hex(z)} (${how})`);
    this.noteDigest(m, z);
  }

  private noteDigest(m: Member, z: number): void {
    const d = m.db.tree.treeDigest();
    const known = this.digestAt.get(z);
    if (!known) this.digestAt.set(z, { digest: d, sid: m.sid });
    else if (known.digest !== d) this.violation(`s${m.sid} digest at ${hex(z)} is ${d.toString(16)}, s${known.sid} had ${known.digest.toString(16)}`);
  }

  private onEstablished(m: Member, epoch: number, history: Set<number>): void {
    m.establishedAt = this.sched.now();
    this.note(`s${m.sid} ESTABLISHED epoch ${epoch} at ${hex(m.db.lastProcessedZxid)}`);
    const other = this.leaders.get(epoch);
    if (other !== undefined && other !== m.sid) this.violation(`two leaders established epoch ${epoch}: s${other} and s${m.sid}`);
    this.leaders.set(epoch, m.sid);
    for (const w of this.writes) {
      if (!history.has(w.zxid)) this.violation(`leader s${m.sid} of epoch ${epoch} lacks ${hex(w.zxid)}, acknowledged at ${w.ackedAt - START}`);
    }
  }

  // ================================================================== clients

  private dropClient(c: SimClient): void {
    if (c.channel) c.channel.closed = true;
    c.channel = null;
    c.connecting = false;
    c.pending.length = 0;
  }

  private clientStep(c: SimClient): void {
    if (this.opsLeft <= 0) return;
    if (!c.channel) return this.connect(c);
    if (c.channel.closed) return this.dropClient(c);
    if (c.connecting) return;
    if (this.chance(0.04)) {
      this.moves++;
      this.note(`c${c.id} moves away from s${c.channel.member.sid}`);
      c.channel.member.channels.delete(c.channel);
      return this.dropClient(c);
    }
    if (this.chance(0.01)) {
      // The client walks away from its session (a process that died): it must expire, and its
      // ephemerals go with it.
      this.note(`c${c.id} abandons ${hex(c.sessionId)}`);
      c.channel.member.channels.delete(c.channel);
      this.dropClient(c);
      c.sessionId = 0n;
      return;
    }
    if (c.pending.length >= 3) return;
    this.opsLeft--;
    this.issue(c, c.channel);
  }

  private connect(c: SimClient): void {
    const m = this.pick([...this.members.values()]);
    if (!m.alive || !m.serving || !m.pipeline) return;
    // ConnectRequest.lastZxidSeen: a server behind what the client saw refuses it (ClientFront).
    if (c.lastZxid > m.db.lastProcessedZxid) return;
    const p = m.pipeline;
    const ch = new SimChannel(this, c, m);
    m.channels.add(ch);
    c.channel = ch;
    if (c.sessionId !== 0n) {
      if (!m.db.sessions.has(c.sessionId)) {
        if (!this.expired.has(c.sessionId)) {
          // Not applied here yet (Apache's follower would ask the leader): try elsewhere.
          m.channels.delete(ch);
          c.channel = null;
          return;
        }
        this.note(`c${c.id}: session ${hex(c.sessionId)} expired; starting over`);
        c.sessionId = 0n;
      } else {
        ch.sessionId = c.sessionId;
        m.tracker.touch(c.sessionId, this.sched.now());
        this.note(`c${c.id} resumes ${hex(c.sessionId)} at s${m.sid}`);
        return;
      }
    }
    c.connecting = true;
    p.createSession(ch, SESSION_TIMEOUT_MS, (id) => {
      if (c.channel !== ch || ch.closed) return;
      c.connecting = false;
      if (id === null) return this.dropClient(c);
      ch.sessionId = id;
      c.sessionId = id;
      this.note(`c${c.id} new session ${hex(id)} at s${m.sid}`);
    });
  }

  private issue(c: SimClient, ch: SimChannel): void {
    const m = ch.member;
    const path = this.pick(PATHS);
    const roll = this.random();
    const w = new Writer(64);
    let type: number;
    let reqPath = path;
    if (roll < 0.25) {
      type = OpCode.create;
      const mode = this.pick([CreateMode.PERSISTENT, CreateMode.PERSISTENT, CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL]);
      if (mode === CreateMode.PERSISTENT_SEQUENTIAL) reqPath = `${path === ROOT ? ROOT + '/a' : path}/q-`;
      R.CreateRequest.write(w, { path: reqPath, data: Buffer.from(`c${c.id}`), acl: OPEN, flags: mode });
    } else if (roll < 0.42) {
      type = OpCode.setData;
      R.SetDataRequest.write(w, { path, data: Buffer.from(`v${this.random().toString(36).slice(2, 6)}`), version: -1 });
    } else if (roll < 0.5) {
      type = OpCode.delete;
      R.DeleteRequest.write(w, { path, version: -1 });
    } else if (roll < 0.75) {
      type = OpCode.getData;
      R.GetDataRequest.write(w, { path, watch: false });
    } else if (roll < 0.88) {
      type = OpCode.exists;
      R.ExistsRequest.write(w, { path, watch: false });
    } else {
      type = OpCode.sync;
      R.SyncRequest.write(w, { path });
    }
    const xid = c.nextXid++;
    c.pending.push({ xid, type, path: reqPath, invokedAt: this.sched.now(), member: m.sid });
    if (m.role?.kind === 'leader') m.tracker.touch(ch.sessionId, this.sched.now());
    const ok = m.pipeline!.submit(ch, xid, type, w.toBuffer());
    if (!ok) this.violation(`opcode ${type} refused`);
  }

  onReply(ch: SimChannel, xid: number, zxid: number, err: number, body: unknown): void {
    const c = ch.client;
    if (c.channel !== ch) return;
    const who = `c${c.id} (${hex(ch.sessionId)}) at s${ch.member.sid}`;
    const req = c.pending.shift();
    if (!req || req.xid !== xid) {
      this.violation(`${who}: reply xid ${xid} but the oldest request outstanding is ${req?.xid}`);
      return;
    }
    if (err === Err.ConnectionLoss) {
      // Not sent: the member lost its leader. The client drops the connection and tries elsewhere.
      this.dropClient(c);
      return;
    }
    this.activeAt.set(ch.sessionId, this.sched.now());
    const last = this.sessionLast.get(ch.sessionId) ?? 0;
    if (zxid < last) this.violation(`${who}: reply zxid ${hex(zxid)} after ${hex(last)} in the same session`);
    this.sessionLast.set(ch.sessionId, Math.max(last, zxid));
    c.lastZxid = Math.max(c.lastZxid, zxid);
    const now = this.sched.now();
    switch (req.type) {
      case OpCode.create:
      case OpCode.setData:
      case OpCode.delete:
        this.writes.push({ session: ch.sessionId, xid, type: req.type, path: req.path, zxid, err, invokedAt: req.invokedAt, ackedAt: now, body });
        return;
      case OpCode.getData:
      case OpCode.exists:
        this.reads.push({ session: ch.sessionId, client: c.id, member: ch.member.sid, type: req.type, path: req.path, zxid, err, body, invokedAt: req.invokedAt });
        return;
      case OpCode.sync:
        if (err !== Err.OK) this.violation(`${who}: sync err ${err}`);
        this.syncs.push({ session: ch.sessionId, member: ch.member.sid, zxid, invokedAt: req.invokedAt });
        return;
    }
  }

  // ================================================================== faults

  private fault(): void {
    if (!this.chaos) return;
    const all = [...this.members.values()];
    const roll = this.random();
    if (roll < 0.4) {
      // One member crashes, or (a power cut) two at the same moment.
      // A power cut of the whole ensemble loses every unsynced write at once: only fsynced
      // acknowledgements keep a committed txn alive through it.
      const live = all.filter((x) => x.alive);
      const victims = this.chance(0.08) ? live : [this.pick(live)];
      if (this.chance(0.3)) victims.push(this.pick(live));
      for (const m of new Set(victims)) {
        if (!m) continue;
        this.crash(m);
        this.sched.schedule(this.rint(50, 2500), () => {
          if (!m.alive) this.boot(m);
        });
      }
    } else if (roll < 0.75 && this.side.size === 0) {
      this.partitions++;
      // Either one member alone, or a random split.
      const lone = this.chance(0.5) ? this.pick(all).sid : -1;
      for (const m of all) this.side.set(m.sid, lone >= 0 ? (m.sid === lone ? 1 : 0) : this.rint(0, 1));
      this.note(`PARTITION ${all.map((m) => `s${m.sid}:${this.side.get(m.sid)}`).join(' ')}`);
      this.sched.schedule(this.rint(200, 3000), () => {
        if (this.side.size > 0) this.note('partition heals');
        this.side.clear();
      });
    }
  }

  private heal(): void {
    this.chaos = false;
    this.side.clear();
    this.note('HEAL: no more faults');
    for (const m of this.members.values()) if (!m.alive) this.sched.schedule(this.rint(1, 200), () => m.alive || this.boot(m));
  }

  /** Everyone alive, one established leader, every member serving it with the leader's history. */
  private quiescent(): Member | null {
    const q = this.notQuiescent();
    return typeof q === 'string' ? null : q;
  }

  /** The final leader, or why the ensemble has not settled. */
  private notQuiescent(): Member | string {
    const ms = [...this.members.values()];
    const idle = ms.find((m) => !m.alive || !m.serving);
    if (idle) return `s${idle.sid} is ${idle.alive ? 'not serving' : 'down'}`;
    const leaders = ms.filter((m) => m.role?.kind === 'leader');
    if (leaders.length !== 1) return `${leaders.length} leaders`;
    const l = leaders[0]!;
    const lr = l.role as LeaderRole;
    if (lr.core.pendingProposals > 0 || (l.pipeline?.outstanding ?? 1) > 0) return `leader s${l.sid} has work outstanding`;
    for (const m of ms) {
      if (m === l) continue;
      const r = m.role;
      if (r?.kind !== 'learner' || r.leaderSid !== l.sid) return `s${m.sid} does not follow s${l.sid}`;
      if (m.db.lastProcessedZxid < l.lastApplied) return `s${m.sid} is at ${hex(m.db.lastProcessedZxid)}, the leader at ${hex(l.lastApplied)}`;
    }
    const c = this.clients.find((x) => x.pending.length > 0 || x.connecting);
    if (c) return `c${c.id} waits for ${c.connecting ? 'its session' : `xid ${c.pending[0]!.xid} (op ${c.pending[0]!.type}) at s${c.pending[0]!.member}`}`;
    return l;
  }

  // ================================================================== the run

  async run(): Promise<EnsembleSimResult> {
    for (const m of this.members.values()) this.sched.schedule(this.rint(0, 50), () => this.boot(m));
    for (const c of this.clients) {
      const loop = () => {
        this.clientStep(c);
        if (this.opsLeft > 0) this.sched.schedule(this.rint(5, 60), loop);
      };
      this.sched.schedule(this.rint(300, 600), loop);
    }
    const faults = () => {
      if (!this.chaos) return;
      this.fault();
      this.sched.schedule(this.rint(this.opts.faultEveryMs / 2, (this.opts.faultEveryMs * 3) / 2), faults);
    };
    this.sched.schedule(this.rint(500, 1500), faults);
    this.sched.schedule(this.opts.chaosMs, () => this.heal());
    const bound = START + this.opts.chaosMs + 120_000;
    let final: Member | null = null;
    while (this.sched.step()) {
      // Every promise continuation runs before the next event, as a process finishes its microtasks
      // before it takes the next I/O event.
      await new Promise<void>((r) => setImmediate(r));
      if (this.violations.length) break;
      if (!this.chaos && this.opsLeft <= 0 && (final = this.quiescent())) break;
      if (this.sched.now() > bound) {
        this.violation(`no quiescent ensemble ${bound - START - this.opts.chaosMs} ms after healing: ${this.notQuiescent() as string}`);
        break;
      }
    }
    if (!this.violations.length && final) this.finalChecks(final);
    const l = final ? final.applied.size : 0;
    return {
      seed: this.seed, options: this.opts, violations: this.violations, trace: this.trace, steps: this.sched.steps,
      acked: this.writes.length, reads: this.reads.length, crashes: this.crashes, partitions: this.partitions, breaks: this.breaks,
      epochs: this.leaders.size, historyLength: l, virtualMs: this.sched.now() - START,
      syncModes: this.syncModes, syncsAnswered: this.syncs.length, moves: this.moves, expiries: this.expiries,
    };
  }

  // ================================================================== the client-history checker

  private finalChecks(leader: Member): void {
    const H = [...leader.applied].sort((a, b) => a - b);
    const pos = new Map(H.map((z, i) => [z, i]));
    for (const m of this.members.values()) {
      const mine = [...m.applied].sort((a, b) => a - b);
      if (mine.length !== H.length) this.violation(`s${m.sid} holds ${mine.length} txns, the leader ${H.length}`);
      const sessions = (db: ZkDatabase) => [...db.sessions.keys()].sort().map((x) => hex(x)).join(',');
      if (sessions(m.db) !== sessions(leader.db)) this.violation(`s${m.sid}'s sessions [${sessions(m.db)}] differ from the leader's [${sessions(leader.db)}]`);
      for (let i = 0; i < mine.length; i++) {
        if (H[i] !== mine[i]) {
          this.violation(`s${m.sid}'s history is not a prefix of the leader's: position ${i} is ${hex(mine[i]!)} vs ${H[i] === undefined ? 'end' : hex(H[i]!)}`);
          break;
        }
      }
    }
    // Replay H through the independent model, keeping each path's state after every txn.
    const model = new Model();
    type PState = { mzxid: number; version: number; data: string } | null;
    const timeline = new Map<string, { zxid: number; st: PState }[]>();
    for (const p of PATHS) timeline.set(p, [{ zxid: 0, st: null }]);
    const snapshotPaths = (z: number) => {
      for (const p of PATHS) {
        const n = model.nodes.get(p);
        const st: PState = n ? { mzxid: n.mzxid, version: n.version, data: n.data.toString('hex') } : null;
        const tl = timeline.get(p)!;
        const prev = tl[tl.length - 1]!.st;
        if (JSON.stringify(prev) !== JSON.stringify(st)) tl.push({ zxid: z, st });
      }
    };
    for (const z of H) {
      const t = this.txnAt.get(z);
      if (!t) {
        this.violation(`no txn known at ${hex(z)}`);
        return;
      }
      model.apply(t.txn);
      snapshotPaths(z);
    }
    for (const v of model.violations) this.violation(`model: ${v}`);
    const stateAt = (p: string, z: number): PState => {
      const tl = timeline.get(p);
      if (!tl) return null;
      let lo = 0;
      let hi = tl.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (tl[mid]!.zxid <= z) lo = mid;
        else hi = mid - 1;
      }
      return tl[lo]!.st;
    };
    // Acknowledged writes: in H, the session's own request, answered as H says.
    for (const w of this.writes) {
      const t = this.txnAt.get(w.zxid);
      const who = `write op${w.type} ${w.path} by ${hex(w.session)} xid ${w.xid}`;
      if (!pos.has(w.zxid) || !t) {
        this.violation(`${who} acknowledged at ${hex(w.zxid)} is not in the final history`);
        continue;
      }
      if (t.txn.hdr.clientId !== w.session || t.txn.hdr.cxid !== w.xid) {
        this.violation(`${who} acknowledged with ${hex(w.zxid)}, which is ${hex(t.txn.hdr.clientId)}'s xid ${t.txn.hdr.cxid}`);
        continue;
      }
      if (w.err === Err.OK) {
        const res = model.results.get(w.zxid);
        if (w.type === OpCode.create && res?.path !== (w.body as { path: string }).path) {
          this.violation(`${who}: reply path ${(w.body as { path: string }).path}, history ${res?.path}`);
        }
        if (w.type === OpCode.setData) {
          const s = (w.body as { stat: R.Stat }).stat;
          if (!res || res.stat.mzxid !== s.mzxid || res.stat.version !== s.version) this.violation(`${who}: reply stat differs from the history`);
        }
      } else if (w.type !== OpCode.create && w.err === Err.NoNode) {
        // A failed write is decided on the state just before its own zxid.
        if (stateAt(w.path, w.zxid - 1)) this.violation(`${who}: NoNode but ${w.path} existed before ${hex(w.zxid)}`);
      } else if (w.type === OpCode.create && w.err === Err.NodeExists && !w.path.endsWith('-')) {
        if (!stateAt(w.path, w.zxid - 1)) this.violation(`${who}: NodeExists but ${w.path} was absent before ${hex(w.zxid)}`);
      }
    }
    // Linearizable writes: acknowledged before another began ⇒ ordered before it.
    const byAck = [...this.writes].sort((a, b) => a.ackedAt - b.ackedAt);
    const byInvoke = [...this.writes].sort((a, b) => a.invokedAt - b.invokedAt);
    let maxAcked = -1;
    let maxAckedW: WriteRecord | null = null;
    let j = 0;
    for (const w of byInvoke) {
      while (j < byAck.length && byAck[j]!.ackedAt < w.invokedAt) {
        if (byAck[j]!.zxid > maxAcked) {
          maxAcked = byAck[j]!.zxid;
          maxAckedW = byAck[j]!;
        }
        j++;
      }
      if (w.zxid <= maxAcked) {
        this.violation(`write ${hex(w.zxid)} began after ${hex(maxAcked)} (xid ${maxAckedW!.xid} of ${hex(maxAckedW!.session)}) was acknowledged but is ordered before it`);
      }
    }
    // Reads: H's state at the reply zxid.
    for (const r of this.reads) {
      const want = stateAt(r.path, r.zxid);
      const who = `c${r.client} read ${r.path} at s${r.member} zxid ${hex(r.zxid)}`;
      if (r.err === Err.NoNode) {
        if (want) this.violation(`${who}: NoNode, but the history has it (mzxid ${hex(want.mzxid)})`);
        continue;
      }
      if (r.err !== Err.OK) {
        this.violation(`${who}: err ${r.err}`);
        continue;
      }
      const stat = (r.body as { stat: R.Stat }).stat;
      if (!want) {
        this.violation(`${who}: found (mzxid ${hex(stat.mzxid)}) but the history has no such node`);
        continue;
      }
      if (stat.mzxid !== want.mzxid || stat.version !== want.version) {
        this.violation(`${who}: mzxid ${hex(stat.mzxid)} v${stat.version}, history mzxid ${hex(want.mzxid)} v${want.version}`);
      }
      if (r.type === OpCode.getData) {
        const data = ((r.body as { data: Buffer | null }).data ?? Buffer.alloc(0)).toString('hex');
        if (data !== want.data) this.violation(`${who}: data differs from the history`);
      }
    }
    // sync: its reply covers every write acknowledged (to anyone) before it began.
    for (const s of this.syncs) {
      let need = -1;
      for (const w of this.writes) if (w.ackedAt < s.invokedAt && w.zxid > need) need = w.zxid;
      if (s.zxid < need) this.violation(`sync by ${hex(s.session)} at s${s.member} answered at ${hex(s.zxid)}, before ${hex(need)} acknowledged earlier`);
    }
  }
}

export async function simulateEnsemble(seed: number, opts: Partial<EnsembleSimOptions> = {}): Promise<EnsembleSimResult> {
  return new EnsembleSimulation(seed, { ...DEFAULT_ENSEMBLE_OPTIONS, ...opts }).run();
}
