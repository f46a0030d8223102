// The request pipeline, as ZooKeeper's processor chain but wired as plain objects driven by events:
//
//   submit ─▶ SessionOrder ─▶ PrepStage ─▶ CommitStage ─────────────▶ ApplyStage ─▶ reply
//                  ▲        (leader and     (LogStage: group-commit;     (tree, watches,   │
//                  │         standalone)     leader: quorum of ACKs)      sessions)        │
//                  └────────── settle(sessionId, cxid): answered in the session's order ◀──┘
//
// It owns no sockets, timers or files: clients are ClientChannels, time and deferral come from the
// Runtime, durability from the CommitStage's TxnLog. The TCP front (ClientFront) and the
// deterministic simulation (test/sim) drive the same object.
import { JuteError } from '../../jute/archive.js';
import { Err, OpCode, ZkError } from '../../protocol/constants.js';
import type { Identity } from '../../auth/AuthProviders.js';
import { Writer } from '../../jute/archive.js';
import type { Txn } from '../../protocol/txn.js';
import type { ApplyResult } from '../../tree/DataTree.js';
import type { WatchManager } from '../../tree/WatchManager.js';
import { reapCandidates } from '../../tree/ContainerReaper.js';
import type { SessionTracker } from '../../session/SessionTracker.js';
import { initialSessionId } from '../../session/SessionPassword.js';
import type { Runtime } from '../../runtime/Runtime.js';
import type { ZkDatabase } from '../../tree/ZkDatabase.js';
import { WRITE_OPS, prepCloseSession, prepDeleteContainer } from '../Prep.js';
import { READ_OPS, executeReadRequest, type ReadContext } from '../ReadRequests.js';
import { opName, type ServerStats } from '../ServerStats.js';
import type { ClientChannel } from './ClientChannel.js';
import type { CommitSink, CommitStage } from './Commit.js';
import { ApplyStage, type ApplyListener } from './ApplyStage.js';
import { PrepStage, type PrepSettings } from './PrepStage.js';
import { Request, RequestKind } from './Request.js';
import { SessionOrder, type SessionOrderHost } from './SessionOrder.js';
import { replyToWrite } from './WriteReply.js';
import type { AuditHook } from './AuditHook.js';


/** Session expirations closed per event-loop turn (see RequestPipeline.tick): each also writes a log line, synchronously. */
export const EXPIRIES_PER_TURN = 250;
export interface PipelineSettings extends PrepSettings {
  serverId: number;
  /** Past this many queued requests, stop reading from connections that add more (0: no limit). */
  globalOutstandingLimit: number;
  containerMaxPerMinute: number;
  containerMaxNeverUsedIntervalMs: number;
}

/** A client write a follower hands to its leader (Zab REQUEST) instead of preparing it. */
export interface ForwardedWrite {
  sessionId: bigint;
  cxid: number;
  type: number;
  body: Buffer;
  authinfo: Identity[];
}

/** Sends a write to the leader; false when it cannot now (not synced with a leader). */
export type WriteForwarder = (req: ForwardedWrite) => boolean;

export interface PipelineLogger {
  warn(msg: string): void;
  error(msg: string): void;
}

export class RequestPipeline implements SessionOrderHost, ReadContext, CommitSink {
  readonly order: SessionOrder;
  readonly prep: PrepStage;
  readonly commit: CommitStage;
  private readonly applier: ApplyStage;
  private nextSessionId: bigint;
  private readonly throttled = new Set<ClientChannel>();
  private reaperBusy = false;
  private stopped = false;
  /** Set once storage has failed: nothing more is accepted. */
  fatalError: Error | null = null;
  /** The audit log (audit.enable=true), told about writes at the reply stage. */
  audit: AuditHook | null = null;
  /**
   * Set on a follower: client writes and new sessions go to the leader and are answered when
   * their committed txn comes back; sessions expire only on the leader.
   */
  forwarder: WriteForwarder | null = null;
  /**
   * Set on a follower, where only the leader expires sessions: a committed closeSession (after its
   * own client's reply, if any) tells the owner to drop that session's connection.
   */
  sessionClosed: ((sessionId: bigint) => void) | null = null;
  /** Syncs forwarded to the leader, oldest first; the leader answers them in order. */
  private readonly forwardedSyncs: Request[] = [];

