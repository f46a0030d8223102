// The membership text ZooKeeper puts in election notifications, in NEWLEADER and in the
// /zookeeper/config znode (QuorumVerifier.toString):
//   server.<sid>=<host>:<quorumPort>:<electionPort>[|<more addresses>]:<participant|observer>[;<clientHost>:<clientPort>]
// one line per member, each ending in '\n', then `version=<hex>` with no trailing newline.
// Peers compare these texts, so ours must render exactly what Apache renders for the same ensemble.

export class QuorumConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuorumConfigError';
  }
}

export type LearnerRole = 'participant' | 'observer';

export interface PeerAddress {
  host: string;
  quorumPort: number;
  electionPort: number;
}

export interface QuorumMember {
  sid: number;
  /** More than one only with multiAddress (`|`-separated). */
  addresses: PeerAddress[];
  role: LearnerRole;
  /** Absent when the client address came from the static clientPort setting (Apache leaves it out then). */
  client?: { host: string; port: number } | undefined;
}

export interface QuorumConfigText {
  members: QuorumMember[];
  /** The config version (a zxid); 0 for a static ensemble. */
  version: bigint;
}

/** IPv6 literals are bracketed, as Java's delimited host string does. */
function hostText(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function parsePort(text: string, what: string, line: string): number {
  if (!/^\d+$/.test(text)) throw new QuorumConfigError(`${what} "${text}" is not a number in "${line}"`);
  const n = Number(text);
  if (n < 0 || n > 65535) throw new QuorumConfigError(`${what} ${n} out of range in "${line}"`);
  return n;
}

/** Split "host:port" where host may be a bracketed IPv6 literal; returns [host, rest-after-host]. */
function splitHost(text: string, line: string): [string, string] {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) throw new QuorumConfigError(`unterminated IPv6 address in "${line}"`);
    return [text.slice(1, end), text.slice(end + 1)];
  }
  const colon = text.indexOf(':');
  return colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon)];
}

function parseAddress(text: string, line: string): PeerAddress {
  const [host, rest] = splitHost(text, line);
  const parts = rest.split(':');
  // rest is ":qport:eport"
  if (host === '' || parts.length !== 3 || parts[0] !== '') {
    throw new QuorumConfigError(`expected host:quorumPort:electionPort in "${line}"`);
  }
  return { host, quorumPort: parsePort(parts[1]!, 'quorum port', line), electionPort: parsePort(parts[2]!, 'election port', line) };
}

/**
 * One member from the value of a `server.N` line: the zoo.cfg forms (role optional, client part
 * `port` or `host:port`) and the rendered form are all accepted.
 */
export function parseMember(sid: number, value: string): QuorumMember {
  const line = `server.${sid}=${value}`;
  const semi = value.indexOf(';');
  const serverPart = semi < 0 ? value : value.slice(0, semi);
  const clientPart = semi < 0 ? null : value.slice(semi + 1);
  let role: LearnerRole = 'participant';
  let addrText = serverPart;
  const m = /:(participant|observer)$/i.exec(serverPart);
  if (m) {
    role = m[1]!.toLowerCase() as LearnerRole;
    addrText = serverPart.slice(0, m.index);
  } else if (/:[A-Za-z][A-Za-z]*$/.test(serverPart)) {
    throw new QuorumConfigError(`unknown server role "${serverPart.slice(serverPart.lastIndexOf(':') + 1)}" in "${line}"`);
  }
  const addresses = addrText.split('|').map((a) => parseAddress(a, line));
  let client: QuorumMember['client'];
  if (clientPart !== null) {
    const cut = clientPart.lastIndexOf(':');
    if (cut < 0) {
      client = { host: '0.0.0.0', port: parsePort(clientPart, 'client port', line) };
    } else {
      const [host] = splitHost(clientPart.slice(0, cut) + ':', line);
      client = { host, port: parsePort(clientPart.slice(cut + 1), 'client port', line) };
    }
  }
  return { sid, addresses, role, client };
}

/** Parse a rendered config text (notification, NEWLEADER or /zookeeper/config). */
export function parseQuorumConfig(text: string): QuorumConfigText {
  const members: QuorumMember[] = [];
  let version: bigint | null = null;
  const seen = new Set<number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new QuorumConfigError(`no "=" in config line "${line}"`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'version') {
      if (!/^[0-9a-fA-F]+$/.test(value)) throw new QuorumConfigError(`version "${value}" is not hexadecimal`);
      version = BigInt('0x' + value);
      continue;
    }
    const sm = /^server\.(\d+)$/.exec(key);
    if (!sm) continue; // Apache ignores keys it does not know (group., weight. are not produced in 3.8 static configs)
    const sid = Number(sm[1]);
    if (seen.has(sid)) throw new QuorumConfigError(`server.${sid} appears twice`);
    seen.add(sid);
    members.push(parseMember(sid, value));
  }
  return { members, version: version ?? 0n };
}

/** The value part of a member's line, as QuorumServer.toString writes it. */
export function renderMember(m: QuorumMember): string {
  let s = m.addresses.map((a) => `${hostText(a.host)}:${a.quorumPort}:${a.electionPort}`).join('|');
  s += `:${m.role}`;
  if (m.client) s += `;${hostText(m.client.host)}:${m.client.port}`;
  return s;
}

/**
 * Apache keeps members in a java.util.HashMap keyed by Long and prints them in its iteration
 * order: bucket index ascending, where the table grows from 16 by doubling while the count
 * exceeds 0.75 of it. For sids below the table size that is ascending sid order. Members sharing
 * a bucket come out in insertion order, which we take as ascending sid.
 */
export function javaHashMapOrder(sids: number[]): number[] {
  let cap = 16;
  while (sids.length > cap * 0.75) cap *= 2;
  const bucket = (sid: number): number => {
    const big = BigInt.asIntN(64, BigInt(sid));
    const h = Number(BigInt.asIntN(32, big ^ (big >> 32n)));
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return [...sids].sort((a, b) => bucket(a) - bucket(b) || a - b);
}

/** Render exactly as QuorumMaj.toString does. */
export function renderQuorumConfig(cfg: QuorumConfigText): string {
  const bySid = new Map(cfg.members.map((m) => [m.sid, m]));
  let out = '';
  for (const sid of javaHashMapOrder([...bySid.keys()])) out += `server.${sid}=${renderMember(bySid.get(sid)!)}\n`;
  return out + `version=${BigInt.asUintN(64, cfg.version).toString(16)}`;
}
