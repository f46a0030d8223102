// The recording facade of the server's metrics: the request path calls these one-liners, and
// every number srvr/stat/mntr, the AdminServer and /metrics show is read back from here. The
// registry itself (names and types as Apache ZooKeeper 3.8's ServerMetrics) is src/metrics.
// Recording costs a few field updates: no string work, no allocation, no I/O.
import { EventType, OpCode } from '../protocol/constants.js';
import type { Txn, TxnBody } from '../protocol/txn.js';
import { AvgMinMax } from '../metrics/Summary.js';
import { ZkMetrics, type GaugeReaders, type GaugeSetReaders } from '../metrics/ZkMetrics.js';
import { maxFileDescriptorCount, openFileDescriptorCount } from '../metrics/ProcessFds.js';
import { QUOTA_ROOT } from '../tree/paths.js';
import { StatsTrack, limitsPath, statsPath } from '../tree/Quotas.js';

/** What the gauges read from the server when asked; ServerView provides all of it. */
export interface StatsSource {
  readonly outstanding: number;
  readonly connections: { readonly size: number };
  readonly tree: {
    readonly nodeCount: number;
    readonly approximateDataSize: number;
    readonly ephemerals: ReadonlyMap<bigint, ReadonlySet<string>>;
    readonly quotaPaths: ReadonlySet<string>;
    get(path: string): { readonly data: Buffer | null } | undefined;
    /** Txn and snapshot digests that disagreed with the tree, where the tree checks them. */
    readonly digestMismatches?: number;
  };
  readonly watches: { readonly totalWatches: number };
  readonly tracker: { readonly sessions: { readonly size: number } };
}

/** For stats kept apart from a server (pipeline tests, simulation): every gauge reads empty state. */
const NO_SERVER: StatsSource = {
  outstanding: 0,
  connections: { size: 0 },
  tree: { nodeCount: 0, approximateDataSize: 0, ephemerals: new Map(), quotaPaths: new Set(), get: () => undefined },
  watches: { totalWatches: 0 },
  tracker: { sessions: { size: 0 } },
};

/** zookeeper.fsync.warningthresholdms default: fsyncs slower than this are counted. */
export const FSYNC_WARNING_THRESHOLD_MS = 1000;
/** DataTree.STAT_OVERHEAD_BYTES: a Stat's size, charged to every read of a namespace. */
const STAT_OVERHEAD_BYTES = 6 * 8 + 5 * 4;

/** Last/min/max response size (BufferStats); -1 until the first response. */
export class BufferStats {
  last = -1;
  min = -1;
  max = -1;

  record(size: number): void {
    this.last = size;
    if (this.min === -1 || size < this.min) this.min = size;
    if (size > this.max) this.max = size;
  }

  reset(): void {
    this.last = this.min = this.max = -1;
  }
}

/** Top-level znode name of a path ("/app/cfg" → "app"), the key of the per-namespace metrics. */
export function topNamespace(path: string): string | null {
  if (path.length < 2) return null;
  const end = path.indexOf('/', 1);
  return end < 0 ? path.substring(1) : path.substring(1, end);
}