  constructor(
    readonly db: ZkDatabase,
    readonly watches: WatchManager,
    readonly tracker: SessionTracker,
    private readonly runtime: Runtime,
    private readonly settings: PipelineSettings,
    makeCommit: (sink: CommitSink) => CommitStage,
    private readonly stats: ServerStats,
    private readonly logger: PipelineLogger,
    applyListener: ApplyListener | null,
    /** Storage failed: the owner must stop the server (ZooKeeper exits so a supervisor restarts it). */
    private readonly onFatal: (err: Error) => void,
  ) {
    this.order = new SessionOrder(this);
    this.prep = new PrepStage(db.tree, tracker, runtime.clock, settings, db.lastProcessedZxid, stats);
    this.applier = new ApplyStage(db, watches, tracker, runtime.clock, applyListener);
    this.commit = makeCommit(this);
    this.nextSessionId = initialSessionId(settings.serverId, runtime.clock.now());
  }

  get tree() {
    return this.db.tree;
  }
  get skipACL(): boolean {
    return this.settings.skipACL;
  }
  get maxFieldBytes(): number {
    return this.settings.maxFieldBytes;
  }
  /** Requests queued, plus server-made writes not yet committed. */
  get outstanding(): number {
    return this.order.size + this.internalZxids.size;
  }
  /**
   * Zxids of writes no local client waits for (expiry, the reaper, writes forwarded by followers)
   * not yet committed. They are added in zxid order and commit in zxid order: a queue of numbers
   * (a Set would box each zxid and rehash as it grows and shrinks, on every forwarded write).
   */
  private readonly internalZxids = new ZxidQueue();

  recordRead(path: string, bytes: number): void {
    this.stats.recordRead(path, bytes);
  }

  appliedZxid(): number {
    return this.db.lastProcessedZxid;
  }

  // ------------------------------------------------------------------ requests in

  /**
   * A request from an established session. Throws JuteError/RangeError on a malformed body:
   * the caller drops that connection. Returns false for an opcode the server does not serve.
   */
  submit(ch: ClientChannel, xid: number, type: number, body: Buffer): boolean {
    if (this.fatalError) return true;
    this.stats.recordPrepQueued();
    const now = this.runtime.clock.now();
    if (WRITE_OPS.has(type) && this.forwarder) {
      const req = new Request(ch, ch.sessionId, xid, type, RequestKind.Write, now, this.audit?.wantsBodies ? body : null);
      if (!this.forwarder({ sessionId: ch.sessionId, cxid: xid, type, body, authinfo: ch.identities })) {
        ch.reply(xid, this.db.lastProcessedZxid, Err.ConnectionLoss);
        return true;
      }
      if (type === OpCode.closeSession) {
        this.tracker.setClosing(ch.sessionId);
        req.after = () => ch.closeAfterFlush();
      }
      this.order.enqueue(req);
      this.throttle(ch);
      return true;
    }
    if (WRITE_OPS.has(type)) {
      const txn = this.prep.clientWrite(ch.sessionId, ch.identities, xid, type, body);
      // The audit log reads the request record at the reply stage (path of a failed write, create mode, ACL).
      const req = new Request(ch, ch.sessionId, xid, type, RequestKind.Write, now, this.audit?.wantsBodies ? body : null);
      req.txn = txn;
      if (type === OpCode.closeSession && txn.body.type === OpCode.closeSession) {
        this.tracker.setClosing(ch.sessionId);
        req.after = () => ch.closeAfterFlush();
      }
      this.order.enqueue(req);
      this.throttle(ch);
      this.commit.propose(txn);
      return true;
    }
    if (READ_OPS.has(type)) {
      const kind = type === OpCode.sync ? RequestKind.Sync : RequestKind.Read;
      const req = new Request(ch, ch.sessionId, xid, type, kind, now, body);
      // sync answers only once every write already submitted (by anyone) is applied.
      if (kind === RequestKind.Sync) req.waitZxid = this.prep.lastPreparedZxid;
      if (kind === RequestKind.Sync && this.forwarder) {
        // A follower cannot know what the leader has proposed: the leader answers SYNC once it has
        // committed everything proposed before the sync, and the COMMITs arrive ahead of it.
        req.waitZxid = Number.MAX_SAFE_INTEGER;
        if (!this.forwarder({ sessionId: ch.sessionId, cxid: xid, type, body, authinfo: ch.identities })) {
          ch.reply(xid, this.db.lastProcessedZxid, Err.ConnectionLoss);
          return true;
        }
        this.forwardedSyncs.push(req);
        this.order.enqueue(req);
        this.throttle(ch);
        return true;
      }
      if (kind === RequestKind.Read && !this.order.busy(ch.sessionId)) {
        this.answer(req); // fast path: nothing of this session ahead of it
        return true;
      }
      this.order.enqueue(req);
      this.throttle(ch);
      return true;
    }
    return false;
  }

