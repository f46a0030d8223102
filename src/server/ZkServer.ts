// A standalone ZooKeeper-compatible server: TCP front end, per-session ordering, the
// prep → log → apply → reply pipeline, session expiry and the container/TTL reaper.
import net from 'node:net';
import { Reader, JuteError } from '../jute/archive.js';
import { Err, OpCode, ZkError, DEFAULT_MAX_BUFFER } from '../protocol/constants.js';
import {
  AuthPacket, ConnectRequest, ConnectResponse, Create2Response, CreateResponse, GetSASLRequest, RequestHeader,
  SetACLResponse, SetDataResponse, SetSASLResponse,
} from '../protocol/records.js';
import type { Txn, TxnBody } from '../protocol/txn.js';
import type { ServerConfig } from '../config/ServerConfig.js';
import { authenticate, normaliseAddress } from '../auth/AuthProviders.js';
import { DataTree, type ApplyResult, type TreeEvent } from '../tree/DataTree.js';
import { WatchManager } from '../tree/WatchManager.js';
import { SessionTracker } from '../session/SessionTracker.js';
import { initialSessionId, sessionPassword } from '../session/SessionPassword.js';
import { parentOf } from '../tree/paths.js';
import { Connection, type ConnectionHost } from './Connection.js';
import { PendingChanges } from './PendingChanges.js';
import { prepWrite, prepCloseSession, WRITE_OPS, type PrepContext } from './Prep.js';
import { ZkDatabase } from './ZkDatabase.js';
import { MultiResponse, type MultiOpResult } from './MultiResult.js';
import { executeReadRequest, READ_OPS, type ReadContext } from './ReadRequests.js';
import { reapCandidates } from '../tree/ContainerReaper.js';
import { ServerStats, opName } from './ServerStats.js';
import { FourLetterWords } from './FourLetterWords.js';
import { AdminServer } from './AdminServer.js';
import { recover } from '../storage/Recovery.js';
import { MetricsServer, metricsSettings } from './MetricsServer.js';

/** The persistence seam: FileTxnLog in production, an in-memory twin in tests. */
export interface TxnLogLike {
  append(txns: Txn[]): Promise<void>;
  roll?(): void;
  close(): Promise<void>;
}

export interface SnapshotterLike {
  afterApply(db: ZkDatabase, txn: Txn): void;
  close?(): Promise<void>;
}

/** Where the server reports what it tolerated or failed at (the CLI logs in ZooKeeper's layout). */
export interface ServerLogger {
  warn(msg: string): void;
  error(msg: string): void;
}

const consoleServerLogger: ServerLogger = {
  warn: (m) => console.warn(`WARN ${m}`),
  error: (m) => console.error(`ERROR ${m}`),
};

/** What start() needs from storage; the default keeps everything in memory. */
export interface Persistence {
  db: ZkDatabase;
  log: TxnLogLike;
  snapshotter?: SnapshotterLike;
}

/** Used in memory mode: acknowledges at once and keeps nothing. */
class NullTxnLog implements TxnLogLike {
  append(): Promise<void> {
    return Promise.resolve();
  }
  async close(): Promise<void> {}
}

interface Item {
  conn: Connection | null;
  /** The session whose order this item keeps (it outlives a connection). */
  sessionId: bigint;
  xid: number;
  type: number;
  startedAt: number;
  /** Writes: the prepared txn. Reads: undefined. */
  txn?: Txn;
  /** Reads queued behind a session's writes keep their request bytes. */
  body?: Buffer;
  durable: boolean;
  failed?: Error;
  /** Extra work after apply (handshake completion, close). */
  after?: (res: ApplyResult | null) => void;
}


