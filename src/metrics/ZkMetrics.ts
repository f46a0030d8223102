// The server's one metrics registry (prom-client), named and typed as Apache ZooKeeper 3.8's
// ServerMetrics and the gauges ZooKeeperServer.registerMetrics adds. It is registered in the
// order mntr prints (the order of ZooKeeper's DefaultMetricsProvider dump as recorded in the
// 4lw vectors: gauges, gauge sets, counters, counter sets, basic summaries, advanced summaries,
// basic summary sets, advanced summary sets), so mntr, /commands/monitor and the Prometheus
// scrape all walk the same objects in the same order.
import { Counter, Gauge, Registry } from 'prom-client';
import { ZkSummary, ZkSummarySet } from './Summary.js';
import { ZkCounter } from './Counter.js';
import { javaDouble, promValue } from './javaFormat.js';

export const GAUGE_NAMES = [
  'ephemerals_count', 'num_alive_connections', 'avg_latency', 'outstanding_requests', 'znode_count',
  'global_sessions', 'non_mtls_remote_conn_count', 'last_client_response_size', 'packets_sent',
  'packets_received', 'max_client_response_size', 'connection_drop_probability', 'watch_count',
  'auth_failed_count', 'min_latency', 'max_file_descriptor_count', 'approximate_data_size',
  'open_file_descriptor_count', 'local_sessions', 'uptime', 'max_latency', 'outstanding_tls_handshake',
  'min_client_response_size', 'non_mtls_local_conn_count',
] as const;
/** Gauges Java reports as a double (mntr prints "7.0", not "7"). */
const DOUBLE_GAUGES: ReadonlySet<string> = new Set(['avg_latency', 'connection_drop_probability']);

export const GAUGE_SET_NAMES = [
  'quota_count_limit_per_namespace', 'quota_bytes_limit_per_namespace',
  'quota_count_usage_per_namespace', 'quota_bytes_usage_per_namespace',
] as const;

export const COUNTER_NAMES = [
  'proposal_count', 'watch_bytes', 'outstanding_changes_removed', 'throttled_ops', 'stale_requests_dropped',
  'large_requests_rejected', 'insecure_admin_count', 'connection_rejected', 'cnxn_closed_without_zk_server_running',
  'sessionless_connections_expired', 'looking_count', 'dead_watchers_queued', 'stale_requests', 'connection_drop_count',
  'learner_proposal_received_count', 'digest_mismatches_count', 'dead_watchers_cleared', 'response_packet_cache_hits',
  'bytes_received_count', 'add_dead_watcher_stall_time', 'request_throttle_wait_count',
  'requests_not_forwarded_to_commit_processor', 'response_packet_cache_misses', 'ensemble_auth_success',
  'prep_processor_request_queued', 'learner_commit_received_count', 'stale_replies', 'connection_request_count',
  'response_bytes', 'ensemble_auth_fail', 'diff_count', 'response_packet_get_children_cache_misses',
  'connection_revalidate_count', 'quit_leading_due_to_disloyal_voter', 'snap_count', 'unrecoverable_error_count',
  'unsuccessful_handshake', 'commit_count', 'stale_sessions_expired', 'response_packet_get_children_cache_hits',
  'sync_processor_request_queued', 'outstanding_changes_queued', 'request_commit_queued', 'ensemble_auth_skip',
  'skip_learner_request_to_next_processor_count', 'tls_handshake_exceeded', 'revalidate_count',
] as const;

export const COUNTER_SET_NAMES = ['quota_exceeded_error_per_namespace'] as const;

