// One member of a replicated ensemble (Apache's QuorumPeer): LOOKING runs fast leader election on
// the election port; LEADING runs the Zab leader on the quorum port under a request pipeline whose
// commit stage waits for a quorum of ACKs; FOLLOWING dials the leader and runs a pipeline that
// forwards client writes to it and serves reads locally. Losing the leader (or the quorum) goes
// back to LOOKING. The client port, four-letter words and storage are the ZkServer's.
import type { ServerConfig } from '../config/ServerConfig.js';
import { txnBytes, type Txn } from '../protocol/txn.js';
import { makeZxid, type Proposal } from '../quorum/zab/messages.js';
import { OpCode } from '../protocol/constants.js';
import { nodeRuntime, type Runtime, type TimerHandle } from '../runtime/Runtime.js';
import { loadDatabase, recover, removeSnapshotsAfter } from '../storage/Recovery.js';
import { DEFAULT_SNAPSHOT_SIZE_FACTOR, txnLogSyncBudget } from '../storage/SyncFromLog.js';
import { readSnapshotBody, serializeSnapshotSync, type SnapshotBody } from '../storage/Snapshot.js';
import { Reader } from '../jute/archive.js';
import { DataTree } from '../tree/DataTree.js';
import type { ZkDatabase } from '../tree/ZkDatabase.js';
import { DEFAULT_COMMIT_LOG_COUNT } from '../tree/CommittedLog.js';
import { TxnProposalWindow } from '../protocol/TxnRing.js';
import type { SessionTracker } from '../session/SessionTracker.js';
import { Snapshotter } from '../storage/Snapshotter.js';
import type { TxnLog } from '../storage/TxnLog.js';
import { ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, writeEpochFile } from '../storage/EpochFiles.js';
import type { ServerState, Vote } from '../quorum/election/Vote.js';
import { QuorumHierarchical, QuorumMaj, numericQuorumCheck, type QuorumVerifier } from '../quorum/election/QuorumVerifier.js';
import { ElectionTransport, type PeerAddr } from '../quorum/net/ElectionTransport.js';
import { LeaderListener, QuorumChannel, dialLeader, type PeerMessage } from '../quorum/net/QuorumChannels.js';
import { ZabLeader } from '../quorum/zab/ZabLeader.js';
import { ZabLearner } from '../quorum/zab/ZabLearner.js';
import { leaderCommit, type LeaderCommit } from './pipeline/LeaderCommit.js';
import { followerCommit, type FollowerCommit } from './pipeline/FollowerCommit.js';
import type { RequestPipeline } from './pipeline/RequestPipeline.js';
import { storageDirs, storageSettings } from './StorageSettings.js';
import { ZkServer, type ServerLogger } from './ZkServer.js';
import type { QuorumInfo, ZabState } from './ServerView.js';

export interface PeerLogger extends ServerLogger {
  info(msg: string): void;
}

export interface QuorumPeerOptions {
  logger: PeerLogger;
  runtime?: Runtime;
  onFatal?: (err: Error) => void;
  /** Directory of zookeeper_audit.log when audit.enable=true. */
  auditLogDir?: string;
  /** Storage recovery; defaults to the config's data directories. */
  recover?: typeof recover;
}

/** The identities of a forwarded request without authinfo (shared; never added to). */
const NO_IDS: { scheme: string; id: string }[] = [];

/** Storage's logger over the peer's (storage logs info lines too). */
function storageLogger(l: PeerLogger) {
  return { info: (m: string) => l.info(m), warn: (m: string) => l.warn(m) };
}

/**
 * The ensemble's QuorumVerifier as Apache builds it from zoo.cfg: QuorumHierarchical when there
 * are group.N lines (weight.N defaulting to 1), else QuorumMaj over the participants.
 */
