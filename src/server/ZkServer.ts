// A ZooKeeper server process's wiring: storage, the request pipeline with its role's commit
// stage, the TCP client front, four-letter words, AdminServer and metrics, and the ticks that
// drive session expiry and the container reaper. The stages themselves live in pipeline/.
import net from 'node:net';
import { DEFAULT_MAX_BUFFER } from '../protocol/constants.js';
import type { Txn } from '../protocol/txn.js';
import type { ServerConfig } from '../config/ServerConfig.js';
import { DataTree } from '../tree/DataTree.js';
import { WatchManager } from '../tree/WatchManager.js';
import { SessionTracker } from '../session/SessionTracker.js';
import type { TxnLog } from '../storage/TxnLog.js';
import { recover } from '../storage/Recovery.js';
import { NullTxnLog } from '../storage/MemoryTxnLog.js';
import { storageSettings } from './StorageSettings.js';
import { nodeRuntime, type Runtime, type TimerHandle } from '../runtime/Runtime.js';
import type { Connection } from './Connection.js';
import { ClientFront } from './ClientFront.js';
import { ZkDatabase } from '../tree/ZkDatabase.js';
import { ServerStats } from './ServerStats.js';
import { FourLetterWords } from './FourLetterWords.js';
import { AdminServer } from './AdminServer.js';
import { MetricsServer, metricsSettings } from './MetricsServer.js';
import { RequestPipeline } from './pipeline/RequestPipeline.js';
import { standaloneCommit, type CommitSink, type CommitStage } from './pipeline/Commit.js';
import { DEFAULT_TRACE_MASK, type LeaderFigures, type LastSnapshot, type QuorumInfo, type ServerRole, type ServerView } from './ServerView.js';
import { Snapshotter } from '../storage/Snapshotter.js';
import { FileTxnLog } from '../storage/TxnLog.js';
import { SNAPSHOT_PREFIX, zxidFromName } from '../storage/FileNames.js';
import type { RecoveryReport } from '../storage/Recovery.js';
import path from 'node:path';
import { openAuditLog, type AuditLog } from './AuditLog.js';
import { startEventLoopPauseMonitor, type PauseMonitor } from '../metrics/EventLoopPause.js';

/** No role yet (a quorum member LOOKING): Apache answers four-letter words with this and serves nothing else. */
function notServing(s: net.Socket): void {
  s.once('data', () => s.end('This ZooKeeper instance is not currently serving requests\n'));
  // The client port allows half-open sockets: a peer's FIN is answered here.
  s.on('end', () => s.end());
  s.on('error', () => s.destroy());
  s.setTimeout(5000, () => s.destroy());
}

export interface SnapshotterLike {
  afterApply(db: ZkDatabase, txn: Txn): void;
  close?(): Promise<void>;
}

/** Where the server reports what it tolerated or failed at (the CLI logs in ZooKeeper's layout). */
export interface ServerLogger {
  warn(msg: string): void;
  error(msg: string): void;
  /**
   * Present only while that level is logged, so `logger.debug?.(`…`)` costs nothing otherwise.
   * `source` is ZooKeeper's `thread:Class` for the line (default: the server class).
   */
  info?: (msg: string, source?: string) => void;
  debug?: (msg: string, source?: string) => void;
}

const consoleServerLogger: ServerLogger = {
  warn: (m) => console.warn(`WARN ${m}`),
  error: (m) => console.error(`ERROR ${m}`),
};

/** What start() needs from storage; the default keeps everything in memory. */
export interface Persistence {
  db: ZkDatabase;
  log: TxnLog;
  snapshotter?: SnapshotterLike;
}

export type { ServerRole };

export interface ServerOptions {
  logger?: ServerLogger;
  runtime?: Runtime;
  /**
   * The durable log failed and nothing more can be acknowledged. ZooKeeper exits then, so that a
   * supervisor restarts it and recovery runs; the CLI does that here. The default stops the server.
   */
  onFatal?: (err: Error) => void;
  /** Directory of zookeeper_audit.log when audit.enable=true (the CLI passes ZOO_LOG_DIR). */
  auditLogDir?: string;
  /** A quorum member: start() opens the client port but serves nothing until switchRole(). */
  quorumMember?: boolean;
}

