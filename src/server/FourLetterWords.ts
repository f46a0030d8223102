// Four-letter words: plain-text admin commands on the client port, with the whitelist.
// Layouts follow Apache ZooKeeper 3.8's output byte for byte where the vectors show it.
// Words that touch disk (conf, dirs) or /proc (mntr) answer asynchronously: the connection stops
// reading, and the answer is written and the connection closed once it is ready.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from './Connection.js';
import type { ServerView } from './ServerView.js';
import { javaDate } from '../util/javaText.js';
import { javaDouble } from '../metrics/javaFormat.js';
import { GAUGE_NAMES, mntrValue } from '../metrics/ZkMetrics.js';
import { ALL_FOUR_LETTER_WORDS } from '../config/ServerConfig.js';
import { storageDirs } from './StorageSettings.js';

export const VERSION = '3.8.0-zookeeper-ts-0.1.0, built on 2026-11-22 00:00 UTC';

const hex = (n: number | bigint) => '0x' + (typeof n === 'bigint' ? BigInt.asUintN(64, n) : n).toString(16);

/** Bytes of the regular files directly in `dir` (0 if it cannot be read), without blocking. */
export async function dirSize(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  const sizes = await Promise.all(
    names.map((f) => fs.stat(path.join(dir, f)).then((st) => (st.isFile() ? st.size : 0), () => 0)),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** The snapshot and txn-log directories (…/version-2) as absolute paths. */
export function dataDirs(view: Pick<ServerView, 'config'>): { snapDir: string; logDir: string } {
  const d = storageDirs(view.config);
  return { snapDir: path.resolve(d.snapDir), logDir: path.resolve(d.logDir) };
}

/**
 * A quorum member's state and Zab phase as QuorumPeer.getDetailedPeerState words it
 * ("following - broadcast"); the phase is left out while electing.
 */
export function peerState(role: string, zab: string): string {
  const state = role === 'leader' ? 'leading' : role === 'follower' ? 'following' : role === 'observer' ? 'observing' : 'looking';
  return zab === 'election' ? state : `${state} - ${zab}`;
}

/**
 * The gauge section of a leader's mntr as Apache ZooKeeper 3.8 lists it: LeaderZooKeeperServer's
 * gauges and quorum_size join the registry's gauge map and come out in its hash order (recorded
 * from a live 3.8 leader), not after the standalone gauges.
 */
const LEADER_GAUGE_ORDER = [
  'ephemerals_count', 'num_alive_connections', 'avg_latency', 'min_proposal_size', 'outstanding_requests', 'znode_count',
  'global_sessions', 'non_mtls_remote_conn_count', 'last_client_response_size', 'packets_sent', 'packets_received',
  'max_proposal_size', 'max_client_response_size', 'synced_followers', 'connection_drop_probability', 'watch_count',
  'synced_non_voting_followers', 'synced_observers', 'auth_failed_count', 'min_latency', 'max_file_descriptor_count',
  'approximate_data_size', 'open_file_descriptor_count', 'last_proposal_size', 'pending_syncs', 'leader_uptime',
  'local_sessions', 'uptime', 'max_latency', 'outstanding_tls_handshake', 'learners', 'min_client_response_size',
  'non_mtls_local_conn_count', 'quorum_size',
] as const;

/**
 * mntr: version and state (and a member's peer state), then every registry metric in ZooKeeper's
 * order; a member adds quorum_size to the gauges (followers and observers at their end), a leader
 * its learner and proposal gauges.
 */
export async function monitorRows(view: ServerView): Promise<Array<[string, string | number, boolean]>> {
  const rows: Array<[string, string | number, boolean]> = [['version', VERSION, false], ['server_state', view.role, false]];
  const quorum = view.quorumInfo?.() ?? null;
  const entries = await view.stats.metrics.monitorEntries();
  if (!quorum) {
    for (const e of entries) rows.push(e);
    return rows;
  }
  rows.push(['peer_state', peerState(view.role, quorum.zabState), false]);
  if (view.role === 'observer' && quorum.leaderId !== null) rows.push(['observer_master_id', quorum.leaderId, false]);
  const gauges = entries.slice(0, GAUGE_NAMES.length);
  const rest = entries.slice(GAUGE_NAMES.length);
  const quorumSize = quorum.members.filter((m) => m.type === 'participant').length;
  const lead = view.role === 'leader' ? view.leaderFigures?.() ?? null : null;
  if (lead) {
    // LeaderZooKeeperServer's gauges (3.8 names; 3.4's zk_followers became zk_learners).
    const p = view.proposalSizes?.() ?? { last: -1, min: -1, max: -1 };
    const extra = new Map<string, number>([
      ['learners', lead.learners], ['synced_followers', lead.syncedFollowers],
      ['synced_non_voting_followers', lead.syncedNonVotingFollowers], ['synced_observers', lead.syncedObservers],
      ['pending_syncs', lead.pendingSyncs], ['leader_uptime', lead.leaderUptimeMs],
      ['last_proposal_size', p.last], ['max_proposal_size', p.max], ['min_proposal_size', p.min], ['quorum_size', quorumSize],
    ]);
    const byName = new Map(gauges.map((g) => [g[0], g]));
    for (const name of LEADER_GAUGE_ORDER) rows.push(byName.get(name) ?? [name, extra.get(name)!, false]);
  } else {
    rows.push(...gauges, ['quorum_size', quorumSize, false]);
  }
  rows.push(...rest);
  return rows;
}

export class FourLetterWords {
  constructor(private readonly view: ServerView) {}

  isKnown(word: string): boolean {
    return (ALL_FOUR_LETTER_WORDS as readonly string[]).includes(word);
  }

  run(conn: Connection, word: string, rest: Buffer = Buffer.alloc(0)): void {
    conn.lastOp = 'NA';
    // ZooKeeper counts the word as a received 4-byte packet before running it.
    this.view.stats.recordPacketReceived(4);
    // Nothing more is read from this peer: the reply is the last thing on the connection.
    conn.pauseReading('4lw');
    this.answer(conn, word, rest).then(
      (out) => {
        if (!conn.closed) conn.socket.end(out);
        conn.close();
      },
      () => {
        // A failed word answers nothing, like a word the server does not run.
        conn.close();
      },
    );
  }

  private answer(conn: Connection, word: string, rest: Buffer): Promise<string> {
    const allowed = this.view.config.fourLetterWords.has(word) || word === 'srvr';
    if (!allowed) return Promise.resolve(`${word} is not executed because it is not in the whitelist.\n`);
    if (word === 'stmk') {
      // stmk carries an 8-byte mask after the word; it arrives in the same first chunk in practice.
      if (rest.length >= 8) this.view.traceMask = rest.readBigInt64BE(0);
      return Promise.resolve(String(this.view.traceMask));
    }
    return this.render(word, conn);
  }

  async render(word: string, self?: Connection): Promise<string> {
    const s = this.view;
    switch (word) {
      case 'ruok':
        return 'imok';
      case 'isro':
        return 'rw';
      case 'gtmk':
        return String(s.traceMask);
      case 'srvr':
        return this.serverSummary(false, self);
      case 'stat':
        return this.serverSummary(true, self);
      case 'cons':
        return [...s.connections].map((c) => this.consLine(c)).join('') + '\n';
      case 'crst':
        for (const c of s.connections) c.resetStats();
        return 'Connection stats reset.\n';
      case 'srst':
        s.stats.reset();
        return 'Server stats reset.\n';
      case 'conf':
        return this.conf();
      case 'dirs': {
        const { snapDir, logDir } = dataDirs(s);
        const [data, log] = await Promise.all([dirSize(snapDir), dirSize(logDir)]);
        return `datadir_size: ${data}\nlogdir_size: ${log}\n`;
      }
      case 'envi':
        return this.envi();
      case 'dump':
        return this.dump();
      case 'wchs': {
        const [conns, paths, total] = s.watches.dataSummary();
        return `${conns} connections watching ${paths} paths\nTotal watches:${total}\n`;
      }
      case 'wchc': {
        let out = '';
        for (const c of s.connections) {
          const paths = s.watches.dataPathsOf(c);
          if (!paths.length) continue;
          out += `${hex(c.sessionId)}\n` + paths.map((p) => `\t${p}\n`).join('');
        }
        return out + '\n';
      }
      case 'wchp': {
        let out = '';
        for (const [p, m] of s.watches.dataWatchers()) {
          out += `${p}\n`;
          for (const w of m.keys()) out += `\t${hex((w as Connection).sessionId)}\n`;
        }
        return out + '\n';
      }
      case 'mntr':
        return (await monitorRows(s)).map(([k, v, d]) => `zk_${k}\t${typeof v === 'string' ? v : mntrValue(v, d)}\n`).join('');
      case 'hash':
        return s.tree.digestLog().map((d) => `${d.zxid.toString(16)}: ${d.digest}\n`).join('');
    }
    return '';
  }

  private serverSummary(withClients: boolean, self?: Connection): string {
    const s = this.view;
    const st = s.stats;
    let out = `Zookeeper version: ${VERSION}\n`;
    if (withClients) {
      out += 'Clients:\n';
      for (const c of s.connections) out += this.briefLine(c, c === self) + '\n';
      out += '\n';
    }
    out += `Latency min/avg/max: ${st.min}/${javaDouble(st.avg)}/${st.maxLatency}\n`;
    out += `Received: ${st.packetsReceived}\n`;
    out += `Sent: ${st.packetsSent}\n`;
    out += `Connections: ${s.connections.size}\n`;
    out += `Outstanding: ${s.outstanding}\n`;
    out += `Zxid: ${hex(s.lastZxid)}\n`;
    out += `Mode: ${s.role}\n`;
    out += `Node count: ${s.tree.nodeCount}\n`;
    if (s.role === 'leader') {
      const p = s.proposalSizes?.() ?? { last: -1, min: -1, max: -1 };
      out += `Proposal sizes last/min/max: ${p.last}/${p.min}/${p.max}\n`;
    }
    return out;
  }

  private briefLine(c: Connection, isSelf = false): string {
    const ops = c.established && !isSelf ? 1 : 0;
    return ` /${c.remoteAddress}:${c.remotePort}[${ops}](queued=${c.inflight},recved=${c.packetsReceived + (isSelf ? 1 : 0)},sent=${c.packetsSent}`
      + ')';
  }

  private consLine(c: Connection): string {
    let line = this.briefLine(c).slice(0, -1);
    if (c.established) {
      const avg = c.latencyCount ? Math.floor(c.totalLatency / c.latencyCount) : 0;
      line += `,sid=${hex(c.sessionId)},lop=${c.lastOp},est=${c.establishedAt},to=${c.sessionTimeout}`;
      if (c.lastCxid >= 0) line += `,lcxid=${hex(c.lastCxid)}`;
      line += `,lzxid=${hex(c.lastZxid < 0 ? -1 : c.lastZxid)}`;
      line += `,lresp=${c.lastResponseTime},llat=${c.lastLatency},minlat=${c.latencyCount ? c.minLatency : 0},avglat=${avg},maxlat=${c.maxLatency}`;
    }
    return line + ')\n';
  }

  private async conf(): Promise<string> {
    const s = this.view;
    const c = s.config;
    const { snapDir, logDir } = dataDirs(s);
    const [dataSize, logSize] = await Promise.all([dirSize(snapDir), dirSize(logDir)]);
    return [
      `clientPort=${s.port || c.clientPort}`,
      'secureClientPort=-1',
      `dataDir=${snapDir}`,
      `dataDirSize=${dataSize}`,
      `dataLogDir=${logDir}`,
      `dataLogSize=${logSize}`,
      `tickTime=${c.tickTime}`,
      `maxClientCnxns=${c.maxClientCnxns}`,
      `minSessionTimeout=${c.minSessionTimeout}`,
      `maxSessionTimeout=${c.maxSessionTimeout}`,
      `clientPortListenBacklog=${c.clientPortListenBacklog}`,
      `serverId=${s.myid}`,
    ].join('\n') + '\n';
  }

  private envi(): string {
    return 'Environment:\n' + environment().map(([k, v]) => `${k}=${v}\n`).join('');
  }

  private dump(): string {
    const s = this.view;
    const buckets = s.tracker.expiryBuckets();
    const nSessions = buckets.reduce((a, [, ids]) => a + ids.length, 0);
    let out = 'SessionTracker dump:\n';
    out += `Session Sets (${buckets.length})/(${nSessions}):\n`;
    for (const [t, ids] of buckets) {
      out += `${ids.length} expire at ${javaDate(t)}:\n` + ids.map((id) => `\t${hex(id)}\n`).join('');
    }
    const eph = [...s.tree.ephemerals.entries()];
    out += 'ephemeral nodes dump:\n';
    out += `Sessions with Ephemerals (${eph.length}):\n`;
    for (const [id, paths] of eph) out += `${hex(id)}:\n` + [...paths].sort().map((p) => `\t${p}\n`).join('');
    const conns = [...s.connections];
    out += 'Connections dump:\n';
    out += `Connections Sets (${conns.length})/(${conns.length}):\n`;
    for (const c of conns) {
      const at = c.lastRecvAt + (c.established ? c.sessionTimeout : 10000);
      out += `1 expire at ${javaDate(at)}:\n\tip: /${c.remoteAddress}:${c.remotePort} sessionId: ${hex(c.sessionId)}\n`;
    }
    return out;
  }
}

/** envi's key=value pairs (Environment.list in ZooKeeper), with Node.js standing in for the JVM. */
export function environment(): Array<[string, string]> {
  const mem = process.memoryUsage();
  const mb = (n: number) => `${Math.floor(n / 1048576)}MB`;
  return [
    ['zookeeper.version', VERSION],
    ['host.name', os.hostname()],
    ['java.version', process.version],
    ['java.vendor', 'Node.js'],
    ['java.home', path.dirname(path.dirname(process.execPath))],
    ['java.class.path', process.argv[1] ?? ''],
    ['java.library.path', ''],
    ['java.io.tmpdir', os.tmpdir()],
    ['java.compiler', '<NA>'],
    ['os.name', os.type()],
    ['os.arch', process.arch === 'x64' ? 'amd64' : process.arch],
    ['os.version', os.release()],
    ['user.name', os.userInfo().username],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(mem.heapTotal - mem.heapUsed)],
    ['os.memory.max', mb(os.totalmem())],
    ['os.memory.total', mb(mem.heapTotal)],
  ];
}
