// The prep stage (leader and standalone only): validates a write against the tree plus the
// changes still in flight and turns it into a txn with the next zxid. Failed checks become
// error txns, which consume a zxid as in ZooKeeper.
import { Reader } from '../../jute/archive.js';
import { OpCode } from '../../protocol/constants.js';
import type { Txn, TxnBody } from '../../protocol/txn.js';
import type { Identity } from '../../auth/AuthProviders.js';
import type { DataTree } from '../../tree/DataTree.js';
import type { SessionTracker } from '../../session/SessionTracker.js';
import type { Clock } from '../../runtime/Runtime.js';
import { PendingChanges } from '../PendingChanges.js';
import { preparedTxnDigest, prepWrite, type PrepContext } from '../Prep.js';

export interface PrepSettings {
  extendedTypesEnabled: boolean;
  skipACL: boolean;
  enforceQuota: boolean;
  reconfigEnabled: boolean;
  /** Largest buffer/string a request field may declare. */
  maxFieldBytes: number;
}

const SUPER: Identity[] = [{ scheme: 'super', id: '' }];

/** What prep reports to the metrics (ServerStats implements it). */
export interface PrepMetrics {
  recordPrep(ms: number, type: number): void;
  recordOutstandingChanges(queued: number, removed: number): void;
  recordQuotaExceeded(path: string): void;
}

const NO_METRICS: PrepMetrics = { recordPrep() {}, recordOutstandingChanges() {}, recordQuotaExceeded() {} };

export class PrepStage {
  readonly pending: PendingChanges;
  private nextZxid: number;
  /**
   * The context every prep gets, filled in anew for each: prep runs synchronously and keeps no
   * reference to it, so one object serves them all (a write then allocates no context).
   */
  private readonly ctx: PrepContext;

  constructor(
    private readonly tree: DataTree,
    private readonly sessions: SessionTracker,
    private readonly clock: Clock,
    private readonly settings: PrepSettings,
    lastZxid: number,
    private readonly metrics: PrepMetrics = NO_METRICS,
  ) {
    this.pending = new PendingChanges(tree);
    this.nextZxid = lastZxid + 1;
    this.ctx = {
      pending: this.pending,
      tree,
      ids: SUPER,
      sessionId: 0n,
      sessionValid: true,
      zxid: this.nextZxid,
      time: 0,
      extendedTypesEnabled: settings.extendedTypesEnabled,
      skipACL: settings.skipACL,
      enforceQuota: settings.enforceQuota,
      reconfigEnabled: settings.reconfigEnabled,
      quotaExceeded: (path) => this.metrics.recordQuotaExceeded(path),
    };
  }

  /** The zxid the last prepared txn got (what a sync must wait for). */
  get lastPreparedZxid(): number {
    return this.nextZxid - 1;
  }

  private context(sessionId: bigint, ids: Identity[], sessionValid: boolean): PrepContext {
    const c = this.ctx;
    c.ids = ids;
    c.sessionId = sessionId;
    c.sessionValid = sessionValid;
    c.zxid = this.nextZxid;
    c.time = this.clock.now();
    const s = this.settings;
    c.extendedTypesEnabled = s.extendedTypesEnabled;
    c.skipACL = s.skipACL;
    c.enforceQuota = s.enforceQuota;
    c.reconfigEnabled = s.reconfigEnabled;
    return c;
  }

  /** Report the prep's duration and the outstanding changes it added. */
  private measured(type: number, startedAt: number, queuedBefore: number): void {
    this.metrics.recordPrep(this.clock.now() - startedAt, type);
    const queued = this.pending.queuedTotal - queuedBefore;
    if (queued) this.metrics.recordOutstandingChanges(queued, 0);
  }

  /**
   * `time` must be the one prep used (new nodes' ctime/mtime enter the digest). The txn carries
   * the tree digest expected once it is applied (none on error txns).
   */
  private txn(clientId: bigint, cxid: number, type: number, body: TxnBody, time = this.clock.now()): Txn {
    const zxid = this.nextZxid++;
    const hdrType = body.type === OpCode.error ? OpCode.error : type;
    const hdr = { clientId, cxid, zxid, time, type: hdrType };
    const digest = preparedTxnDigest(this.pending, body);
    // Built whole: a digest added afterwards would cost the txn a separate property store.
    return digest ? { hdr, body, digest } : { hdr, body };
  }

  /** A leader's new epoch: the next txn gets `zxid`. */
  startAt(zxid: number): void {
    this.nextZxid = zxid;
  }

  /** A client's write request; throws JuteError on a malformed body (the caller drops the connection). */
  clientWrite(sessionId: bigint, ids: Identity[], cxid: number, type: number, body: Buffer): Txn {
    const ctx = this.context(sessionId, ids, this.sessions.isActive(sessionId));
    const queuedBefore = this.pending.queuedTotal;
    const r = new Reader(body, 0, body.length, this.settings.maxFieldBytes);
    const txn = this.txn(sessionId, cxid, type, prepWrite(ctx, type, r), ctx.time);
    this.measured(type, ctx.time, queuedBefore);
    return txn;
  }

  createSession(sessionId: bigint, timeoutMs: number): Txn {
    const startedAt = this.clock.now();
    const txn = this.txn(sessionId, 0, OpCode.createSession, { type: OpCode.createSession, timeOut: timeoutMs }, startedAt);
    this.measured(OpCode.createSession, startedAt, this.pending.queuedTotal);
    return txn;
  }

  /** A write the server makes itself (expiry, reaper, orphan cleanup), with super rights. */
  internal(sessionId: bigint, type: number, prep: (ctx: PrepContext) => TxnBody): Txn {
    const ctx = this.context(sessionId, SUPER, true);
    const queuedBefore = this.pending.queuedTotal;
    const txn = this.txn(sessionId, 0, type, prep(ctx), ctx.time);
    this.measured(type, ctx.time, queuedBefore);
    return txn;
  }

  /** Committed txns are now in the tree: forget their in-flight views. */
  applied(zxid: number): void {
    const before = this.pending.removedTotal;
    this.pending.applied(zxid);
    const removed = this.pending.removedTotal - before;
    if (removed) this.metrics.recordOutstandingChanges(0, removed);
  }
}