export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  authFailed = 0;
  fsyncThresholdExceedCount = 0;
  /** Every answered request, reads and writes (srvr's "Latency min/avg/max"). */
  readonly requestLatency = new AvgMinMax();
  readonly clientResponse = new BufferStats();
  readonly startedAt = Date.now();
  readonly metrics: ZkMetrics;

  constructor(source: StatsSource = NO_SERVER) {
    const rl = this.requestLatency;
    const cr = this.clientResponse;
    const gauges: GaugeReaders = {
      ephemerals_count: () => {
        let n = 0;
        for (const set of source.tree.ephemerals.values()) n += set.size;
        return n;
      },
      num_alive_connections: () => source.connections.size,
      avg_latency: () => rl.avg,
      outstanding_requests: () => source.outstanding,
      znode_count: () => source.tree.nodeCount,
      global_sessions: () => source.tracker.sessions.size,
      // No TLS client port: every connection is plain, and ZooKeeper counts only failed mTLS here.
      non_mtls_remote_conn_count: () => 0,
      last_client_response_size: () => cr.last,
      packets_sent: () => this.packetsSent,
      packets_received: () => this.packetsReceived,
      max_client_response_size: () => cr.max,
      // The connection-dropping fault injection (zookeeper.test…) does not exist here.
      connection_drop_probability: () => 0,
      watch_count: () => source.watches.totalWatches,
      auth_failed_count: () => this.authFailed,
      min_latency: () => rl.min,
      max_file_descriptor_count: maxFileDescriptorCount,
      approximate_data_size: () => source.tree.approximateDataSize,
      open_file_descriptor_count: openFileDescriptorCount,
      // Local sessions are a quorum feature (localSessionsEnabled); a standalone server has none.
      local_sessions: () => 0,
      uptime: () => Date.now() - this.startedAt,
      max_latency: () => rl.max,
      outstanding_tls_handshake: () => 0,
      min_client_response_size: () => cr.min,
      non_mtls_local_conn_count: () => 0,
    };
    const quota = (which: (t: StatsTrack, isLimit: boolean) => number | null) => (): Map<string, number> => {
      const out = new Map<string, number>();
      for (const p of source.tree.quotaPaths) {
        const ns = topNamespace(p);
        if (!ns || ns === QUOTA_ROOT.substring(1)) continue;
        for (const [node, isLimit] of [[limitsPath(p), true], [statsPath(p), false]] as const) {
          const data = source.tree.get(node)?.data;
          if (!data) continue;
          const v = which(new StatsTrack(data.toString('utf8')), isLimit);
          if (v !== null) out.set(ns, (out.get(ns) ?? 0) + v);
        }
      }
      return out;
    };
    // A hard limit, where set, is the limit that is enforced.
    const limit = (hard: number, soft: number) => (hard > -1 ? hard : soft);
    const gaugeSets: GaugeSetReaders = {
      quota_count_limit_per_namespace: quota((t, l) => (l ? limit(t.countHardLimit, t.count) : null)),
      quota_bytes_limit_per_namespace: quota((t, l) => (l ? limit(t.byteHardLimit, t.bytes) : null)),
      quota_count_usage_per_namespace: quota((t, l) => (l ? null : t.count)),
      quota_bytes_usage_per_namespace: quota((t, l) => (l ? null : t.bytes)),
    };
    this.metrics = new ZkMetrics(gauges, gaugeSets, { digest_mismatches_count: () => source.tree.digestMismatches ?? 0 });
  }

  // ---------------------------------------------------------------- client connections

  /** A request frame (or a four-letter word) arrived; `bytes` counts its 4-byte length prefix. */
  recordPacketReceived(bytes: number): void {
    this.packetsReceived++;
    this.metrics.counter.bytes_received_count.inc(bytes);
  }

  /** A packet went out that was not a request's response (ConnectResponse). */
  recordPacketSent(): void {
    this.packetsSent++;
  }

  /**
   * A request was answered. `frameBytes` is what Connection.reply returned (length prefix
   * included; 0 when the connection was already gone); `isWrite` says it carried a txn.
   */
  recordResponse(latencyMs: number, frameBytes: number, isWrite: boolean): void {
    this.packetsSent++;
    this.recordLatency(latencyMs, isWrite);
    if (frameBytes > 4) {
      this.clientResponse.record(frameBytes - 4);
      this.metrics.counter.response_bytes.inc(frameBytes - 4);
    }
  }

  /** Request latency without a response of its own (createSession answers with ConnectResponse). */
  recordLatency(latencyMs: number, isWrite: boolean): void {
    if (latencyMs < 0) return;
    this.requestLatency.add(latencyMs);
    (isWrite ? this.metrics.summary.updatelatency : this.metrics.summary.readlatency).add(latencyMs);
  }

  /** A watch notification was written; `frameBytes` as for recordResponse. */
  recordNotification(frameBytes: number): void {
    this.packetsSent++;
    if (frameBytes > 4) {
      this.clientResponse.record(frameBytes - 4);
      this.metrics.counter.watch_bytes.inc(frameBytes - 4);
    }
  }

  recordAuthFailed(): void {
    this.authFailed++;
  }

  /** A ConnectRequest was read. */
  recordConnectionRequest(): void {
    this.metrics.counter.connection_request_count.inc();
  }

  /** A socket was refused (maxClientCnxns / maxCnxns). */
  recordConnectionRejected(): void {
    this.metrics.counter.connection_rejected.inc();
  }

  /** A connection that never completed its handshake was closed by the idle check. */
  recordSessionlessConnectionExpired(): void {
    this.metrics.counter.sessionless_connections_expired.inc();
  }

  /** The session tracker expired a session. */
  recordSessionExpired(): void {
    this.metrics.counter.stale_sessions_expired.inc();
  }

  // ---------------------------------------------------------------- request pipeline

  /** A request entered the prep stage (PrepRequestProcessor.processRequest). */
  recordPrepQueued(): void {
    this.metrics.counter.prep_processor_request_queued.inc();
  }

  /** Prep of one request took `ms`; closeSession preps are also timed on their own. */
  recordPrep(ms: number, type: number): void {
    this.metrics.summary.prep_process_time.add(ms);
    if (type === OpCode.closeSession) this.metrics.summary.close_session_prep_time.add(ms);
  }

  /** Speculative changes added to / retired from the outstanding-changes list (PendingChanges). */
  recordOutstandingChanges(queued: number, removed: number): void {
    if (queued) this.metrics.counter.outstanding_changes_queued.inc(queued);
    if (removed) this.metrics.counter.outstanding_changes_removed.inc(removed);
  }

  /** A request was handed to the log stage (SyncRequestProcessor.processRequest). */
  recordSyncQueued(): void {
    this.metrics.counter.sync_processor_request_queued.inc();
  }

  /** One group commit: `txns` written and synced to the log in `ms` (LogStage's onAppended). */
  recordLogBatch(txns: number, ms: number): void {
    this.metrics.summary.sync_processor_batch_size.add(txns);
    this.metrics.summary.sync_processor_queue_flush_time_ms.add(ms);
  }

  /**
   * A txn became durable `queuedMs` after it was handed to the log stage and `totalMs` after its
   * request arrived (sync_processor_queue_time_ms, sync_processor_queue_and_flush_time_ms).
   */
  recordDurable(queuedMs: number, totalMs: number): void {
    this.metrics.summary.sync_processor_queue_time_ms.add(queuedMs);
    this.metrics.summary.sync_processor_queue_and_flush_time_ms.add(totalMs);
  }

  /** One fsync of the txn log (FileTxnLog.commit), in ms. */
  recordFsync(ms: number): void {
    const whole = Math.floor(ms);
    this.metrics.summary.fsynctime.add(whole);
    if (whole > FSYNC_WARNING_THRESHOLD_MS) this.fsyncThresholdExceedCount++;
  }

  /** A snapshot was written in `ms`. */
  recordSnapshot(ms: number): void {
    this.metrics.summary.snapshottime.add(Math.floor(ms));
  }

  /**
   * Startup load: snapshot deserialization, replay of `txnsLoaded` logged txns (recorded only
   * when there were some, as ZooKeeper does), and their total (dbinittime).
   */
  recordStartup(snapLoadMs: number, txnsLoaded: number, txnsLoadMs: number): void {
    const s = this.metrics.summary;
    s.startup_snap_load_time.add(Math.floor(snapLoadMs));
    if (txnsLoaded > 0) {
      s.startup_txns_loaded.add(txnsLoaded);
      s.startup_txns_load_time.add(Math.floor(txnsLoadMs));
    }
    s.dbinittime.add(Math.floor(snapLoadMs + txnsLoadMs));
  }

  /** A txn was applied at `now`: its delay since the header time, and the bytes it wrote per namespace. */
  recordApplied(txn: Txn, now: number): void {
    const ms = now - txn.hdr.time;
    if (ms >= 0) this.metrics.summary.propagation_latency.add(ms);
    this.recordTxnWrites(txn.body);
  }

  private recordTxnWrites(body: TxnBody): void {
    switch (body.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
      case OpCode.setData:
        this.recordWrite(body.path, body.data?.length ?? 0);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        this.recordWrite(body.path, 0);
        break;
      case OpCode.closeSession:
        // The session's ephemerals are deleted with it.
        for (const p of body.paths2Delete ?? []) this.recordWrite(p, 0);
        break;
      case OpCode.multi:
        for (const t of body.txns) this.recordTxnWrites(t);
        break;
    }
  }

  /**
   * Ensemble only (CommitProcessor): a locally issued write waited `queuedMs` in the commit
   * stage and `committedMs` since its commit arrived; a standalone server never calls this.
   */
  recordCommit(queuedMs: number, committedMs: number): void {
    this.metrics.summary.write_commitproc_time_ms.add(queuedMs);
    this.metrics.summary.local_write_committed_time_ms.add(committedMs);
  }

  /** Ensemble only: a write issued by another server was committed here `ms` after it arrived. */
  recordRemoteCommit(ms: number): void {
    this.metrics.summary.server_write_committed_time_ms.add(ms);
  }

  /** A write was refused because it would exceed a hard quota under `path`. */
  recordQuotaExceeded(path: string): void {
    const ns = topNamespace(path);
    if (ns) this.metrics.counterSet.quota_exceeded_error_per_namespace.inc({ key: ns });
  }

  /** A storage failure put the server into refusing writes. */
  recordUnrecoverableError(): void {
    this.metrics.counter.unrecoverable_error_count.inc();
  }

  // ---------------------------------------------------------------- data tree

  /** getData/exists/getChildren read `bytes` (data length, or the children's name lengths) at `path`. */
  recordRead(path: string, bytes: number): void {
    const ns = topNamespace(path);
    if (ns) this.metrics.summarySet.read_per_namespace.add(ns, path.length + bytes + STAT_OVERHEAD_BYTES);
  }

  /** create/delete/setData wrote `bytes` of data at `path`. */
  recordWrite(path: string, bytes: number): void {
    const ns = topNamespace(path);
    if (ns) this.metrics.summarySet.write_per_namespace.add(ns, path.length + bytes);
  }

  /** An event fired `watchers` watches (WatchManager.triggerWatch). */
  recordWatchesTriggered(eventType: number, watchers: number): void {
    const s = this.metrics.summary;
    const target =
      eventType === EventType.NodeCreated ? s.node_created_watch_count
      : eventType === EventType.NodeDeleted ? s.node_deleted_watch_count
      : eventType === EventType.NodeDataChanged ? s.node_changed_watch_count
      : eventType === EventType.NodeChildrenChanged ? s.node_children_watch_count
      : null;
    target?.add(watchers);
  }

  // ---------------------------------------------------------------- read back

  get min(): number {
    return this.requestLatency.min;
  }
  get avg(): number {
    return this.requestLatency.avg;
  }
  get maxLatency(): number {
    return this.requestLatency.max;
  }
  get uptime(): number {
    return Date.now() - this.startedAt;
  }

  /** Told of every srst (the event-loop pause monitor forgets the period under way). */
  onReset: (() => void) | null = null;

  /** srst: latency, packet counts, response sizes and every counter and summary. */
  reset(): void {
    this.onReset?.();
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.requestLatency.reset();
    this.clientResponse.reset();
    this.metrics.resetAll();
  }
}

