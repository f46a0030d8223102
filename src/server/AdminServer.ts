// AdminServer: ZooKeeper's HTTP command interface (/commands/<name> → JSON), with Apache
// ZooKeeper 3.8's command names (Commands.java). The ensemble commands (leader, zabstate,
// voting_view, observers) show a member's quorum through ServerView.quorumInfo and a standalone
// ZooKeeper's answers without one. Commands may answer asynchronously (dirs, last_snapshot, monitor).
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QuorumInfo, QuorumMemberInfo, ServerView } from './ServerView.js';
import type { Connection } from './Connection.js';
import { VERSION, dataDirs, dirSize, environment, monitorRows } from './FourLetterWords.js';
import { closeConsole, connBrief, connFull, handleConsole } from './Console.js';
import { BackupCommands } from './Backup.js';

type Json = Record<string, unknown>;

/**
 * JSON.stringify that writes bigints as exact JSON numbers (Java longs such as tree digests can
 * exceed 2^53). Each bigint becomes a unique string token first, then the quoted token is
 * replaced by the digits.
 */
function toJson(body: unknown): string {
  const token = `__bigint_${process.hrtime.bigint()}_`;
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? `${token}${v}` : v), 2);
  return text.replace(new RegExp(`"${token}(-?\\d+)"`, 'g'), '$1');
}

type Command = {
  names: string[];
  /** Refused while the server is not serving (CommandBase.serverRequired). */
  serverRequired: boolean;
  run: (v: ServerView, args: URLSearchParams) => Json | Promise<Json>;
};

const hexZxid = (z: number): string => z.toString(16);

/** Java's Long.parseLong: optional sign, decimal digits, within 64 bits; null otherwise. */
export function parseJavaLong(s: string | null): bigint | null {
  if (s === null || !/^[+-]?\d+$/.test(s)) return null;
  const v = BigInt(s);
  return v >= -(1n << 63n) && v < 1n << 63n ? v : null;
}

/** A Java long for the JSON body: a number when a double holds it exactly, else a bigint toJson writes exactly. */
const jsonLong = (v: bigint): number | bigint => (BigInt(Number(v)) === v ? Number(v) : v);