export class ZkServer implements ServerView {
  db: ZkDatabase;
  readonly watches = new WatchManager();
  tracker: SessionTracker;
  readonly stats = new ServerStats(this);
  readonly fourLetter: FourLetterWords;
  readonly startedAt: number;
  /** From myid; standalone servers without one use 1, as ZooKeeper does. */
  readonly serverId: number;
  /** A quorum member changes it (QuorumPeer.switchRole); a standalone server never does. */
  role: ServerRole = 'standalone';
  /** ServerView: one text trace mask for gtmk/stmk, whether asked by 4lw or HTTP. */
  traceMask = DEFAULT_TRACE_MASK;
  private loadedSnapshot: LastSnapshot | null = null;
  private pipelineRef: RequestPipeline | null = null;
  private frontRef: ClientFront | null = null;
  private snapshotter: SnapshotterLike | undefined;
  private tcp: net.Server | null = null;
  private timers: TimerHandle[] = [];
  /** Event-loop stalls into jvm_pause_time_ms (issue 10), from when the client port is open. */
  private pauseMonitor: PauseMonitor | null = null;
  private readonly logger: ServerLogger;
  private readonly runtime: Runtime;
  private readonly onFatal: (err: Error) => void;
  private readonly auditLogDir: string | undefined;
  /** zookeeper_audit.log, when audit.enable=true. */
  audit: AuditLog | null = null;
  private readonly quorumMember: boolean;
  private log: TxnLog = new NullTxnLog();
  /** Clients are served (a quorum member: only once its role is established). */
  serving = false;
  running = false;
  port = 0;
  admin: AdminServer | null = null;
  metrics: MetricsServer | null = null;
  /** The storage failure that stopped this server, if one did. */
  fatalError: Error | null = null;

  /**
   * `persistence` defaults to the data directories of `config` (snapshot + txn log in
   * ZooKeeper's format); pass 'memory' for a server that keeps nothing.
   */
  constructor(
    readonly config: ServerConfig,
    private readonly persistence: (() => Promise<Persistence>) | 'memory' = () => recover(storageSettings(config)),
    opts: ServerOptions | ServerLogger = {},
  ) {
    const o: ServerOptions = 'warn' in opts ? { logger: opts } : opts;
    this.logger = o.logger ?? consoleServerLogger;
    this.runtime = o.runtime ?? nodeRuntime;
    this.onFatal = o.onFatal ?? (() => void this.stop());
    this.auditLogDir = o.auditLogDir;
    this.quorumMember = o.quorumMember ?? false;
    this.startedAt = this.runtime.clock.now();
    this.serverId = config.serverId ?? 1;
    this.db = new ZkDatabase(new DataTree(false, { digestEnabled: config.digestEnabled }));
    this.tracker = new SessionTracker(config.tickTime, this.startedAt);
    this.fourLetter = new FourLetterWords(this);
    this.watches.onTriggered = (type, n) => this.stats.recordWatchesTriggered(type, n);
    // Big fan-outs are handed out over turns (issue 10); Connection keeps each client's order.
    this.watches.defer = (fn) => this.runtime.scheduler.soon(fn);
  }

  get maxBuffer(): number {
    return this.config.juteMaxBuffer || DEFAULT_MAX_BUFFER;
  }
  get skipACL(): boolean {
    return this.config.skipACL;
  }
  get tree(): DataTree {
    return this.db.tree;
  }
  get lastZxid(): number {
    return this.db.lastProcessedZxid;
  }
  get outstanding(): number {
    return this.pipelineRef?.outstanding ?? 0;
  }
  get connections(): Set<Connection> {
    return this.front.connections;
  }
  get sessionConns(): Map<bigint, Connection> {
    return this.front.sessionConns;
  }
  get pipeline(): RequestPipeline {
    if (!this.pipelineRef) throw new Error('server not started');
    return this.pipelineRef;
  }
  private get front(): ClientFront {
    if (!this.frontRef) throw new Error('server not started');
    return this.frontRef;
  }

  async start(): Promise<void> {
    if (this.persistence !== 'memory') {
      const p = await this.persistence();
      this.db = p.db;
      this.log = p.log;
      this.snapshotter = p.snapshotter;
      this.observeStorage(p);
    }
    const now = this.runtime.clock.now();
    // Sessions restored from disk get a fresh full timeout to reconnect.
    for (const [id, timeout] of this.db.sessions) this.tracker.add(id, timeout, now);
    const c = this.config;
    // Audit log (edit for issue 9): opened before any client can write; serverStart once serving.
    this.audit = openAuditLog(c, this.auditLogDir, (m) => this.logger.error(m));
    if (!this.quorumMember) {
      this.buildPipeline(standaloneCommit(this.log, this.runtime, this.stats));
      this.serving = true;
      // Ephemerals of sessions the loaded state no longer has are closed through the log, like an expiry.
      for (const owner of this.db.orphanSessionOwners()) this.pipeline.expire(owner);
    }
    await this.listen();
    const pauses = (this.pauseMonitor = startEventLoopPauseMonitor((ms) => this.stats.metrics.summary.jvm_pause_time_ms.add(ms)));
    this.stats.onReset = () => pauses.reset();
    this.running = true;
    this.audit?.serverStart();
    await this.startHttp();
    const tickMs = Math.max(10, Math.min(c.tickTime, 1000));
    const sched = this.runtime.scheduler;
    this.timers.push(sched.every(tickMs, () => this.onTick()));
    this.timers.push(sched.every(Math.max(50, c.containerCheckIntervalMs), () => {
      this.pipelineRef?.reapContainers().catch((e: Error) => this.logger.error(`container reaper failed: ${e?.stack ?? String(e)}`));
    }));
  }