  /** A new session for a connection; `done` gets the id, or null if it could not be created. */
  createSession(ch: ClientChannel | null, timeoutMs: number, done: (id: bigint | null) => void): bigint {
    const id = this.nextSessionId++;
    if (this.forwarder) {
      const req = new Request(ch, id, 0, OpCode.createSession, RequestKind.Write, this.runtime.clock.now(), null);
      req.after = (res) => done(res ? id : null);
      // The leader logs the session (Apache forwards createSession with the timeout as its body).
      const body = new Writer(4).int(timeoutMs).toBuffer();
      if (!this.forwarder({ sessionId: id, cxid: 0, type: OpCode.createSession, body, authinfo: [] })) {
        done(null);
        return id;
      }
      this.order.enqueue(req);
      return id;
    }
    const txn = this.prep.createSession(id, timeoutMs);
    const req = new Request(ch, id, 0, OpCode.createSession, RequestKind.Write, this.runtime.clock.now(), null);
    req.txn = txn;
    req.after = (res) => {
      this.stats.recordLatency(this.runtime.clock.now() - req.startedAt, true);
      done(res ? id : null);
    };
    this.order.enqueue(req);
    this.commit.propose(txn);
    return id;
  }

  /**
   * On the leader: a write a follower forwarded. It is prepared here like a local one; the
   * follower answers its client when the txn comes back committed. Throws on a malformed body.
   */
  submitForwarded(req: ForwardedWrite): void {
    if (this.fatalError || this.stopped) return;
    let txn: Txn;
    if (req.type === OpCode.createSession) {
      if (req.body.length < 4) throw new RangeError('forwarded createSession without a timeout');
      txn = this.prep.createSession(req.sessionId, req.body.readInt32BE(0));
    } else {
      txn = this.prep.clientWrite(req.sessionId, req.authinfo, req.cxid, req.type, req.body);
      if (req.type === OpCode.closeSession && txn.body.type === OpCode.closeSession) this.tracker.setClosing(req.sessionId);
    }
    this.internal(txn);
  }

  /** The leader answered the oldest forwarded sync. */
  syncAnswered(): void {
    const req = this.forwardedSyncs.shift();
    if (!req) return;
    req.waitZxid = 0;
    this.order.appliedAdvanced();
  }

  /** Committed txns from now on carry zxids from `nextZxid` (a leader's new epoch). */
  startEpoch(nextZxid: number): void {
    this.prep.startAt(nextZxid);
  }

  /** Session expiry (and orphan cleanup): a closeSession txn made by the server. */
  expire(sessionId: bigint): void {
    this.tracker.setClosing(sessionId);
    this.internal(this.prep.internal(sessionId, OpCode.closeSession, (ctx) => prepCloseSession(ctx)));
  }

  private internal(txn: Txn): void {
    if (this.fatalError || this.stopped) return;
    this.internalZxids.push(txn.hdr.zxid);
    this.commit.propose(txn);
  }

  // ------------------------------------------------------------------ committed txns

  committed(txn: Txn): void {
    let res: ApplyResult;
    try {
      res = this.applier.apply(txn);
    } catch (e) {
      // Continuing after a committed txn failed to apply would diverge silently.
      this.fatal(new Error(`applying txn 0x${txn.hdr.zxid.toString(16)} failed: ${(e as Error).message}`));
      return;
    }
    this.prep.applied(txn.hdr.zxid);
    if (this.audit && txn.body.type === OpCode.closeSession) this.audit.sessionClosed(txn);
    this.stats.recordApplied(txn, this.runtime.clock.now());
    if (!this.internalZxids.take(txn.hdr.zxid)) this.order.settle(txn.hdr.clientId, txn.hdr.cxid, res, txn);
    this.order.appliedAdvanced();
    if (this.sessionClosed && txn.body.type === OpCode.closeSession) this.sessionClosed(txn.hdr.clientId);
    this.unthrottle();
  }