/** DetailLevel.BASIC: avg/min/max/cnt/sum in mntr, the median in Prometheus. */
export const BASIC_SUMMARY_NAMES = [
  'socket_closing_time', 'proposal_process_time', 'leader_unavailable_time', 'node_created_watch_count',
  'session_queues_drained', 'write_commit_proc_req_queued', 'connection_token_deficit', 'read_commit_proc_req_queued',
  'node_deleted_watch_count', 'startup_txns_load_time', 'sync_processor_queue_size', 'follower_sync_time',
  'prep_processor_queue_size', 'fsynctime', 'inflight_snap_count', 'reads_issued_from_session_queue',
  'learner_request_processor_queue_size', 'snapshottime', 'unavailable_time', 'startup_txns_loaded',
  'reads_after_write_in_session_queue', 'requests_in_session_queue', 'write_commit_proc_issued', 'prep_process_time',
  'pending_session_queue_size', 'time_waiting_empty_pool_in_commit_processor_read_ms', 'commit_process_time',
  'dbinittime', 'inflight_diff_count', 'netty_queued_buffer_capacity', 'election_time', 'commit_commit_proc_req_queued',
  'sync_processor_batch_size', 'node_children_watch_count', 'write_batch_time_in_commit_processor',
  'read_commit_proc_issued', 'concurrent_request_processing_in_commit_processor', 'observer_sync_time',
  'node_changed_watch_count', 'sync_process_time', 'startup_snap_load_time',
] as const;

/** DetailLevel.ADVANCED: adds p50/p95/p99/p999 in mntr and quantiles 0.5/0.9/0.99 in Prometheus. */
export const ADVANCED_SUMMARY_NAMES = [
  'prep_processor_queue_time_ms', 'jvm_pause_time_ms', 'close_session_prep_time', 'read_commitproc_time_ms',
  'updatelatency', 'local_write_committed_time_ms', 'request_throttle_queue_time_ms', 'readlatency',
  'quorum_ack_latency', 'om_commit_process_time_ms', 'read_final_proc_time_ms', 'commit_propagation_latency',
  'dead_watchers_cleaner_latency', 'write_final_proc_time_ms', 'proposal_ack_creation_latency', 'proposal_latency',
  'om_proposal_process_time_ms', 'sync_processor_queue_and_flush_time_ms', 'propagation_latency',
  'server_write_committed_time_ms', 'sync_processor_queue_time_ms', 'sync_processor_queue_flush_time_ms',
  'write_commitproc_time_ms',
] as const;

export const BASIC_SUMMARY_SET_NAMES = ['read_per_namespace', 'write_per_namespace', 'learner_handler_qp_size'] as const;
export const ADVANCED_SUMMARY_SET_NAMES = ['ack_latency', 'learner_handler_qp_time_ms'] as const;

export type GaugeName = (typeof GAUGE_NAMES)[number];
export type GaugeSetName = (typeof GAUGE_SET_NAMES)[number];
export type CounterName = (typeof COUNTER_NAMES)[number];
export type CounterSetName = (typeof COUNTER_SET_NAMES)[number];
export type SummaryName = (typeof BASIC_SUMMARY_NAMES)[number] | (typeof ADVANCED_SUMMARY_NAMES)[number];
export type SummarySetName = (typeof BASIC_SUMMARY_SET_NAMES)[number] | (typeof ADVANCED_SUMMARY_SET_NAMES)[number];

/** Where each gauge reads its value when asked (never on the request path). */
export type GaugeReaders = Record<GaugeName, () => number | Promise<number>>;
/** Where each gauge set reads its per-key values when asked. */
export type GaugeSetReaders = Record<GaugeSetName, () => ReadonlyMap<string, number>>;
/** Counters another component keeps; read when asked instead of bumped here. */
export type CounterReaders = Partial<Record<CounterName, () => number>>;

/** One mntr/monitor entry: key without `zk_`, value, and whether Java would print it as a double. */
export type MonitorEntry = [key: string, value: number, isDouble: boolean];

type Entry =
  | { kind: 'gauge'; name: string; metric: Gauge<string> }
  | { kind: 'gaugeSet' | 'counterSet'; name: string; metric: Gauge<'key'> | Counter<'key'> }
  | { kind: 'counter'; name: string; metric: ZkCounter }
  | { kind: 'summary'; metric: ZkSummary | ZkSummarySet };

function record<K extends string, V>(names: readonly K[], make: (name: K) => V): Record<K, V> {
  const out = {} as Record<K, V>;
  for (const n of names) out[n] = make(n);
  return out;
}

export class ZkMetrics {
  readonly registry = new Registry();
  readonly counter: Readonly<Record<CounterName, ZkCounter>>;
  readonly counterSet: Readonly<Record<CounterSetName, Counter<'key'>>>;
  readonly summary: Readonly<Record<SummaryName, ZkSummary>>;
  readonly summarySet: Readonly<Record<SummarySetName, ZkSummarySet>>;
  private readonly entries: Entry[] = [];