  /** The pipeline and client front over a commit stage (standalone at start; a quorum member per role). */
  private buildPipeline(makeCommit: (sink: CommitSink) => CommitStage): RequestPipeline {
    const c = this.config;
    const pipeline = new RequestPipeline(
      this.db, this.watches, this.tracker, this.runtime,
      {
        serverId: this.serverId,
        extendedTypesEnabled: c.extendedTypesEnabled,
        skipACL: c.skipACL,
        enforceQuota: c.enforceQuota,
        reconfigEnabled: c.reconfigEnabled,
        maxFieldBytes: this.maxBuffer * 2,
        globalOutstandingLimit: c.globalOutstandingLimit,
        containerMaxPerMinute: c.containerMaxPerMinute,
        containerMaxNeverUsedIntervalMs: c.containerMaxNeverUsedIntervalMs,
      },
      makeCommit,
      this.stats, this.logger, this.snapshotter ?? null,
      (err) => this.fail(err),
    );
    this.pipelineRef = pipeline;
    pipeline.audit = this.audit;
    this.frontRef = new ClientFront(
      { maxBuffer: this.maxBuffer, skipACL: c.skipACL, maxClientCnxns: c.maxClientCnxns, maxCnxns: c.maxCnxns,
        minSessionTimeout: c.minSessionTimeout, maxSessionTimeout: c.maxSessionTimeout, superDigest: c.superDigest },
      pipeline, this.tracker, this.runtime.clock, this.stats,
      {
        isFourLetterWord: (w) => this.fourLetter.isKnown(w),
        runFourLetterWord: (conn, w, rest) => {
          // Logging (issue 9): NIOServerCnxn's line for a word it runs (whitelisted).
          if (this.logger.info && (c.fourLetterWords.has(w) || w === 'srvr')) this.logger.info(`Processing ${w} command from /${conn.remoteAddress}:${conn.remotePort}`, 'NIOWorkerThread-1:NIOServerCnxn');
          this.fourLetter.run(conn, w, rest);
        },
        lastZxid: () => this.db.lastProcessedZxid,
        revalidateSession: (id, timeout, done) => (this.revalidateSession ? this.revalidateSession(id, timeout, done) : done(this.tracker.isActive(id))),
        error: (m) => this.logger.error(m),
        info: this.logger.info?.bind(this.logger), // logging (issue 9): session and connection lines
        debug: this.logger.debug?.bind(this.logger),
      },
    );
    return pipeline;
  }

  /**
   * A quorum member's role changed: every client is dropped (as Apache's ZooKeeperServer shutdown
   * on leaving a role does), the old pipeline drains, and a new one over `makeCommit` serves —
   * or nothing does while LOOKING (makeCommit null).
   */
  async switchRole(role: ServerRole, makeCommit: ((sink: CommitSink) => CommitStage) | null): Promise<RequestPipeline | null> {
    const old = this.pipelineRef;
    this.serving = false;
    this.frontRef?.closeAll();
    this.frontRef = null;
    this.pipelineRef = null;
    this.role = role;
    if (old) await old.stop();
    if (!makeCommit) return null;
    return this.buildPipeline(makeCommit);
  }

  /** Set by a quorum member while it follows or observes: reconnecting sessions are checked with the leader. */
  revalidateSession: ((sessionId: bigint, timeout: number, done: (valid: boolean) => void) => void) | null = null;

  /** Set by a quorum member while it leads (srvr's "Proposal sizes"). */
  proposalStats = { last: -1, min: -1, max: -1 };
  proposalSizes(): { last: number; min: number; max: number } {
    return this.proposalStats;
  }

  /** Set by a quorum member while it leads: its live figures for mntr. */
  leaderFiguresSource: (() => LeaderFigures) | null = null;
  leaderFigures(): LeaderFigures | null {
    return this.role === 'leader' && this.leaderFiguresSource ? this.leaderFiguresSource() : null;
  }

