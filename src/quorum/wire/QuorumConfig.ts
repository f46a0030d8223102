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

/**
 * An IPv6 literal as Java prints a parsed address: eight groups, lowercase hex without leading
 * zeros, no "::" compression; an IPv4-mapped address becomes the plain IPv4 address.
 * Returns null when the text is not an IPv6 literal.
 */
export function javaIpv6Text(host: string): string | null {
  if (!host.includes(':')) return null;
  let text = host;
  let v4: number[] | null = null;
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    v4 = dotted.slice(2, 6).map(Number);
    if (v4.some((n) => n > 255)) return null;
    text = dotted[1]! + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (t: string): string[] => (t === '' ? [] : t.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const nums = groups.map((g) => parseInt(g, 16));
  if (v4) {
    nums[6] = (v4[0]! << 8) | v4[1]!;
    nums[7] = (v4[2]! << 8) | v4[3]!;
  }
  if (nums.slice(0, 5).every((n) => n === 0) && nums[5] === 0xffff) {
    return [nums[6]! >> 8, nums[6]! & 255, nums[7]! >> 8, nums[7]! & 255].join('.');
  }
  return nums.map((n) => n.toString(16)).join(':');
}

/** Java's delimited host string: IPv6 literals normalized and bracketed, names as written. */
function hostText(host: string): string {
  const v6 = javaIpv6Text(host);
  if (v6 === null) return host;
  return v6.includes(':') ? `[${v6}]` : v6;
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

/** Java's String.hashCode (UTF-16 units, 32-bit wrap-around). */
function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

/** Java's Long.hashCode: the two halves xor-ed. */
function javaLongHash(v: number): number {
  const big = BigInt.asIntN(64, BigInt(v));
  return Number(BigInt.asIntN(32, big ^ (big >> 32n)));
}

/**
 * Apache keeps members in a java.util.HashMap keyed by Long, filled while iterating a
 * java.util.Properties (a ConcurrentHashMap of "server.N" strings), and prints them in the
 * HashMap's iteration order: bucket index ascending, the table growing from 16 by doubling
 * (HashMap once the count exceeds 3/4 of it, ConcurrentHashMap once it reaches 3/4). Within a
 * HashMap bucket members keep the Properties' order, itself by bucket of the key string. Only
 * sids that collide in both tables (rare: 16+ apart and equal string-hash buckets) are ordered
 * by our tie-break, ascending sid, instead of Java's insertion order.
 */
export function javaHashMapOrder(sids: number[]): number[] {
  let chmCap = 16;
  while (sids.length >= chmCap * 0.75) chmCap *= 2;
  let mapCap = 16;
  while (sids.length > mapCap * 0.75) mapCap *= 2;
  const spread = (h: number): number => (h ^ (h >>> 16)) & 0x7fffffff;
  const chmBucket = (sid: number): number => spread(javaStringHash(`server.${sid}`)) & (chmCap - 1);
  const mapBucket = (sid: number): number => {
    const h = javaLongHash(sid);
    return (h ^ (h >>> 16)) & (mapCap - 1);
  };
  const inserted = [...sids].sort((a, b) => chmBucket(a) - chmBucket(b) || a - b);
  const rank = new Map(inserted.map((sid, i) => [sid, i]));
  return inserted.sort((a, b) => mapBucket(a) - mapBucket(b) || rank.get(a)! - rank.get(b)!);
}

/** Render exactly as QuorumMaj.toString does. */
export function renderQuorumConfig(cfg: QuorumConfigText): string {
  const bySid = new Map(cfg.members.map((m) => [m.sid, m]));
  let out = '';
  for (const sid of javaHashMapOrder([...bySid.keys()])) out += `server.${sid}=${renderMember(bySid.get(sid)!)}\n`;
  return out + `version=${BigInt.asUintN(64, cfg.version).toString(16)}`;
}