  constructor(gauges: GaugeReaders, gaugeSets: GaugeSetReaders, counterReaders: CounterReaders = {}) {
    const registers = [this.registry];
    for (const name of GAUGE_NAMES) {
      const read = gauges[name];
      const metric = new Gauge({
        name, help: name, registers,
        async collect() {
          this.set(await read());
        },
      });
      this.entries.push({ kind: 'gauge', name, metric });
    }
    for (const name of GAUGE_SET_NAMES) {
      const read = gaugeSets[name];
      const metric = new Gauge({
        name, help: name, labelNames: ['key'] as const, registers,
        collect() {
          this.reset();
          for (const [key, v] of read()) this.set({ key }, v);
        },
      });
      this.entries.push({ kind: 'gaugeSet', name, metric });
    }
    this.counter = record(COUNTER_NAMES, (name) => {
      const counter = new ZkCounter(name, this.registry, counterReaders[name]);
      this.entries.push({ kind: 'counter', name, metric: counter });
      return counter;
    });
    this.counterSet = record(COUNTER_SET_NAMES, (name) => {
      const metric = new Counter({ name, help: name, labelNames: ['key'] as const, registers });
      this.entries.push({ kind: 'counterSet', name, metric });
      return metric;
    });
    const summaries = [
      ...BASIC_SUMMARY_NAMES.map((n) => [n, false] as const),
      ...ADVANCED_SUMMARY_NAMES.map((n) => [n, true] as const),
    ];
    const s = {} as Record<SummaryName, ZkSummary>;
    for (const [name, advanced] of summaries) {
      s[name] = new ZkSummary(name, advanced, this.registry);
      this.entries.push({ kind: 'summary', metric: s[name] });
    }
    this.summary = s;
    const sets = [
      ...BASIC_SUMMARY_SET_NAMES.map((n) => [n, false] as const),
      ...ADVANCED_SUMMARY_SET_NAMES.map((n) => [n, true] as const),
    ];
    const ss = {} as Record<SummarySetName, ZkSummarySet>;
    for (const [name, advanced] of sets) {
      ss[name] = new ZkSummarySet(name, advanced, this.registry);
      this.entries.push({ kind: 'summary', metric: ss[name] });
    }
    this.summarySet = ss;
  }

  /** srst: counters and summaries go back to zero; gauges read live state and are left alone. */
  resetAll(): void {
    for (const e of this.entries) if (e.kind !== 'gauge' && e.kind !== 'gaugeSet') e.metric.reset();
  }

  /** Every metric as mntr lists it after version and server_state. */
  async monitorEntries(): Promise<MonitorEntry[]> {
    const out: MonitorEntry[] = [];
    const sink = (k: string, v: number, d: boolean) => out.push([k, v, d]);
    for (const e of this.entries) {
      if (e.kind === 'summary') {
        e.metric.mntr(sink);
        continue;
      }
      if (e.kind === 'counter') {
        out.push([e.name, e.metric.value, false]);
        continue;
      }
      const values = (await e.metric.get()).values;
      if (e.kind === 'gauge') {
        out.push([e.name, values[0]?.value ?? 0, DOUBLE_GAUGES.has(e.name)]);
      } else {
        for (const v of values) out.push([`${v.labels.key}_${e.name}`, v.value, false]);
      }
    }
    return out;
  }

  /** Text exposition 0.0.4 as ZooKeeper's Prometheus provider writes it (Java simpleclient 0.9 layout). */
  async prometheus(): Promise<string> {
    let out = '';
    for (const m of await this.registry.getMetricsAsJSON()) {
      out += `# HELP ${m.name} ${escapeHelp(m.help)}\n# TYPE ${m.name} ${m.type}\n`;
      for (const v of m.values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
        const labels = Object.entries(v.labels);
        const l = labels.length ? `{${labels.map(([k, x]) => `${k}="${escapeLabel(String(x))}",`).join('')}}` : '';
        out += `${v.metricName ?? m.name}${l} ${promValue(v.value)}\n`;
      }
    }
    return out;
  }
}

/** mntr's text layout of one entry: Long as an integer, Double through Double.toString. */
export function mntrValue(value: number, isDouble: boolean): string {
  return isDouble ? javaDouble(value) : String(value);
}

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