export class ZkServer implements ConnectionHost, ReadContext {
  db: ZkDatabase;
  readonly watches = new WatchManager();
  tracker: SessionTracker;
  readonly stats = new ServerStats();
  readonly connections = new Set<Connection>();
  readonly sessionConns = new Map<bigint, Connection>();
  readonly fourLetter: FourLetterWords;
  readonly startedAt = Date.now();
  readonly serverId = 1;
  private pending: PendingChanges;
  private log: TxnLogLike = new NullTxnLog();
  private snapshotter: SnapshotterLike | undefined;
  private tcp: net.Server | null = null;
  private queue: Item[] = [];
  private batch: Item[] = [];
  private flushScheduled = false;
  private nextZxid = 1;
  private nextSessionId: bigint;
  private perIp = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private storageError: Error | null = null;
  private reaperBusy = false;
  /**
   * Items queued per session. Order is per session, not per connection: after a reconnect, a
   * read must still wait for writes the session sent on its previous connection.
   */
  private sessionQueued = new Map<bigint, number>();
  /** Connections whose reading is paused by globalOutstandingLimit back-pressure. */
  private throttled = new Set<Connection>();
  running = false;
  port = 0;
  admin: AdminServer | null = null;
  metrics: MetricsServer | null = null;

  /**
   * `persistence` defaults to the data directories of `config` (snapshot + txn log in
   * ZooKeeper's format); pass 'memory' for a server that keeps nothing.
   */
  constructor(
    readonly config: ServerConfig,
    private readonly persistence: (() => Promise<Persistence>) | 'memory' = () => recover(config),
    private readonly logger: ServerLogger = consoleServerLogger,
  ) {
    this.db = new ZkDatabase(new DataTree());
    this.pending = new PendingChanges(this.db.tree);
    this.tracker = new SessionTracker(config.tickTime, Date.now());
    this.nextSessionId = initialSessionId(this.serverId, Date.now());
    this.fourLetter = new FourLetterWords(this);
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
  get maxFieldBytes(): number {
    return this.maxBuffer * 2;
  }
  get lastZxid(): number {
    return this.db.lastProcessedZxid;
  }
  get outstanding(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    if (this.persistence !== 'memory') {
      const p = await this.persistence();
      this.db = p.db;
      this.log = p.log;
      this.snapshotter = p.snapshotter;
      this.pending = new PendingChanges(this.db.tree);
      const now = Date.now();
      // Sessions restored from disk get a fresh full timeout to reconnect.
      for (const [id, timeout] of this.db.sessions) this.tracker.add(id, timeout, now);
    }
    this.nextZxid = this.db.lastProcessedZxid + 1;
    const server = net.createServer({ noDelay: true }, (s) => this.accept(s));
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
    this.running = true;
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
      this.metrics = new MetricsServer(this, prom.host, prom.port);
      try {
        await this.metrics.start();
      } catch (e) {
        this.logger.error(`metrics server failed to start on ${prom.host}:${prom.port}: ${(e as Error).message}`);
        this.metrics = null;
      }
    }
    const tickMs = Math.max(10, Math.min(this.config.tickTime, 1000));
    this.timers.push(setInterval(() => this.onTick(), tickMs));
    this.timers.push(setInterval(() => void this.reapContainers(), Math.max(50, this.config.containerCheckIntervalMs)));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of [...this.connections]) {
      c.socket.destroy();
      c.close();
    }
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
    await this.admin?.stop();
    await this.metrics?.stop();
    // Let in-flight log appends settle before closing the log.
    await this.drainPersistence();
    await this.log.close();
    await this.snapshotter?.close?.();
  }

  private async drainPersistence(): Promise<void> {
    for (let i = 0; i < 200 && this.queue.some((q) => q.txn && !q.durable && !q.failed); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // ------------------------------------------------------------------ connections

  private accept(socket: net.Socket): void {
    const ip = normaliseAddress(socket.remoteAddress);
    const count = this.perIp.get(ip) ?? 0;
    if (
      (this.config.maxClientCnxns > 0 && count >= this.config.maxClientCnxns) ||
      (this.config.maxCnxns > 0 && this.connections.size >= this.config.maxCnxns)
    ) {
      // Excess sockets are accepted and dropped without a word, as ZooKeeper does.
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    const conn = new Connection(socket, this, ip);
    this.connections.add(conn);
  }

  onClose(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    const ip = conn.remoteAddress;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    this.watches.removeWatcher(conn);
    if (this.sessionConns.get(conn.sessionId) === conn) this.sessionConns.delete(conn.sessionId);
  }

  isFourLetterWord(word: string): boolean {
    return this.fourLetter.isKnown(word);
  }

  onFourLetterWord(conn: Connection, word: string, rest: Buffer): void {
    this.fourLetter.run(conn, word, rest);
  }

  onFrame(conn: Connection, frame: Buffer): void {
    this.stats.packetsReceived++;
    try {
      if (!conn.handshakeStarted) this.onConnect(conn, frame);
      else this.onRequest(conn, frame);
    } catch (e) {
      // A client can never take the server down: log and drop that connection.
      if (!(e instanceof JuteError || e instanceof RangeError)) this.logger.error(`request failed: ${(e as Error)?.stack ?? String(e)}`);
      conn.close();
    }
  }

  private onConnect(conn: Connection, frame: Buffer): void {
    const r = new Reader(frame, 0, frame.length, this.maxBuffer * 2);
    const req = ConnectRequest.read(r);
    conn.sentReadOnlyFlag = r.remaining() >= 1;
    conn.handshakeStarted = true;
    if (req.lastZxidSeen > this.db.lastProcessedZxid) {
      // The client has seen a newer state than ours: it must try another server.
      conn.close();
      return;
    }
    const timeout = Math.min(Math.max(req.timeOut, this.config.minSessionTimeout), this.config.maxSessionTimeout);
    if (req.sessionId === 0n) {
      const id = this.nextSessionId++;
      const txn = this.makeTxn(id, 0, OpCode.createSession, { type: OpCode.createSession, timeOut: timeout });
      this.enqueueWrite({
        conn, sessionId: id, xid: 0, type: OpCode.createSession, startedAt: Date.now(), txn, durable: false,
        after: (res) => {
          if (!res) {
            conn.close();
            return;
          }
          this.tracker.add(id, timeout, Date.now());
          this.attach(conn, id, timeout);
        },
      });
      return;
    }
    // Every existing connection of the session goes first, before the password is checked.
    const old = this.sessionConns.get(req.sessionId);
    if (old && old !== conn) old.close();
    const ok =
      req.passwd != null && req.passwd.equals(sessionPassword(req.sessionId)) && this.tracker.isActive(req.sessionId);
    if (!ok) {
      conn.sendFrame((w) => {
        ConnectResponse.write(w, { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16) });
        if (conn.sentReadOnlyFlag) w.bool(false);
      });
      conn.closeAfterFlush();
      return;
    }
    this.tracker.add(req.sessionId, timeout, Date.now());
    this.attach(conn, req.sessionId, timeout);
  }

  private attach(conn: Connection, id: bigint, timeout: number): void {
    if (conn.closed) return;
    conn.sessionId = id;
    conn.sessionTimeout = timeout;
    this.sessionConns.set(id, conn);
    conn.sendFrame((w) => {
      ConnectResponse.write(w, { protocolVersion: 0, timeOut: timeout, sessionId: id, passwd: sessionPassword(id) });
      if (conn.sentReadOnlyFlag) w.bool(false);
    });
    this.stats.packetsSent++;
    conn.established = true;
    conn.lastOp = 'SESS';
    conn.drainBacklog();
  }

  private onRequest(conn: Connection, frame: Buffer): void {
    const r = new Reader(frame, 0, frame.length, this.maxBuffer * 2);
    const { xid, type } = RequestHeader.read(r);
    const body = frame.subarray(r.pos);
    this.tracker.touch(conn.sessionId, Date.now());
    conn.lastCxid = xid;
    if (type === OpCode.auth) return this.onAuth(conn, xid, body);
    if (type === OpCode.sasl) {
      // No SASL provider: answer with an empty token, outside the ordered pipeline.
      GetSASLRequest.read(new Reader(body));
      conn.reply(xid, 0, 0, SetSASLResponse, { token: null });
      return;
    }
    if (WRITE_OPS.has(type)) return this.submitWrite(conn, xid, type, body);
    if (READ_OPS.has(type)) {
      const item: Item = { conn, sessionId: conn.sessionId, xid, type, startedAt: Date.now(), body, durable: true };
      // sync answers only once every write already submitted (by anyone) is applied.
      const mustWait = (this.sessionQueued.get(conn.sessionId) ?? 0) > 0 || (type === OpCode.sync && this.queue.length > 0);
      if (!mustWait) this.executeRead(item);
      else {
        this.track(item, 1);
        this.queue.push(item);
        this.throttle(conn);
      }
      return;
    }
    // Unknown opcode (and a stand-alone check): Unimplemented, then the connection closes.
    conn.reply(xid, -1, Err.Unimplemented);
    conn.closeAfterFlush();
  }

  private onAuth(conn: Connection, xid: number, body: Buffer): void {
    const p = AuthPacket.read(new Reader(body, 0, body.length, this.maxBuffer * 2));
    const ids = authenticate(p.scheme, p.auth, conn.remoteAddress, this.config.superDigest);
    if (!ids) {
      this.stats.authFailed++;
      conn.reply(xid, 0, Err.AuthFailed);
      conn.closeAfterFlush();
      return;
    }
    for (const id of ids) {
      if (!conn.identities.some((x) => x.scheme === id.scheme && x.id === id.id)) conn.identities.push(id);
    }
    conn.reply(xid, 0, Err.OK);
  }

  // ------------------------------------------------------------------ writes

  private makeTxn(clientId: bigint, cxid: number, type: number, body: TxnBody): Txn {
    const zxid = this.nextZxid++;
    const hdrType = body.type === OpCode.error ? OpCode.error : type;
    return { hdr: { clientId, cxid, zxid, time: Date.now(), type: hdrType }, body };
  }

  private prepContext(sessionId: bigint, ids: PrepContext['ids'], zxid: number): PrepContext {
    return {
      pending: this.pending,
      tree: this.db.tree,
      ids,
      sessionId,
      sessionValid: this.tracker.isActive(sessionId),
      zxid,
      extendedTypesEnabled: this.config.extendedTypesEnabled,
      skipACL: this.config.skipACL,
      enforceQuota: this.config.enforceQuota,
      reconfigEnabled: this.config.reconfigEnabled,
    };
  }

  private submitWrite(conn: Connection, xid: number, type: number, body: Buffer): void {
    const zxid = this.nextZxid;
    const ctx = this.prepContext(conn.sessionId, conn.identities, zxid);
    const r = new Reader(body, 0, body.length, this.maxBuffer * 2);
    const txnBody = prepWrite(ctx, type, r);
    const txn = this.makeTxn(conn.sessionId, xid, type, txnBody);
    const item: Item = { conn, sessionId: conn.sessionId, xid, type, startedAt: Date.now(), txn, durable: false };
    if (type === OpCode.closeSession && txnBody.type === OpCode.closeSession) {
      this.tracker.setClosing(conn.sessionId);
      const sid = conn.sessionId;
      item.after = () => {
        if (this.sessionConns.get(sid) === conn) this.sessionConns.delete(sid);
        conn.closeAfterFlush();
      };
    }
    this.enqueueWrite(item);
  }

  private track(item: Item, delta: number): void {
    if (item.conn) item.conn.inflight += delta;
    const n = (this.sessionQueued.get(item.sessionId) ?? 0) + delta;
    if (n > 0) this.sessionQueued.set(item.sessionId, n);
    else this.sessionQueued.delete(item.sessionId);
  }

  private enqueueWrite(item: Item): void {
    this.track(item, 1);
    this.queue.push(item);
    this.throttle(item.conn);
    this.batch.push(item);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Past globalOutstandingLimit, stop reading from connections with work in flight. */
  private throttle(conn: Connection | null): void {
    if (!conn || this.config.globalOutstandingLimit <= 0) return;
    if (this.queue.length > this.config.globalOutstandingLimit && !this.throttled.has(conn)) {
      this.throttled.add(conn);
      conn.pauseReading('outstanding');
    }
  }

  /** Group commit: everything prepared since the last flush goes to the log as one batch. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    if (this.storageError) {
      for (const it of batch) it.failed = this.storageError;
      this.drain();
      return;
    }
    this.log.append(batch.map((b) => b.txn!)).then(
      () => {
        for (const it of batch) it.durable = true;
        this.drain();
      },
      (err: Error) => {
        this.logger.error(`transaction log failure, refusing writes: ${err.message}`);
        this.storageError = err;
        for (const it of batch) it.failed = err;
        this.drain();
      },
    );
  }

  /** Complete queued items in order: apply durable writes, run reads queued behind them. */
  private drain(): void {
    while (this.queue.length) {
      const item = this.queue[0]!;
      if (item.txn) {
        if (item.failed) {
          this.queue.shift();
          this.completeFailedWrite(item);
          continue;
        }
        if (!item.durable) break;
        this.queue.shift();
        this.applyWrite(item);
      } else {
        this.queue.shift();
        this.executeRead(item);
      }
      this.track(item, -1);
    }
    if (this.throttled.size && this.queue.length <= this.config.globalOutstandingLimit / 2) {
      for (const c of this.throttled) c.resumeReading('outstanding');
      this.throttled.clear();
    }
    if (this.storageError && !this.queue.some((q) => q.txn)) {
      // Nothing of the failed batches was applied: forget their speculative state.
      this.pending.clear();
      this.nextZxid = this.db.lastProcessedZxid + 1;
    }
  }

  private completeFailedWrite(item: Item): void {
    this.track(item, -1);
    if (item.type === OpCode.createSession) {
      item.after?.(null);
      return;
    }
    if (item.conn && !item.conn.closed) {
      item.conn.reply(item.xid, this.db.lastProcessedZxid, Err.SystemError);
    }
  }

  private applyWrite(item: Item): void {
    const txn = item.txn!;
    const events: TreeEvent[] = [];
    const res = this.db.applyTxn(txn, events);
    this.pending.applied(txn.hdr.zxid);
    if (events.length) this.watches.trigger(events);
    this.snapshotter?.afterApply(this.db, txn);
    if (txn.body.type === OpCode.closeSession) this.tracker.remove(txn.hdr.clientId);
    const conn = item.conn;
    if (conn && !conn.closed && item.type !== OpCode.createSession) this.replyWrite(conn, item, res);
    item.after?.(res);
  }

  private replyWrite(conn: Connection, item: Item, res: ApplyResult): void {
    const zxid = item.txn!.hdr.zxid;
    const body = item.txn!.body;
    let size = 0;
    if (body.type === OpCode.error) {
      size = conn.reply(item.xid, zxid, body.err);
    } else if (item.type === OpCode.multi) {
      size = conn.reply(item.xid, zxid, 0, MultiResponse, this.multiResults(res));
    } else if (res.err !== Err.OK) {
      size = conn.reply(item.xid, zxid, res.err);
    } else {
      switch (item.type) {
        case OpCode.create:
          size = conn.reply(item.xid, zxid, 0, CreateResponse, { path: res.path! });
          break;
        case OpCode.create2:
        case OpCode.createContainer:
        case OpCode.createTTL:
          size = conn.reply(item.xid, zxid, 0, Create2Response, { path: res.path!, stat: res.stat! });
          break;
        case OpCode.setData:
          size = conn.reply(item.xid, zxid, 0, SetDataResponse, { stat: res.stat! });
          break;
        case OpCode.setACL:
          size = conn.reply(item.xid, zxid, 0, SetACLResponse, { stat: res.stat! });
          break;
        default:
          size = conn.reply(item.xid, zxid, 0);
      }
    }
    this.finishRequest(conn, item, zxid, size);
  }

  private multiResults(res: ApplyResult): MultiOpResult[] {
    return (res.results ?? []).map((r): MultiOpResult => {
      if (r.type === OpCode.error) return { type: -1, err: r.err };
      switch (r.type) {
        case OpCode.create:
        case OpCode.create2:
          return { type: 1, path: r.path! };
        case OpCode.createContainer:
        case OpCode.createTTL:
          return { type: 15, path: r.path!, stat: r.stat! };
        case OpCode.setData:
          return { type: 5, stat: r.stat! };
        case OpCode.delete:
        case OpCode.deleteContainer:
          return { type: 2 };
        default:
          return { type: 13 };
      }
    });
  }

  private finishRequest(conn: Connection, item: Item, zxid: number, size: number): void {
    const latency = Date.now() - item.startedAt;
    conn.lastOp = opName(item.type);
    conn.lastZxid = zxid;
    conn.recordLatency(latency);
    this.stats.recordResponse(latency, size);
  }

  // ------------------------------------------------------------------ reads

  private executeRead(item: Item): void {
    const conn = item.conn!;
    if (conn.closed) return;
    const zxid = this.db.lastProcessedZxid;
    let size: number;
    try {
      size = executeReadRequest(this, conn, item.type, item.xid, item.body!, zxid);
    } catch (e) {
      const code = e instanceof ZkError ? e.code : Err.MarshallingError;
      if (!(e instanceof ZkError || e instanceof JuteError || e instanceof RangeError)) this.logger.error(`read failed: ${(e as Error)?.stack ?? String(e)}`);
      size = conn.reply(item.xid, zxid, code);
    }
    this.finishRequest(conn, item, zxid, size);
  }

  // ------------------------------------------------------------------ time

  private onTick(): void {
    const now = Date.now();
    for (const id of this.tracker.tick(now)) this.expireSession(id);
    for (const c of this.connections) {
      if (c.established) {
        if (now - c.lastRecvAt > c.sessionTimeout) c.close();
      } else if (now - c.establishedAt > 10000) {
        c.close();
      }
    }
  }

  /** Expiry: close the session's connection silently and log a closeSession for it. */
  expireSession(id: bigint): void {
    const conn = this.sessionConns.get(id);
    if (conn) {
      this.sessionConns.delete(id);
      conn.close();
    }
    this.submitInternal(id, OpCode.closeSession, (ctx) => prepCloseSession(ctx));
  }

  private submitInternal(sessionId: bigint, type: number, prep: (ctx: PrepContext) => TxnBody): void {
    const ctx = this.prepContext(sessionId, [{ scheme: 'super', id: '' }], this.nextZxid);
    ctx.sessionValid = true;
    const body = prep(ctx);
    const txn = this.makeTxn(sessionId, 0, type, body);
    this.enqueueWrite({ conn: null, sessionId, xid: 0, type, startedAt: Date.now(), txn, durable: false });
  }

  /** ContainerManager: empty used containers and expired TTL nodes are deleted. */
  private async reapContainers(): Promise<void> {
    if (this.reaperBusy || !this.running) return;
    this.reaperBusy = true;
    try {
      const candidates = reapCandidates(this.db.tree, Date.now(), this.config.containerMaxNeverUsedIntervalMs);
      const gapMs = 60000 / Math.max(1, this.config.containerMaxPerMinute);
      for (const p of candidates) {
        if (!this.running) break;
        this.submitInternal(0n, OpCode.deleteContainer, (ctx) => {
          const v = ctx.pending.get(p);
          if (!v) return { type: OpCode.error, err: Err.NoNode };
          if (v.childCount > 0) return { type: OpCode.error, err: Err.NotEmpty };
          const parent = ctx.pending.get(parentOf(p));
          if (parent) ctx.pending.set(parentOf(p), ctx.zxid, parent.with({ childCount: parent.childCount - 1 }));
          ctx.pending.set(p, ctx.zxid, null);
          return { type: OpCode.deleteContainer, path: p };
        });
        if (gapMs >= 1) await new Promise((res) => setTimeout(res, gapMs));
      }
    } finally {
      this.reaperBusy = false;
    }
  }


}

