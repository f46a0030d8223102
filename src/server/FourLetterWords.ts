// Four-letter words: plain-text admin commands on the client port, with the whitelist.
// Layouts follow Apache ZooKeeper 3.8's output byte for byte where the vectors show it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from './Connection.js';
import type { ZkServer } from './ZkServer.js';
import { javaDate, javaDouble } from '../util/javaText.js';
import { ALL_FOUR_LETTER_WORDS } from '../config/ServerConfig.js';

export const VERSION = '3.8.0-zookeeper-ts-0.1.0, built on 2026-11-22 00:00 UTC';

const hex = (n: number | bigint) => '0x' + (typeof n === 'bigint' ? BigInt.asUintN(64, n) : n).toString(16);


function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      try {
        const st = fs.statSync(path.join(dir, f));
        if (st.isFile()) total += st.size;
      } catch {
        /* vanished */
      }
    }
  } catch {
    return 0;
  }
  return total;
}

export class FourLetterWords {
  private traceMask = 306n;

  constructor(private readonly server: ZkServer) {}

  isKnown(word: string): boolean {
    return (ALL_FOUR_LETTER_WORDS as readonly string[]).includes(word);
  }

  run(conn: Connection, word: string, rest: Buffer = Buffer.alloc(0)): void {
    conn.lastOp = 'NA';
    const allowed = this.server.config.fourLetterWords.has(word) || word === 'srvr';
    let out: string;
    if (!allowed) out = `${word} is not executed because it is not in the whitelist.\n`;
    else if (word === 'stmk') {
      // stmk carries an 8-byte mask after the word; it arrives in the same first chunk in practice.
      if (rest.length >= 8) this.traceMask = rest.readBigInt64BE(0);
      out = String(this.traceMask);
    } else out = this.render(word, conn);
    conn.socket.end(out);
    conn.close();
  }

  private dataDir(): string {
    return path.join(path.resolve(this.server.config.dataDir), 'version-2');
  }
  private logDir(): string {
    return path.join(path.resolve(this.server.config.dataLogDir), 'version-2');
  }

  render(word: string, self?: Connection): string {
    const s = this.server;
    switch (word) {
      case 'ruok':
        return 'imok';
      case 'isro':
        return 'rw';
      case 'gtmk':
        return String(this.traceMask);
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
      case 'dirs':
        return `datadir_size: ${dirSize(this.dataDir())}\nlogdir_size: ${dirSize(this.logDir())}\n`;
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
        return this.mntr();
      case 'hash':
        return s.db.tree.digestLog().map((d) => `${d.zxid.toString(16)}: ${d.digest}\n`).join('');
    }
    return '';
  }

  private serverSummary(withClients: boolean, self?: Connection): string {
    const s = this.server;
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
    out += 'Mode: standalone\n';
    out += `Node count: ${s.db.tree.nodeCount}\n`;
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

  private conf(): string {
    const c = this.server.config;
    return [
      `clientPort=${this.server.port || c.clientPort}`,
      'secureClientPort=-1',
      `dataDir=${this.dataDir()}`,
      `dataDirSize=${dirSize(this.dataDir())}`,
      `dataLogDir=${this.logDir()}`,
      `dataLogSize=${dirSize(this.logDir())}`,
      `tickTime=${c.tickTime}`,
      `maxClientCnxns=${c.maxClientCnxns}`,
      `minSessionTimeout=${c.minSessionTimeout}`,
      `maxSessionTimeout=${c.maxSessionTimeout}`,
      `clientPortListenBacklog=${c.clientPortListenBacklog}`,
      'serverId=0',
    ].join('\n') + '\n';
  }

  private envi(): string {
    const mem = process.memoryUsage();
    const mb = (n: number) => `${Math.floor(n / 1048576)}MB`;
    const lines = [
      `zookeeper.version=${VERSION}`,
      `host.name=${os.hostname()}`,
      `java.version=${process.version}`,
      'java.vendor=Node.js',
      `java.home=${path.dirname(path.dirname(process.execPath))}`,
      `java.class.path=${process.argv[1] ?? ''}`,
      'java.library.path=',
      `java.io.tmpdir=${os.tmpdir()}`,
      'java.compiler=<NA>',
      `os.name=${os.type()}`,
      `os.arch=${process.arch === 'x64' ? 'amd64' : process.arch}`,
      `os.version=${os.release()}`,
      `user.name=${os.userInfo().username}`,
      `user.home=${os.homedir()}`,
      `user.dir=${process.cwd()}`,
      `os.memory.free=${mb(mem.heapTotal - mem.heapUsed)}`,
      `os.memory.max=${mb(os.totalmem())}`,
      `os.memory.total=${mb(mem.heapTotal)}`,
    ];
    return 'Environment:\n' + lines.map((l) => l + '\n').join('');
  }

  private dump(): string {
    const s = this.server;
    const buckets = s.tracker.expiryBuckets();
    const nSessions = buckets.reduce((a, [, ids]) => a + ids.length, 0);
    let out = 'SessionTracker dump:\n';
    out += `Session Sets (${buckets.length})/(${nSessions}):\n`;
    for (const [t, ids] of buckets) {
      out += `${ids.length} expire at ${javaDate(t)}:\n` + ids.map((id) => `\t${hex(id)}\n`).join('');
    }
    const eph = [...s.db.tree.ephemerals.entries()];
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

  private mntr(): string {
    const s = this.server;
    const st = s.stats;
    let ephemerals = 0;
    for (const set of s.db.tree.ephemerals.values()) ephemerals += set.size;
    let fds = 0;
    try {
      fds = fs.readdirSync('/proc/self/fd').length;
    } catch {
      /* not Linux */
    }
    const rows: Array<[string, string | number]> = [
      ['version', VERSION],
      ['server_state', 'standalone'],
      ['avg_latency', javaDouble(st.avg)],
      ['max_latency', st.maxLatency],
      ['min_latency', st.min],
      ['packets_received', st.packetsReceived],
      ['packets_sent', st.packetsSent],
      ['num_alive_connections', s.connections.size],
      ['outstanding_requests', s.outstanding],
      ['znode_count', s.db.tree.nodeCount],
      ['watch_count', s.watches.totalWatches],
      ['ephemerals_count', ephemerals],
      ['approximate_data_size', s.db.tree.approximateDataSize],
      ['open_file_descriptor_count', fds],
      ['max_file_descriptor_count', 1048576],
      ['global_sessions', s.tracker.sessions.size],
      ['local_sessions', 0],
      ['uptime', Date.now() - s.startedAt],
      ['connection_drop_probability', '0.0'],
      ['last_client_response_size', st.lastResponseSize],
      ['max_client_response_size', st.maxResponseSize],
      ['min_client_response_size', st.minResponseSize],
      ['outstanding_tls_handshake', 0],
      ['auth_failed_count', st.authFailed],
      ['non_mtls_remote_conn_count', 0],
      ['non_mtls_local_conn_count', 0],
    ];
    return rows.map(([k, v]) => `zk_${k}\t${v}\n`).join('');
  }
}