const OP_NAMES = new Map<number, string>([
  [OpCode.notification, 'NOTIFICATION'],
  [OpCode.create, 'CREA'],
  [OpCode.create2, 'CREA'],
  [OpCode.createContainer, 'CREA'],
  [OpCode.createTTL, 'CREA'],
  [OpCode.delete, 'DELE'],
  [OpCode.deleteContainer, 'DELE'],
  [OpCode.exists, 'EXIS'],
  [OpCode.getData, 'GETD'],
  [OpCode.setData, 'SETD'],
  [OpCode.getACL, 'GETA'],
  [OpCode.setACL, 'SETA'],
  [OpCode.getChildren, 'GETC'],
  [OpCode.getChildren2, 'GETC'],
  [OpCode.getAllChildrenNumber, 'GETACN'],
  [OpCode.sync, 'SYNC'],
  [OpCode.ping, 'PING'],
  [OpCode.check, 'CHEC'],
  [OpCode.multi, 'MULT'],
  [OpCode.multiRead, 'MLTR'],
  [OpCode.setWatches, 'SETW'],
  [OpCode.setWatches2, 'STW2'],
  [OpCode.addWatch, 'ADDW'],
  [OpCode.checkWatches, 'CHKW'],
  [OpCode.removeWatches, 'REMW'],
  [OpCode.whoAmI, 'HOMI'],
  [OpCode.getEphemerals, 'GETE'],
  [OpCode.closeSession, 'CLOS'],
  [OpCode.createSession, 'SESS'],
  [OpCode.reconfig, 'RECO'],
]);

export function opName(type: number): string {
  return OP_NAMES.get(type) ?? 'UNKNOWN';
}
