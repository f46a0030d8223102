// What the console's charts and ensemble view show. Chart figures are read from the same metrics
// registry mntr and /metrics read (ServerStats.metrics), never computed separately; the browser
// turns cumulative counts into rates. The ensemble view is this member's quorum information,
// completed by asking each other member's client port for `srvr` (its own Mode and Zxid) when
// its server.N line names a client address.
import net from 'node:net';
import type { ServerView, QuorumMemberInfo } from '../ServerView.js';

const hex = (n: number | bigint): string => '0x' + BigInt.asUintN(64, BigInt(n)).toString(16);

/** One sample of the live figures. */
export async function chartSample(view: ServerView): Promise<Record<string, unknown>> {
  const m = new Map<string, number | string>();
  for (const [k, v] of await view.stats.metrics.monitorEntries()) m.set(k, v);
  const num = (k: string): number => {
    const v = m.get(k);
    return typeof v === 'number' ? v : Number(v ?? 0) || 0;
  };
  return {
    t: Date.now(),
    // Requests answered so far (reads + writes): the registry's latency summaries count each one.
    requests: num('cnt_readlatency') + num('cnt_updatelatency'),
    packets_received: num('packets_received'),
    read_p50: num('p50_readlatency'),
    read_p95: num('p95_readlatency'),
    read_p99: num('p99_readlatency'),
    write_p50: num('p50_updatelatency'),
    write_p95: num('p95_updatelatency'),
    write_p99: num('p99_updatelatency'),
    avg_latency: num('avg_latency'),
    outstanding_requests: num('outstanding_requests'),
    connections: num('num_alive_connections'),
    sessions: num('global_sessions') + num('local_sessions'),
    watches: num('watch_count'),
    znodes: num('znode_count'),
    zxid: hex(view.lastZxid),
    server_state: view.role,
  };
}

export interface MemberRow {
  sid: number;
  self: boolean;
  type: 'participant' | 'observer' | 'standalone';
  /** leader / follower / observer / standalone as the member says (srvr), or 'leader' from this member's view; null when unknown. */
  role: string | null;
  address: string;
  clientAddress: string | null;
  zxid: string | null;
  /** Transactions behind the highest zxid seen in the same epoch; null when not comparable or unknown. */
  lag: number | null;
  /** Where the row's role/zxid came from. */
  source: 'self' | 'srvr' | 'quorum' | 'unreachable';
  error?: string;
}

/** `srvr` against host:port, bounded by `timeoutMs`; resolves with Mode and Zxid or rejects. */
export function probeSrvr(host: string, port: number, timeoutMs = 1000): Promise<{ mode: string; zxid: bigint }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    sock.on('connect', () => sock.write('srvr'));
    sock.on('data', (d) => {
      size += d.length;
      if (size > 64 * 1024) sock.destroy();
      else chunks.push(d);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks).toString('utf8');
      const mode = /Mode: (\w+)/.exec(out)?.[1];
      const zxid = /Zxid: (0x[0-9a-fA-F]+)/.exec(out)?.[1];
      if (!mode || !zxid) reject(new Error(out.trim().split('\n')[0] || 'no srvr answer'));
      else resolve({ mode, zxid: BigInt(zxid) });
    });
  });
}

function clientHostOf(m: QuorumMemberInfo): string | null {
  if (m.clientPort === undefined || m.clientPort === 0) return null;
  const h = m.clientHost && m.clientHost !== '0.0.0.0' ? m.clientHost : m.addresses[0]?.host ?? '127.0.0.1';
  return h;
}

export async function ensembleView(view: ServerView): Promise<Record<string, unknown>> {
  const q = view.quorumInfo?.() ?? null;
  const me = BigInt(view.lastZxid);
  if (!q) {
    const row: MemberRow = {
      sid: view.myid, self: true, type: 'standalone', role: view.role, address: '-',
      clientAddress: `${view.config.clientPortAddress}:${view.port}`, zxid: hex(me), lag: 0, source: 'self',
    };
    return { standalone: true, myid: view.myid, leaderId: null, zabState: null, members: [row] };
  }
  const rows: MemberRow[] = await Promise.all(q.members.map(async (m): Promise<MemberRow> => {
    const a = m.addresses[0];
    const address = a ? `${a.host}:${a.quorumPort}:${a.electionPort}` : '-';
    const host = clientHostOf(m);
    const clientAddress = host ? `${host}:${m.clientPort}` : null;
    // Without the member's own answer, only its leadership is known here (this member follows it).
    const known = m.sid === q.leaderId ? 'leader' : null;
    const base = { sid: m.sid, self: m.sid === q.myid, type: m.type, address, clientAddress };
    if (m.sid === q.myid) return { ...base, role: view.role, zxid: hex(me), lag: null, source: 'self' };
    if (!host) return { ...base, role: known, zxid: null, lag: null, source: 'quorum' };
    try {
      const s = await probeSrvr(host, m.clientPort!);
      return { ...base, role: s.mode, zxid: hex(s.zxid), lag: null, source: 'srvr' };
    } catch (e) {
      return { ...base, role: known, zxid: null, lag: null, source: 'unreachable', error: (e as Error).message };
    }
  }));
  // Lag is counted within the newest epoch: members of an older epoch are shown without a number.
  const zxids = rows.filter((r) => r.zxid !== null).map((r) => BigInt(r.zxid!));
  const top = zxids.reduce((a, b) => (b > a ? b : a), 0n);
  for (const r of rows) {
    if (r.zxid === null) continue;
    const z = BigInt(r.zxid);
    r.lag = z >> 32n === top >> 32n ? Number(top - z) : null;
  }
  return { standalone: false, myid: q.myid, leaderId: q.leaderId, zabState: q.zabState, members: rows };
}
