// AdminServer: ZooKeeper's HTTP command interface (/commands/<name> → JSON).
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { ZkServer } from './ZkServer.js';
import type { Connection } from './Connection.js';
import { VERSION } from './FourLetterWords.js';
import { handleConsole } from './Console.js';

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
type Command = { names: string[]; run: (s: ZkServer, args: URLSearchParams) => Json };

function connBrief(c: Connection): Json {
  return {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: c.established ? 1 : 0,
    outstanding_requests: c.inflight,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
}

export function connFull(c: Connection): Json {
  const avg = c.latencyCount ? c.totalLatency / c.latencyCount : 0;
  return {
    ...connBrief(c),
    session_id: '0x' + BigInt.asUintN(64, c.sessionId).toString(16),
    last_operation: c.lastOp,
    established: new Date(c.establishedAt).toISOString(),
    session_timeout: c.sessionTimeout,
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    last_response_time: c.lastResponseTime,
    last_latency: c.lastLatency,
    min_latency: c.latencyCount ? c.minLatency : 0,
    avg_latency: avg,
    max_latency: c.maxLatency,
  };
}

function serverStats(s: ZkServer): Json {
  const st = s.stats;
  return {
    version: VERSION,
    read_only: false,
    server_stats: {
      packets_sent: st.packetsSent,
      packets_received: st.packetsReceived,
      fsync_threshold_exceed_count: 0,
      client_response_stats: { last_buffer_size: st.lastResponseSize, min_buffer_size: st.minResponseSize, max_buffer_size: st.maxResponseSize },
      provider_null: false,
      server_state: 'standalone',
      last_processed_zxid: s.lastZxid,
      outstanding_requests: s.outstanding,
      avg_latency: st.avg,
      max_latency: st.maxLatency,
      min_latency: st.min,
      num_alive_client_connections: s.connections.size,
      uptime: Date.now() - s.startedAt,
      auth_failed_count: st.authFailed,
      non_mtlsremote_conn_count: 0,
      non_mtlslocal_conn_count: 0,
    },
    client_response: { last_buffer_size: st.lastResponseSize, min_buffer_size: st.minResponseSize, max_buffer_size: st.maxResponseSize },
    node_count: s.db.tree.nodeCount,
  };
}

/** mntr lines as JSON: numbers stay numbers. */
export function monitor(s: ZkServer): Json {
  const out: Json = {};
  for (const line of s.fourLetter.render('mntr').split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const key = line.substring(3, tab);
    const v = line.substring(tab + 1);
    out[key] = v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
  }
  return out;
}

const COMMANDS: Command[] = [
  { names: ['configuration', 'conf', 'config'], run: (s) => ({
    client_port: s.port, data_dir: s.config.dataDir, data_log_dir: s.config.dataLogDir, tick_time: s.config.tickTime,
    max_client_cnxns: s.config.maxClientCnxns, min_session_timeout: s.config.minSessionTimeout,
    max_session_timeout: s.config.maxSessionTimeout, server_id: 0, client_port_listen_backlog: s.config.clientPortListenBacklog,
  }) },
  { names: ['connection_stat_reset', 'crst'], run: (s) => (s.fourLetter.render('crst'), {}) },
  { names: ['connections', 'cons'], run: (s) => ({ connections: [...s.connections].map(connFull), secure_connections: [] }) },
  { names: ['dirs'], run: (s) => {
    const m = /datadir_size: (\d+)\nlogdir_size: (\d+)/.exec(s.fourLetter.render('dirs'));
    return { datadir_size: Number(m?.[1] ?? 0), logdir_size: Number(m?.[2] ?? 0) };
  } },
  { names: ['dump'], run: (s) => {
    const expiry: Json = {};
    for (const [t, ids] of s.tracker.expiryBuckets()) expiry[String(t)] = ids.map((i) => Number(i));
    const eph: Json = {};
    for (const [id, paths] of s.db.tree.ephemerals) eph[String(id)] = [...paths];
    return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: eph };
  } },
  { names: ['environment', 'env', 'envi'], run: (s) => {
    const out: Json = {};
    for (const line of s.fourLetter.render('envi').split('\n').slice(1)) {
      const eq = line.indexOf('=');
      if (eq > 0) out[line.substring(0, eq)] = line.substring(eq + 1);
    }
    return out;
  } },
  { names: ['get_trace_mask', 'gtmk'], run: () => ({ tracemask: 306 }) },
  { names: ['hash'], run: (s) => ({
    digests: s.db.tree.digestLog().map((d) => ({ zxid: d.zxid, digest: d.digest, digest_version: d.digestVersion })),
  }) },
  { names: ['initial_configuration', 'icfg'], run: (s) => ({
    initial_configuration: [...s.config.raw.entries()].map(([k, v]) => `${k}=${v}\n`).join(''),
  }) },
  { names: ['is_read_only', 'isro'], run: () => ({ read_only: false }) },
  { names: ['last_snapshot', 'lsnp'], run: () => ({ zxid: '0', timestamp: 0 }) },
  { names: ['leader', 'lead'], run: () => ({ error: 'server is not initialized' }) },
  { names: ['monitor', 'mntr'], run: (s) => monitor(s) },
  { names: ['ruok'], run: () => ({}) },
  { names: ['server_stats', 'srvr'], run: (s) => serverStats(s) },
  { names: ['stat_reset', 'srst'], run: (s) => (s.stats.reset(), {}) },
  { names: ['stats', 'stat'], run: (s) => ({ ...serverStats(s), connections: [...s.connections].map(connBrief), secure_connections: [] }) },
  { names: ['system_properties', 'sysp'], run: () => ({ 'os.name': os.type(), 'os.arch': process.arch, 'node.version': process.version }) },
  { names: ['voting_view'], run: () => ({ current_config: {} }) },
  { names: ['watch_summary', 'wchs'], run: (s) => {
    const [conns, paths, total] = s.watches.dataSummary();
    return { num_connections: conns, num_paths: paths, num_total_watches: total };
  } },
  { names: ['watches', 'wchc'], run: (s) => {
    const out: Json = {};
    for (const c of s.connections) {
      const paths = s.watches.dataPathsOf(c);
      if (paths.length) out[String(c.sessionId)] = paths;
    }
    return { session_id_to_watched_paths: out };
  } },
  { names: ['watches_by_path', 'wchp'], run: (s) => {
    const out: Json = {};
    for (const [p, m] of s.watches.dataWatchers()) out[p] = [...m.keys()].map((w) => Number((w as Connection).sessionId));
    return { path_to_session_ids: out };
  } },
  { names: ['zabstate'], run: () => ({ voting: false, zabstate: '' }) },
];