  /** Set by a quorum member for its whole life: what the quorum admin commands show. */
  quorumInfoSource: (() => QuorumInfo) | null = null;
  quorumInfo(): QuorumInfo | null {
    return this.quorumInfoSource?.() ?? null;
  }
  /** Set by a leading member: orst resets its observers' connection counts. */
  observerStatsReset: (() => void) | null = null;
  resetObserverStats(): void {
    this.observerStatsReset?.();
  }

  get snapshotterRef(): SnapshotterLike | undefined {
    return this.snapshotter;
  }

  /** The server's txn log (quorum members hand it to each role's commit stage). */
  get txnLog(): TxnLog {
    return this.log;
  }

  private async listen(): Promise<void> {
    // allowHalfOpen: a client's FIN is answered by Connection, in slices (issue 10), not by Node.
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (s) => (this.frontRef && this.serving ? this.frontRef.accept(s) : notServing(s)));
    this.tcp = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const backlog = this.config.clientPortListenBacklog > 0 ? this.config.clientPortListenBacklog : undefined;
      server.listen({ port: this.config.clientPort, host: this.config.clientPortAddress, backlog }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.logger.error(`client port error: ${e.message}`));
    this.port = (server.address() as net.AddressInfo).port;
  }

  private async startHttp(): Promise<void> {
    if (this.config.adminEnableServer) {
      this.admin = new AdminServer(this);
      try {
        await this.admin.start();
      } catch (e) {
        // As in ZooKeeper, a busy admin port is logged, not fatal.
        this.logger.error(`admin server failed to start on ${this.config.adminServerAddress}:${this.config.adminServerPort}: ${(e as Error).message}`);
        this.admin = null;
      }
    }
    const prom = metricsSettings(this.config.raw);
    if (prom) {
      this.metrics = new MetricsServer(this, prom);
      try {
        await this.metrics.start();
      } catch (e) {
        this.logger.error(`metrics server failed to start on ${prom.host}:${prom.port}: ${(e as Error).message}`);
        this.metrics = null;
      }
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.pauseMonitor?.stop();
    this.pauseMonitor = null;
    this.frontRef?.closeAll();
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    await this.admin?.stop();
    await this.metrics?.stop();
    // Let what was proposed reach the log before closing it.
    await this.pipelineRef?.stop();
    await this.snapshotter?.close?.();
    await this.audit?.close();
  }

  /** Storage failed: stop serving (nothing more can be acknowledged) and tell the owner. */
  private fail(err: Error): void {
    this.fatalError = err;
    this.frontRef?.closeAll();
    this.onFatal(err);
  }

  private onTick(): void {
    if (!this.pipelineRef || !this.frontRef || !this.serving) return;
    const now = this.runtime.clock.now();
    // Many expiring together are closed over several turns (RequestPipeline.tick, issue 10).
    this.pipeline.tick(now, (id) => {
      // Logging (issue 9): ZooKeeperServer.expire's line, from the SessionTracker thread.
      this.logger.info?.(`Expiring session 0x${BigInt.asUintN(64, id).toString(16)}, timeout of ${this.tracker.sessions.get(id)?.timeoutMs}ms exceeded`, 'SessionTracker:ZooKeeperServer');
      this.frontRef?.dropSession(id);
    });
    this.front.tick(now);
  }

  /** Expiry: close the session's connection silently and log a closeSession for it. */
  expireSession(id: bigint): void {
    this.front.dropSession(id);
    this.pipeline.expire(id);
  }

  // ------------------------------------------------------------------ ServerView

  /** What conf and zabstate show: ZooKeeper's standalone server reports 0 whatever myid says. */
  get myid(): number {
    return this.role === 'standalone' ? 0 : this.serverId;
  }

  /** Startup load times, and hooks so every later fsync and snapshot is measured. */
  private observeStorage(p: Persistence & { report?: RecoveryReport }): void {
    if (p.report) {
      this.stats.recordStartup(p.report.snapLoadMs, p.report.replayedTxns, p.report.txnsLoadMs);
      if (p.report.snapshot) this.loadedSnapshot = { path: p.report.snapshot, zxid: p.report.snapshotZxid };
    }
    if (p.log instanceof FileTxnLog) p.log.onFsync = (ms) => this.stats.recordFsync(ms);
    if (p.snapshotter instanceof Snapshotter) p.snapshotter.reportSnapshotTimes((ms) => this.stats.recordSnapshot(ms));
  }

  lastSnapshot(): LastSnapshot | null {
    const newest = this.snapshotter instanceof Snapshotter ? this.snapshotter.lastSnapshot : null;
    if (newest) return { path: newest, zxid: zxidFromName(path.basename(newest), SNAPSHOT_PREFIX) };
    return this.loadedSnapshot;
  }
}