async function serverStats(v: ServerView): Promise<Json> {
  const st = v.stats;
  const { snapDir, logDir } = dataDirs(v);
  const [dataSize, logSize] = await Promise.all([dirSize(snapDir), dirSize(logDir)]);
  const clientResponse = { last_buffer_size: st.clientResponse.last, min_buffer_size: st.clientResponse.min, max_buffer_size: st.clientResponse.max };
  return {
    version: VERSION,
    read_only: false,
    server_stats: {
      packets_sent: st.packetsSent,
      packets_received: st.packetsReceived,
      fsync_threshold_exceed_count: st.fsyncThresholdExceedCount,
      client_response_stats: clientResponse,
      provider_null: false,
      server_state: v.role,
      outstanding_requests: v.outstanding,
      last_processed_zxid: v.lastZxid,
      avg_latency: st.avg,
      max_latency: st.maxLatency,
      min_latency: st.min,
      num_alive_client_connections: v.connections.size,
      uptime: st.uptime,
      data_dir_size: dataSize,
      log_dir_size: logSize,
      auth_failed_count: st.authFailed,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: clientResponse,
    node_count: v.tree.nodeCount,
  };
}

/** /commands/monitor: mntr's entries as JSON, numbers staying numbers. */
export async function monitor(v: ServerView): Promise<Json> {
  const out: Json = {};
  for (const [k, val] of await monitorRows(v)) out[k] = val;
  return out;
}

async function lastSnapshot(v: ServerView): Promise<Json> {
  const snap = v.lastSnapshot?.() ?? null;
  if (!snap) return { zxid: hexZxid(-1), timestamp: -1 };
  // FileSnap records the file's modification time in seconds.
  let timestamp = -1;
  try {
    timestamp = Math.floor((await fs.stat(snap.path)).mtimeMs / 1000);
  } catch {
    /* purged since; the zxid is still the newest snapshot this server knows of */
  }
  return { zxid: hexZxid(snap.zxid), timestamp };
}

function setTraceMask(v: ServerView, args: URLSearchParams): Json {
  const raw = args.get('traceMask');
  if (raw === null) return { error: 'setTraceMask requires long traceMask argument' };
  const mask = parseJavaLong(raw);
  if (mask === null) return { error: `setTraceMask requires long traceMask argument, got ${raw}` };
  v.traceMask = mask;
  return { tracemask: jsonLong(mask) };
}

/** Jackson's rendering of an InetSocketAddress: host:port, an IPv6 literal in brackets. */
export function socketAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Jackson's rendering of Apache's MultipleAddresses (every bean getter becomes a key). We do not
 * probe reachability as Apache's ICMP check does: every configured address counts as reachable,
 * which is what Apache shows for addresses it can reach.
 */
function multipleAddresses(addrs: { host: string; port: number }[]): Json {
  const all = addrs.map((a) => socketAddress(a.host, a.port));
  const first = all[0] ?? null;
  return {
    empty: all.length === 0,
    all_addresses: all,
    all_reachable_addresses: all,
    one: first,
    reachable_address: first,
    wildcard_addresses: addrs.map((a) => socketAddress('0.0.0.0', a.port)),
    all_ports: [...new Set(addrs.map((a) => a.port))],
    all_host_strings: [...new Set(addrs.map((a) => a.host))],
    all_reachable_addresses_or_all: all,
    reachable_or_one: first,
  };
}

/** The client address a member line names; this member's own is the bound one (as Apache's QuorumPeer sets it). */
function memberClientAddress(v: ServerView, q: QuorumInfo, m: QuorumMemberInfo): string {
  if (m.sid === q.myid) return socketAddress(v.config.clientPortAddress, v.port);
  return m.clientPort !== undefined ? socketAddress(m.clientHost ?? '0.0.0.0', m.clientPort) : '';
}

function leaderCommand(v: ServerView): Json {
  const q = v.quorumInfo?.() ?? null;
  if (!q) return { error: 'server is not initialized' };
  const leader = q.members.find((m) => m.sid === q.leaderId);
  return { is_leader: v.role === 'leader', leader_id: q.leaderId ?? -1, leader_ip: leader?.addresses[0]?.host ?? '' };
}

function zabState(v: ServerView): Json {
  const q = v.quorumInfo?.() ?? null;
  if (!q) return { voting: false, zabstate: '' };
  const me = q.members.find((m) => m.sid === q.myid);
  const zxid = BigInt.asIntN(64, BigInt(v.lastZxid));
  return {
    // The member's myid even while it elects (v.myid says 0 until a role starts).
    myid: q.myid,
    is_leader: v.role === 'leader',
    quorum_address: multipleAddresses((me?.addresses ?? []).map((a) => ({ host: a.host, port: a.quorumPort }))),
    election_address: multipleAddresses((me?.addresses ?? []).map((a) => ({ host: a.host, port: a.electionPort }))),
    client_address: socketAddress(v.config.clientPortAddress, v.port),
    voting: me?.type === 'participant',
    last_zxid: '0x' + BigInt.asUintN(64, zxid).toString(16),
    zab_epoch: jsonLong(zxid >> 32n),
    zab_counter: jsonLong(zxid & 0xffffffffn),
    zabstate: q.zabState,
  };
}

function votingView(v: ServerView): Json {
  const q = v.quorumInfo?.() ?? null;
  const current: Json = {};
  for (const m of q?.members ?? []) {
    if (m.type !== 'participant') continue;
    current[String(m.sid)] = {
      server_addresses: m.addresses.map((a) => socketAddress(a.host, a.quorumPort)),
      election_addresses: m.addresses.map((a) => socketAddress(a.host, a.electionPort)),
      client_address: memberClientAddress(v, q!, m),
      learner_type: m.type,
    };
  }
  return { current_config: current };
}

/** A leader's synced observers; followers and observers have none (ours relay no observers). */
function observersCommand(v: ServerView): Json {
  const q = v.quorumInfo?.() ?? null;
  const synced = v.role === 'leader' && q ? q.observers.filter((o) => o.synced) : [];
  return {
    synced_observers: synced.length,
    observers: synced.map((o) => ({
      remote_socket_address: o.remoteAddress, sid: o.sid, established: o.established, queued_packets: o.queuedPackets,
      queued_packets_size: o.queuedBytes, packets_received: o.packetsReceived, packets_sent: o.packetsSent,
      requests: o.requests, last_zxid: jsonLong(o.lastZxid),
    })),
  };
}

const COMMANDS: Command[] = [
  { names: ['connection_stat_reset', 'crst'], serverRequired: true, run: (v) => {
    for (const c of v.connections) c.resetStats();
    return {};
  } },
  { names: ['configuration', 'conf', 'config'], serverRequired: true, run: (v) => {
    const { snapDir, logDir } = dataDirs(v);
    const c = v.config;
    return {
      client_port: v.port, data_dir: snapDir, data_log_dir: logDir, tick_time: c.tickTime,
      max_client_cnxns: c.maxClientCnxns, min_session_timeout: c.minSessionTimeout,
      max_session_timeout: c.maxSessionTimeout, server_id: v.myid, client_port_listen_backlog: c.clientPortListenBacklog,
    };
  } },
  { names: ['connections', 'cons'], serverRequired: true, run: (v) => ({ connections: [...v.connections].map(connFull), secure_connections: [] }) },
  { names: ['hash'], serverRequired: true, run: (v) => ({
    digests: v.tree.digestLog().map((d) => ({ zxid: d.zxid, digest: d.digest, digest_version: d.digestVersion })),
  }) },
  { names: ['dirs'], serverRequired: true, run: async (v) => {
    const { snapDir, logDir } = dataDirs(v);
    const [datadir_size, logdir_size] = await Promise.all([dirSize(snapDir), dirSize(logDir)]);
    return { datadir_size, logdir_size };
  } },
  { names: ['dump'], serverRequired: true, run: (v) => {
    const expiry: Json = {};
    for (const [t, ids] of v.tracker.expiryBuckets()) expiry[String(t)] = ids.map((i) => Number(i));
    const eph: Json = {};
    for (const [id, paths] of v.tree.ephemerals) eph[String(id)] = [...paths];
    return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: eph };
  } },
  { names: ['environment', 'env', 'envi'], serverRequired: false, run: () => Object.fromEntries(environment()) },
  { names: ['get_trace_mask', 'gtmk'], serverRequired: false, run: (v) => ({ tracemask: jsonLong(v.traceMask) }) },
  { names: ['initial_configuration', 'icfg'], serverRequired: true, run: (v) => ({
    initial_configuration: [...v.config.raw.entries()].map(([k, val]) => `${k}=${val}\n`).join(''),
  }) },
  { names: ['is_read_only', 'isro'], serverRequired: true, run: () => ({ read_only: false }) },
  { names: ['last_snapshot', 'lsnp'], serverRequired: true, run: lastSnapshot },
  // Ensemble commands: real values on a member, a standalone ZooKeeper's answers otherwise.
  { names: ['leader', 'lead'], serverRequired: true, run: leaderCommand },
  { names: ['monitor', 'mntr'], serverRequired: false, run: monitor },
  { names: ['observer_connection_stat_reset', 'orst'], serverRequired: true, run: (v) => {
    v.resetObserverStats?.();
    return {};
  } },
  { names: ['ruok'], serverRequired: true, run: () => ({}) },
  { names: ['set_trace_mask', 'stmk'], serverRequired: false, run: setTraceMask },
  { names: ['server_stats', 'srvr'], serverRequired: true, run: serverStats },
  { names: ['stats', 'stat'], serverRequired: true, run: async (v) => ({
    ...(await serverStats(v)), connections: [...v.connections].map(connBrief), secure_connections: [],
  }) },
  { names: ['stat_reset', 'srst'], serverRequired: true, run: (v) => (v.stats.reset(), {}) },
  { names: ['observers', 'obsr'], serverRequired: true, run: observersCommand },
  { names: ['system_properties', 'sysp'], serverRequired: false, run: () => {
    // Java's System.getProperties, sorted; Node has no such table, so: its environment description.
    const props = Object.fromEntries(environment().filter(([k]) => k !== 'zookeeper.version' && !k.startsWith('os.memory')));
    return Object.fromEntries(Object.entries({ ...props, 'node.version': process.version }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  } },
  { names: ['voting_view'], serverRequired: true, run: votingView },
  { names: ['watches', 'wchc'], serverRequired: true, run: (v) => {
    const out: Json = {};
    for (const c of v.connections) {
      const paths = v.watches.dataPathsOf(c);
      if (paths.length) out[String(c.sessionId)] = paths;
    }
    return { session_id_to_watched_paths: out };
  } },
  { names: ['watches_by_path', 'wchp'], serverRequired: true, run: (v) => {
    const out: Json = {};
    for (const [p, m] of v.watches.dataWatchers()) out[p] = [...m.keys()].map((w) => Number((w as Connection).sessionId));
    return { path_to_session_ids: out };
  } },
  { names: ['watch_summary', 'wchs'], serverRequired: true, run: (v) => {
    const [conns, paths, total] = v.watches.dataSummary();
    return { num_connections: conns, num_paths: paths, num_total_watches: total };
  } },
  { names: ['zabstate'], serverRequired: false, run: zabState },
];

/** Primary command names, as /commands lists them. */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.names[0]!);

const byName = new Map<string, Command>();
for (const c of COMMANDS) for (const n of c.names) byName.set(n, c);

const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/**
 * Why the server does not serve clients now, or null when it does. Standalone: started and its
 * storage has not failed (a failed log stops acknowledging writes before `running` turns false).
 * An ensemble member additionally needs an established role (ZooKeeperServer.isRunning is false
 * on a peer that is electing or not yet synced).
 */
export function notServingReason(view: ServerView): string | null {
  if (view.fatalError) return `storage failed: ${view.fatalError.message}`;
  if (!view.running) return 'not running';
  if (view.serving === false) return 'no established quorum role (electing or syncing with the leader)';
  return null;
}

/** Commands.runCommand: the JSON body for `name`, with `command` and `error` always present. */
export async function runCommand(view: ServerView, name: string, args: URLSearchParams): Promise<Json> {
  const cmd = byName.get(name);
  if (!cmd) return { command: name, error: `Unknown command: ${name}` };
  if (cmd.serverRequired && notServingReason(view) !== null) return { command: name, error: NOT_SERVING };
  let out: Json;
  try {
    out = await cmd.run(view, args);
  } catch (e) {
    return { command: cmd.names[0], error: `command failed: ${(e as Error).message}` };
  }
  const error = (out.error as string | undefined) ?? null;
  delete out.error;
  return { ...out, command: cmd.names[0], error };
}

/** The readiness endpoint (Kubernetes' readinessProbe httpGet path, a load balancer's health check). */
export const READY_PATH = '/ready';

/**
 * HTTP status of a command's answer. Apache 3.8 answers 200 whatever happened, and scripts that
 * read the JSON keep working; a health check reads only the status, so ruok, the one command
 * probes use, says 503 when the server does not serve (body unchanged: Apache's JSON).
 */
function commandStatus(name: string, body: Json): number {
  if (name === 'ruok' && body.error !== null) return 503;
  return 200;
}

export class AdminServer {
  private http: http.Server | null = null;
  port = 0;
  /** The streaming commands (snapshot, txns) that back a running server up. */
  readonly backup: BackupCommands;

  constructor(private readonly view: ServerView) {
    this.backup = new BackupCommands(view);
  }

  async start(): Promise<void> {
    const cfg = this.view.config;
    const base = cfg.adminCommandURL.replace(/\/+$/, '');
    this.http = http.createServer((req, res) => this.handle(base, req, res));
    this.http.keepAliveTimeout = 30000;
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(cfg.adminServerPort, cfg.adminServerAddress, () => resolve());
    });
    this.port = (this.http.address() as AddressInfo).port;
  }

  private handle(base: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
      handleConsole(this.view, req, res, url);
      return;
    }
    if (url.pathname === READY_PATH) {
      this.ready(res);
      return;
    }
    if (url.pathname === base || url.pathname === base + '/') {
      const names = [...COMMAND_NAMES].sort();
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(names.map((n) => `<a href="${base}/${n}">${n}</a><br/>\n`).join(''));
      return;
    }
    if (!url.pathname.startsWith(base + '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found\n');
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(url.pathname.substring(base.length + 1));
    } catch {
      name = url.pathname.substring(base.length + 1);
    }
    if (this.backup.handle(name, req, res, url.searchParams, notServingReason(this.view))) return;
    void runCommand(this.view, name, url.searchParams).then((body) => {
      res.writeHead(commandStatus(name, body), { 'content-type': 'application/json' });
      res.end(toJson(body) + '\n');
    });
  }

  /**
   * Readiness for load balancers and Kubernetes probes: 200 while the server serves clients,
   * 503 otherwise, with the reason and what a probe log wants to show. Outside /commands so the
   * command list stays Apache's; GET and HEAD alike (Node sends no body for HEAD).
   */
  private ready(res: http.ServerResponse): void {
    const reason = notServingReason(this.view);
    const body = {
      ready: reason === null,
      reason,
      server_state: this.view.role,
      last_zxid: this.view.lastZxid,
      client_port: this.view.port,
    };
    res.writeHead(reason === null ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(toJson(body) + '\n');
  }

  async stop(): Promise<void> {
    if (!this.http) return;
    await closeConsole(this.view); // console logins hold ZooKeeper sessions of their own
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http!.close(() => r()));
    this.http = null;
  }
}