const byName = new Map<string, Command>();
for (const c of COMMANDS) for (const n of c.names) byName.set(n, c);

export class AdminServer {
  private http: http.Server | null = null;
  port = 0;

  constructor(private readonly zk: ZkServer) {}

  async start(): Promise<void> {
    const cfg = this.zk.config;
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
      handleConsole(this.zk, req, res, url);
      return;
    }
    if (url.pathname === base || url.pathname === base + '/') {
      const names = COMMANDS.map((c) => c.names[0]!).sort();
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(names.map((n) => `<a href="${base}/${n}">${n}</a><br/>\n`).join(''));
      return;
    }
    if (!url.pathname.startsWith(base + '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found\n');
      return;
    }
    const name = decodeURIComponent(url.pathname.substring(base.length + 1));
    const cmd = byName.get(name);
    let body: Json;
    if (!cmd) body = { command: name, error: `Unknown command: ${name}` };
    else if (!this.zk.running) body = { command: cmd.names[0], error: 'This ZooKeeper instance is not currently serving requests' };
    else {
      const out = cmd.run(this.zk, url.searchParams);
      const error = (out.error as string | undefined) ?? null;
      delete out.error;
      body = { ...out, command: cmd.names[0], error };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(toJson(body) + '\n');
  }

  async stop(): Promise<void> {
    if (!this.http) return;
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http!.close(() => r()));
    this.http = null;
  }
}