export function quorumVerifier(config: Pick<ServerConfig, 'groups' | 'weights'>, peers: readonly PeerAddr[]): QuorumVerifier {
  const groups = config.groups ?? new Map<number, number[]>();
  if (groups.size === 0) return new QuorumMaj(peers.filter((p) => p.type === 'participant').map((p) => BigInt(p.sid)));
  const weights = new Map([...(config.weights ?? new Map<number, number>())].map(([sid, w]) => [BigInt(sid), BigInt(w)]));
  return new QuorumHierarchical([...groups].map(([id, members]) => ({ id: BigInt(id), members: members.map(BigInt) })), weights);
}

/** The membership text notifications and NEWLEADER carry (Apache's QuorumVerifier.toString). */
export function membershipText(peers: PeerAddr[]): string {
  const lines = peers.map((p) => `server.${p.sid}=${p.host}:${p.quorumPort}:${p.electionPort}:${p.type}`);
  return lines.join('\n') + '\nversion=0';
}

/** A log the role stages share: a role ending must not close the server's one txn log. */
function keepOpen(log: TxnLog): TxnLog {
  return new Proxy(log, {
    get(target, prop, receiver) {
      if (prop === 'close') return async () => {};
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The leader closed (expired) a session whose client is connected here: close that connection. */
export function dropConnection(server: ZkServer, sessionId: bigint): void {
  const conn = server.sessionConns.get(sessionId);
  if (!conn) return;
  server.sessionConns.delete(sessionId);
  conn.close();
}

/**
 * A leader just established: its session tracker starts from the sessions the database holds, each
 * with a full timeout from `now` (as Apache's LeaderSessionTracker). As a follower this member never
 * saw the touches of other members' clients, whose old deadlines would expire them all at the first
 * tick, and it may still track sessions whose creation a TRUNC or SNAP took away.
 */
export function restartSessionClocks(tracker: SessionTracker, db: ZkDatabase, now: number): void {
  for (const id of [...tracker.sessions.keys()]) if (!db.sessions.has(id)) tracker.remove(id);
  for (const [id, timeout] of db.sessions) tracker.add(id, timeout, now);
}

export class QuorumPeer {
  readonly server: ZkServer;
  readonly myId: number;
  private readonly peers: PeerAddr[];
  private readonly logger: PeerLogger;
  private readonly runtime: Runtime;
  private election!: ElectionTransport;
  private epochs = { acceptedEpoch: 0, currentEpoch: 0 };
  private snapDir = '';
  /** Bumped whenever a role ends, so callbacks of an older role do nothing. */
  private generation = 0;
  private lookingSince = 0;
  private roleStarted = 0;
  private roleTimer: TimerHandle | null = null;
  private listener: LeaderListener | null = null;
  private channel: QuorumChannel | null = null;
  private stopped = false;
  /** Measured: how long the last election took (ms), and how many elections ended. */
  lastElectionMs = -1;
  elections = 0;
  state: ServerState = 'LOOKING';
  private readonly initLimit: number;
  private readonly syncLimit: number;
  /** The elected leader while a role runs; null while LOOKING (Apache's getLeaderId is -1 then). */
  private leaderSid: number | null = null;
  /** Reads the current role's Zab phase (and a leader's observers) for the admin commands. */
  private zabState: () => ZabState = () => 'election';
  private observersNow: () => QuorumInfo['observers'] = () => [];
  /** Which voters make a quorum, for the election and for Zab alike: group.N/weight.N or a majority. */
  private readonly verifier: QuorumVerifier;

  constructor(readonly config: ServerConfig, opts: QuorumPeerOptions) {
    if (config.serverId === undefined) throw new Error('a quorum member needs a myid');
    if (!config.servers || config.servers.size === 0) throw new Error('a quorum member needs server.N lines');
    this.myId = config.serverId;
    // zoo.cfg parsing insists on both for a quorum; Apache's defaults otherwise.
    this.initLimit = config.initLimit || 10;
    this.syncLimit = config.syncLimit || 5;
    this.logger = opts.logger;
    this.runtime = opts.runtime ?? nodeRuntime;
    this.peers = [...config.servers.values()].map((s) => {
      const a = s.addresses[0]!;
      return { sid: s.id, host: a.host, quorumPort: a.quorumPort, electionPort: a.electionPort, type: s.type };
    });
    this.verifier = quorumVerifier(config, this.peers);
    const doRecover = opts.recover ?? recover;
    const settings = storageSettings(config);
    this.snapDir = settings.snapDir;
    this.server = new ZkServer(
      config,
      async () => {
        const r = await doRecover(settings);
        this.epochs = { ...r.report.epochs };
        return r;
      },
      { logger: opts.logger, runtime: this.runtime, onFatal: opts.onFatal, quorumMember: true, auditLogDir: opts.auditLogDir },
    );
    const members = [...config.servers.values()].map((sv) => ({
      sid: sv.id, addresses: sv.addresses, type: sv.type, clientHost: sv.clientHost, clientPort: sv.clientPort,
    }));
    this.server.quorumInfoSource = () => ({
      myid: this.myId, zabState: this.zabState(), leaderId: this.leaderSid, members, observers: this.observersNow(),
    });
  }

  private get me(): PeerAddr {
    return this.peers.find((p) => p.sid === this.myId)!;
  }

  /** Where the quorum and election ports listen: the server.N address, or all interfaces (quorumListenOnAllIPs). */
  private get bindHost(): string {
    return this.config.quorumListenOnAllIPs ? '0.0.0.0' : this.me.host;
  }

  private get voters(): number[] {
    return this.peers.filter((p) => p.type === 'participant').map((p) => p.sid);
  }

  async start(): Promise<void> {
    await this.server.start();
    this.election = new ElectionTransport(this.myId, this.peers, membershipText(this.peers), this.runtime, {
      decided: (state, vote) => this.decided(state, vote),
      log: (level, message) => (level === 'warn' ? this.logger.warn(message) : level === 'info' ? this.logger.info(message) : undefined),
    }, this.verifier);
    await this.election.listen(this.bindHost);
    await this.look();
  }

  private async look(): Promise<void> {
    if (this.stopped) return;
    this.state = 'LOOKING';
    this.leaderSid = null;
    this.zabState = () => 'election';
    this.observersNow = () => [];
    this.server.observerStatsReset = null;
    this.lookingSince = this.runtime.clock.now();
    this.logger.info('LOOKING');
    const db = this.server.db;
    this.election.startLooking({ lastLoggedZxid: BigInt(db.lastProcessedZxid), currentEpoch: BigInt(this.epochs.currentEpoch) });
  }

  private decided(state: ServerState, vote: Vote): void {
    const took = this.runtime.clock.now() - this.lookingSince;
    this.lastElectionMs = took;
    this.elections++;
    this.state = state;
    this.leaderSid = Number(vote.leader);
    this.zabState = () => 'discovery';
    const gen = ++this.generation;
    this.roleStarted = this.runtime.clock.now();
    this.logger.info(state);
    this.logger.info(`${state} - LEADER ELECTION TOOK - ${took} MS`);
    const run = state === 'LEADING' ? this.lead(gen) : this.follow(gen, Number(vote.leader), state === 'OBSERVING' ? 'observer' : 'follower');
    run.catch((e: Error) => this.roleEnded(gen, e.message));
  }

  /** The role `gen` is over: drop it and elect again. */
  private roleEnded(gen: number, reason: string): void {
    if (gen !== this.generation || this.stopped) return;
    this.generation++;
    this.server.leaderFiguresSource = null;
    this.server.revalidateSession = null;
    // In Apache's words, which operators grep for.
    if (this.state === 'LEADING') {
      this.logger.info('Shutting down');
      this.logger.info(`Shutdown called. For the reason ${reason}`);
    } else {
      this.logger.warn(`Exception when ${this.state === 'OBSERVING' ? 'observing' : 'following'} the leader: ${reason}`);
    }
    // A role that failed at once (a leader that refuses us) would otherwise spin: wait a tick. An
    // observer waits observer.election.DelayMs (200 ms) as Apache's does.
    let pause = this.runtime.clock.now() - this.roleStarted < 1000 ? this.config.tickTime : 0;
    if (this.state === 'OBSERVING') pause = Math.max(pause, 200);
    // LOOKING for the election at once (as Apache's peer is once its follower loop exits), so the
    // notifications of members that noticed first wait for our round instead of being answered
    // with the dead leader's vote, which cost a 200 ms notification timeout in fail-over.
    this.election.becomeLooking();
    void this.endRole().then(async () => {
      await this.fastForward();
      if (pause > 0) await new Promise<void>((r) => this.runtime.scheduler.after(pause, r));
      if (this.stopped) return;
      await this.look();
    }).catch((e: Error) => this.logger.error(`going back to LOOKING failed: ${e.message}`));
  }

  private async endRole(): Promise<void> {
    this.roleTimer?.cancel();
    this.roleTimer = null;
    this.channel?.close('role ended');
    this.channel = null;
    const l = this.listener;
    this.listener = null;
    await l?.close();
    await this.server.switchRole(this.server.role, null);
  }

  /**
   * Txns this member logged but never saw committed are applied before it votes (Apache:
   * ZKDatabase.fastForwardDataBase), so its vote names the history it actually holds.
   */
  private async fastForward(): Promise<void> {
    const db = this.server.db;
    for await (const txn of this.server.txnLog.readTxnsAfter(db.lastProcessedZxid)) {
      if (txn.hdr.zxid <= db.lastProcessedZxid) continue;
      db.applyTxn(txn);
    }
  }

  private enterEpoch(epoch: number): void {
    const start = Number(makeZxid(epoch, 0));
    if (this.server.db.lastProcessedZxid < start) this.server.db.lastProcessedZxid = start;
  }

  private epochStore() {
    return {
      setAcceptedEpoch: async (e: number) => {
        await writeEpochFile(this.snapDir, ACCEPTED_EPOCH_FILE, e);
        this.epochs.acceptedEpoch = e;
      },
      setCurrentEpoch: async (e: number) => {
        await writeEpochFile(this.snapDir, CURRENT_EPOCH_FILE, e);
        this.epochs.currentEpoch = e;
      },
    };
  }

  // ------------------------------------------------------------------ LEADING

  private async lead(gen: number): Promise<void> {
    const db = this.server.db;
    // The core's own committed log (its last 500 commits), seeded from the database's window as
    // bytes: neither holds a decoded txn.
    const window = new TxnProposalWindow(DEFAULT_COMMIT_LOG_COUNT);
    db.committedLog.copyInto(window.ring);
    // Learners behind the in-memory window are synced from the txn log when the budget allows:
    // the log is read ahead of their ACKEPOCH (the core asks synchronously), kept per learner.
    const fromLog = new Map<number, { from: bigint; proposals: Proposal<Txn>[] }>();
    const core = new ZabLeader<Txn, SnapshotBody>({
      sid: this.myId,
      voters: this.voters,
      isQuorum: numericQuorumCheck(this.verifier),
      observers: this.peers.filter((p) => p.type === 'observer').map((p) => p.sid),
      acceptedEpoch: this.epochs.acceptedEpoch,
      currentEpoch: this.epochs.currentEpoch,
      lastProcessedZxid: BigInt(db.lastProcessedZxid),
      committedLog: [],
      committedWindow: window,
      commitLogCount: DEFAULT_COMMIT_LOG_COUNT,
      txnLogFrom: (from) => {
        for (const e of fromLog.values()) if (e.from === from) return e.proposals;
        return null;
      },
      // The leader's state now, as the SNAP stream carries it (a learner too far behind the committed log).
      snapshot: () => readSnapshotBody(new Reader(Buffer.concat(serializeSnapshotSync(this.server.db, { form: 'body' }).chunks))),
      initLimit: this.initLimit,
      syncLimit: this.syncLimit,
      config: membershipText(this.peers),
    });
    // Apache's leader: DISCOVERY until a quorum acks the epoch, SYNCHRONIZATION until it acks NEWLEADER.
    this.zabState = () => {
      const st = core.state;
      return st === 'established' ? 'broadcast' : st === 'newLeaderAck' ? 'synchronization' : st === 'stopped' ? 'election' : 'discovery';
    };
    let stage: LeaderCommit<SnapshotBody> | null = null;
    let pipeline: RequestPipeline | null = null;
    // Messages of a learner whose txn log read is under way wait, in order, behind its ACKEPOCH.
    const held = new Map<number, PeerMessage[]>();
    const deliver = (sid: number, m: PeerMessage) => {
      const q = held.get(sid);
      if (q) {
        q.push(m);
        return;
      }
      if (m.type === 'ACKEPOCH') {
        fromLog.delete(sid);
        if (core.needsTxnLog(m.zxid)) {
          const queue = [m];
          held.set(sid, queue);
          void this.readLogForSync(m.zxid).then(
            (proposals) => {
              if (proposals && held.get(sid) === queue) fromLog.set(sid, { from: m.zxid, proposals });
            },
            (e: Error) => this.logger.warn(`reading the txn log to sync learner ${sid} failed: ${e.message}`),
          ).finally(() => {
            if (held.get(sid) !== queue || gen !== this.generation) return;
            held.delete(sid);
            for (const x of queue) toStage(sid, x);
          });
          return;
        }
      }
      toStage(sid, m);
    };
    // A learner may connect and speak before the commit stage exists (the listener opens first so
    // that it can): what it says waits here until the stage has started.
    const early: [number, PeerMessage][] = [];
    const toStage = (sid: number, m: PeerMessage) => {
      if (stage && started) stage.receive(sid, m);
      else early.push([sid, m]);
    };
    let started = false;
    const listener = new LeaderListener(this.bindHost, this.me.quorumPort, {
      message: deliver,
      disconnected: (sid, reason) => {
        this.logger.warn(`Learner ${sid} disconnected: ${reason}`);
        held.delete(sid);
        fromLog.delete(sid);
        if (stage && started) stage.disconnected(sid);
        else for (let i = early.length - 1; i >= 0; i--) if (early[i]![0] === sid) early.splice(i, 1);
      },
    });
    this.listener = listener;
    this.server.observerStatsReset = () => {
      for (const l of core.learners()) if (l.type === 'observer') listener.resetStats(l.sid);
    };
    this.observersNow = () => core.learners().filter((l) => l.type === 'observer').flatMap((l) => {
      const st = listener.stats(l.sid);
      // Our channel writes each packet to the socket at once: no packet queue, only unsent bytes.
      return st ? [{ sid: l.sid, synced: l.state === 'upToDate' && l.synced, queuedPackets: 0, ...st }] : [];
    });
    await listener.listen();
    if (gen !== this.generation) return;
    // Apache's proposal BufferStats: the size of each PROPOSAL's data, once per proposal.
    const sizes = (this.server.proposalStats = { last: -1, min: -1, max: -1 });
    let lastSized = -1n;
    const send = (to: number, msg: PeerMessage) => {
      if (msg.type === 'PROPOSAL' && msg.zxid > lastSized) {
        lastSized = msg.zxid;
        const n = txnBytes(msg.txn).length;
        sizes.last = n;
        sizes.min = sizes.min < 0 ? n : Math.min(sizes.min, n);
        sizes.max = Math.max(sizes.max, n);
      }
      listener.send(to, msg);
    };
    pipeline = await this.server.switchRole('leader', leaderCommit<SnapshotBody>(
      core, keepOpen(this.server.txnLog), this.runtime,
      { send, disconnect: (sid, reason) => listener.disconnect(sid, reason) },
      this.epochStore(),
      {
        established: (epoch) => {
          if (gen !== this.generation) return;
          pipeline!.startEpoch(Number(core.nextZxid()));
          // As Apache's leader, the tree's zxid is the new epoch's first (srvr shows 0x<epoch>00000000).
          this.enterEpoch(epoch);
          this.election.updateElectionVote(BigInt(epoch));
          restartSessionClocks(this.server.tracker, db, this.runtime.clock.now());
          this.server.serving = true;
          const establishedAt = this.runtime.clock.now();
          this.server.leaderFiguresSource = () => {
            const learners = core.learners();
            const synced = (type: 'follower' | 'observer') => learners.filter((l) => l.type === type && l.state === 'upToDate' && l.synced).length;
            return {
              learners: learners.length,
              syncedFollowers: synced('follower'),
              syncedNonVotingFollowers: 0,
              syncedObservers: synced('observer'),
              pendingSyncs: core.pendingSyncCount,
              leaderUptimeMs: this.runtime.clock.now() - establishedAt,
            };
          };
          this.logger.info(`Leader established epoch ${epoch}; serving clients`);
        },
        stepDown: (reason) => this.roleEnded(gen, reason),
        touchSessions: (_sid, sessions) => {
          const now = this.runtime.clock.now();
          for (const s of sessions) this.server.tracker.touch(s.sessionId, now);
        },
        learnerRequest: (sid, msg) => this.learnerRequest(pipeline!, stage!, sid, msg, send),
        syncChosen: (sid, mode, zxid, proposals, reason) => {
          fromLog.delete(sid);
          this.logger.info(`Synchronizing with learner sid: ${sid} by ${mode} 0x${zxid.toString(16)} (${proposals} proposals; ${reason})`);
        },
      },
      this.server.stats,
      (s) => (stage = s),
    ));
    if (gen !== this.generation || !stage) return;
    const st: LeaderCommit<SnapshotBody> = stage;
    st.start();
    started = true;
    for (const [sid, m] of early.splice(0)) deliver(sid, m);
    this.roleTimer = this.runtime.scheduler.every(Math.max(1, Math.floor(this.config.tickTime / 2)), () => st.tick());
  }

  /**
   * The leader's durable txns from `peerLastZxid` on (the txn at it included, so the core can
   * check the log reaches back that far), or null when the files to scan exceed
   * zookeeper.snapshotSizeFactor × the newest snapshot's size (Apache's rule; a negative factor
   * turns this off).
   */
  private async readLogForSync(peerLastZxid: bigint): Promise<Proposal<Txn>[] | null> {
    const raw = this.config.systemProperties?.get('zookeeper.snapshotSizeFactor');
    const factor = raw !== undefined && raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : DEFAULT_SNAPSHOT_SIZE_FACTOR;
    const from = Number(peerLastZxid);
    const budget = await txnLogSyncBudget(storageDirs(this.config), from, factor);
    if (!budget.allowed) {
      this.logger.info(
        `txn log sync for a learner at 0x${peerLastZxid.toString(16)} not possible: ${budget.logBytes} bytes of log over the limit ${budget.limitBytes} (snapshotSizeFactor ${factor})`,
      );
      return null;
    }
    const out: Proposal<Txn>[] = [];
    for await (const txn of this.server.txnLog.readTxnsAfter(from - 1)) out.push({ zxid: BigInt(txn.hdr.zxid), txn });
    return out;
  }

  private learnerRequest(
    pipeline: RequestPipeline, stage: LeaderCommit<SnapshotBody>, sid: number, msg: PeerMessage, send: (to: number, m: PeerMessage) => void,
  ): void {
    if (msg.type === 'REVALIDATE') {
      // A client reconnected to that learner with this session: the leader's tracker decides, and
      // a live session is touched as if the client had spoken (Apache: checkIfValidGlobalSession).
      const valid = this.server.tracker.isActive(msg.sessionId);
      if (valid) this.server.tracker.touch(msg.sessionId, this.runtime.clock.now());
      this.logger.info(`Revalidated session 0x${BigInt.asUintN(64, msg.sessionId).toString(16)} for learner ${sid}: ${valid ? 'valid' : 'invalid'}`);
      send(sid, { type: 'REVALIDATE', zxid: -1n, sessionId: msg.sessionId, valid });
      return;
    }
    if (msg.type !== 'REQUEST') return;
    // A learner forwards a client's sync as a REQUEST of type sync; it is answered with SYNC.
    if (msg.opType === OpCode.sync) {
      stage.syncRequested(sid);
      return;
    }
    try {
      pipeline.submitForwarded({
        sessionId: msg.sessionId, cxid: msg.cxid, type: msg.opType,
        // The decoder already copied the body out of the socket's chunk: no second copy.
        body: Buffer.isBuffer(msg.body) ? msg.body : Buffer.from(msg.body),
        // Prep only reads the ids (the decoder may hand the same frozen list to consecutive requests).
        authinfo: msg.authinfo ?? NO_IDS,
      });
    } catch (e) {
      this.logger.warn(`dropping a malformed request forwarded by server ${sid}: ${(e as Error).message}`);
    }
  }

  // ------------------------------------------------------------------ FOLLOWING

  private async follow(gen: number, leaderSid: number, type: 'follower' | 'observer'): Promise<void> {
    const leader = this.peers.find((p) => p.sid === leaderSid);
    if (!leader) throw new Error(`elected leader ${leaderSid} is not in the server list`);
    const deadline = this.runtime.clock.now() + this.initLimit * this.config.tickTime;
    const socket = await dialLeader(leader.host, leader.quorumPort, deadline);
    if (gen !== this.generation) {
      socket.destroy();
      return;
    }
    const db = this.server.db;
    const lastLogged = await this.server.txnLog.getLastLoggedZxid();
    const core = new ZabLearner<Txn, SnapshotBody>({
      sid: this.myId, type,
      acceptedEpoch: this.epochs.acceptedEpoch, currentEpoch: this.epochs.currentEpoch,
      lastLoggedZxid: BigInt(Math.max(db.lastProcessedZxid, lastLogged)),
      initLimit: this.initLimit, syncLimit: this.syncLimit,
    });
    this.zabState = () => {
      const st = core.state;
      return st === 'idle' || st === 'awaitLeaderInfo' ? 'discovery' : st === 'broadcast' ? 'broadcast' : st === 'lost' ? 'election' : 'synchronization';
    };
    let stage: FollowerCommit<SnapshotBody> | null = null;
    /** Reconnecting clients waiting for the leader's REVALIDATE answer, per session, in order. */
    const revalidating = new Map<bigint, ((valid: boolean) => void)[]>();
    const storage = {
      ...this.epochStore(),
      truncate: async (zxid: bigint) => {
        // As ZKDatabase.truncateLog: cut the log (and snapshots that hold what is cut), then load the
        // database again from snapshot + log, since txns applied here may be among those undone.
        const target = Number(zxid);
        const dirs = storageDirs(this.config);
        const before = db.lastProcessedZxid;
        await removeSnapshotsAfter(dirs, target, { logger: storageLogger(this.logger), sync: this.config.forceSync });
        await this.server.txnLog.truncate(target);
        const settings = storageSettings(this.config);
        const { db: fresh } = loadDatabase(dirs, {
          logger: storageLogger(this.logger), maxFieldBytes: settings.maxFieldBytes, commitLogCount: settings.commitLogCount,
          digestEnabled: settings.digestEnabled,
        });
        // This follower's pipeline was built over `db` and holds nothing yet: refill it in place.
        db.tree = fresh.tree;
        db.lastProcessedZxid = fresh.lastProcessedZxid;
        db.sessions.clear();
        for (const [id, timeout] of fresh.sessions) db.sessions.set(id, timeout);
        db.committedLog.clear();
        for (const txn of fresh.committedLog.toArray()) db.committedLog.add(txn);
        this.logger.info(
          `Truncated to 0x${zxid.toString(16)} (database was at 0x${before.toString(16)}); reloaded at 0x${db.lastProcessedZxid.toString(16)}`,
        );
      },
      loadSnapshot: (zxid: bigint, snap: SnapshotBody) => {
        // Only this follower's (empty) pipeline holds the old tree through db, so swapping it is enough.
        const tree = DataTree.fromSnapshot(snap.acls, snap.nodes, { digestEnabled: this.config.digestEnabled });
        db.tree = tree;
        db.lastProcessedZxid = Number(zxid);
        db.committedLog.clear();
        db.sessions.clear();
        for (const [id, timeout] of snap.sessions) db.sessions.set(id, timeout);
      },
      takeSnapshot: async () => {
        const snap = this.server.snapshotterRef;
        if (snap instanceof Snapshotter) await snap.snapshotNow(db);
      },
    };
    const pipeline = await this.server.switchRole(type, followerCommit<SnapshotBody>(
      core, keepOpen(this.server.txnLog), this.runtime,
      { send: (_to, msg) => this.channel?.send(msg), disconnect: (_sid, reason) => this.channel?.close(reason) },
      leaderSid, storage,
      {
        serving: (epoch) => {
          if (gen !== this.generation) return;
          this.election.updateElectionVote(BigInt(epoch));
          this.enterEpoch(epoch);
          this.server.serving = true;
          this.logger.info(`${type === 'observer' ? 'Observing' : 'Following'} leader ${leaderSid} in epoch ${epoch}; serving clients`);
        },
        leaderLost: (reason) => this.roleEnded(gen, reason),
        leaderReply: (msg) => {
          if (msg.type === 'SYNC') pipeline?.syncAnswered();
          if (msg.type === 'REVALIDATE') {
            const waiting = revalidating.get(msg.sessionId);
            const done = waiting?.shift();
            if (waiting && waiting.length === 0) revalidating.delete(msg.sessionId);
            done?.(msg.valid === true);
          }
        },
      },
      this.server.stats,
      (s) => (stage = s),
    ));
    if (gen !== this.generation || !stage || !pipeline) {
      socket.destroy();
      return;
    }
    const st: FollowerCommit<SnapshotBody> = stage;
    pipeline.sessionClosed = (id) => dropConnection(this.server, id);
    this.server.revalidateSession = (sessionId, timeout, done) => {
      const q = revalidating.get(sessionId) ?? [];
      revalidating.set(sessionId, q);
      q.push(done);
      if (!st.forward({ type: 'REVALIDATE', zxid: -1n, sessionId, timeout })) {
        q.pop();
        if (q.length === 0) revalidating.delete(sessionId);
        done(false);
      }
    };
    pipeline.forwarder = (req) =>
      st.forward({ type: 'REQUEST', zxid: -1n, sessionId: req.sessionId, cxid: req.cxid, opType: req.type, body: req.body, authinfo: req.authinfo });
    this.channel = new QuorumChannel(socket, true, (m) => st.receive(m), (reason) => {
      st.disconnected();
      this.roleEnded(gen, `connection to the leader lost: ${reason}`);
    });
    st.start();
    this.roleTimer = this.runtime.scheduler.every(Math.max(1, Math.floor(this.config.tickTime / 2)), () => {
      // The leader expires sessions: report the ones our clients keep alive.
      for (const id of this.server.sessionConns.keys()) {
        const t = this.server.db.sessions.get(id);
        if (t !== undefined) core.touchSession(id, t);
      }
      st.tick();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    await this.election?.stop();
    this.roleTimer?.cancel();
    this.channel?.close('shutting down');
    await this.listener?.close();
    await this.server.stop();
    await this.server.txnLog.close();
  }
}