  fatal(err: Error): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.stats.recordUnrecoverableError();
    this.logger.error(`Severe unrecoverable error, stopping: ${err.message}`);
    // Nothing queued can be answered truthfully any more; the connections go with the server.
    this.order.clear();
    this.onFatal(err);
  }

  // ------------------------------------------------------------------ answers, in session order

  answer(req: Request): void {
    const ch = req.channel;
    if (req.kind === RequestKind.Write) {
      const txn = req.txn!;
      if (ch && !ch.closed && req.type !== OpCode.createSession && req.result) {
        const size = replyToWrite(ch, req.xid, req.type, txn, req.result);
        this.finish(ch, req, txn.hdr.zxid, size);
      }
      if (this.audit && ch && req.type !== OpCode.createSession) this.audit.write(ch, req.type, req.body, txn, req.result);
      req.after?.(req.result);
      return;
    }
    if (!ch || ch.closed) return;
    const zxid = this.db.lastProcessedZxid;
    let size: number;
    try {
      size = executeReadRequest(this, ch, req.type, req.xid, req.body!, zxid);
    } catch (e) {
      const code = e instanceof ZkError ? e.code : Err.MarshallingError;
      if (!(e instanceof ZkError || e instanceof JuteError || e instanceof RangeError)) {
        this.logger.error(`read failed: ${(e as Error)?.stack ?? String(e)}`);
      }
      size = ch.reply(req.xid, zxid, code);
    }
    this.finish(ch, req, zxid, size);
  }

  private finish(ch: ClientChannel, req: Request, zxid: number, size: number): void {
    const latency = this.runtime.clock.now() - req.startedAt;
    ch.noteResponse(opName(req.type), zxid, latency);
    this.stats.recordResponse(latency, size, req.kind === RequestKind.Write);
  }

  // ------------------------------------------------------------------ back-pressure

  /** Past globalOutstandingLimit, stop reading from connections that queue more work. */
  private throttle(ch: ClientChannel): void {
    const limit = this.settings.globalOutstandingLimit;
    if (limit <= 0 || this.order.size <= limit || this.throttled.has(ch)) return;
    this.throttled.add(ch);
    ch.pauseReading('outstanding');
  }

  private unthrottle(): void {
    if (this.throttled.size === 0 || this.order.size > this.settings.globalOutstandingLimit / 2) return;
    for (const c of this.throttled) c.resumeReading('outstanding');
    this.throttled.clear();
  }

  /** A channel went away: it no longer needs resuming. */
  forget(ch: ClientChannel): void {
    this.throttled.delete(ch);
  }

  // ------------------------------------------------------------------ time

  /** Expire the sessions whose deadline has passed; returns their ids. */
  /**
   * Expire the sessions whose time is up. At most EXPIRIES_PER_TURN are closed in this turn and
   * the rest in the turns after (issue 10: 10,000 sessions expiring together must not hold the
   * event loop); `onExpired` runs after each one is closed (the server drops its connection).
   */
  tick(now: number, onExpired?: (id: bigint) => void): bigint[] {
    if (this.forwarder) return [];
    const expired = this.tracker.tick(now);
    for (let i = 0; i < expired.length; i++) this.stats.recordSessionExpired();
    const run = (from: number): void => {
      const to = Math.min(expired.length, from + EXPIRIES_PER_TURN);
      for (let i = from; i < to; i++) {
        if (this.stopped) return;
        this.expire(expired[i]!);
        onExpired?.(expired[i]!);
      }
      if (to < expired.length) this.runtime.scheduler.soon(() => run(to));
    };
    run(0);
    return expired;
  }

  /**
   * ContainerManager: delete empty used containers and expired TTL nodes, at most
   * containerMaxPerMinute of them, spread over the minute. Prep re-checks each one, since the
   * tree may change while the reaper waits.
   */
  async reapContainers(): Promise<void> {
    if (this.reaperBusy || this.stopped || this.forwarder) return;
    this.reaperBusy = true;
    try {
      const candidates = reapCandidates(this.db.tree, this.runtime.clock.now(), this.settings.containerMaxNeverUsedIntervalMs);
      const gapMs = 60000 / Math.max(1, this.settings.containerMaxPerMinute);
      for (const p of candidates) {
        if (this.stopped || this.fatalError) break;
        this.internal(this.prep.internal(0n, OpCode.deleteContainer, (ctx) => prepDeleteContainer(ctx, p, ctx.time)));
        if (gapMs >= 1) await new Promise<void>((res) => this.runtime.scheduler.after(gapMs, res));
      }
    } finally {
      this.reaperBusy = false;
    }
  }

  // ------------------------------------------------------------------ shutdown

  /** Stop taking work; resolves once what was proposed is committed (or failed). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.commit.close();
  }
}

/** Increasing zxids, oldest first, in a ring of doubles (nothing allocated per zxid). */
export class ZxidQueue {
  private ring = new Float64Array(64);
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `zxid`, which must be above every zxid added before. */
  push(zxid: number): void {
    if (this.count === this.ring.length) {
      const bigger = new Float64Array(this.ring.length * 2);
      for (let i = 0; i < this.count; i++) bigger[i] = this.ring[(this.head + i) % this.ring.length]!;
      this.ring = bigger;
      this.head = 0;
    }
    this.ring[(this.head + this.count) % this.ring.length] = zxid;
    this.count++;
  }

  /**
   * Whether `zxid` was added; it and every zxid below it leave the queue (a zxid below it was
   * never committed and never will be, as commits come in zxid order).
   */
  take(zxid: number): boolean {
    while (this.count > 0) {
      const z = this.ring[this.head]!;
      if (z > zxid) return false;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
      if (z === zxid) return true;
    }
    return false;
  }
}
