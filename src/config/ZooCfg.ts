// zoo.cfg → ServerConfig, read the way Apache ZooKeeper 3.8 reads it (QuorumPeerConfig):
// Java-properties syntax; the keys QuorumPeerConfig knows are parsed directly; every other key
// becomes the system property `zookeeper.<key>`, which is where 4lw.commands.whitelist, snapCount,
// skipACL, admin.* and friends are really read from. System properties can also come from
// `-Dname=value` flags in SERVER_JVMFLAGS/JVMFLAGS, as zkServer.sh passes them to the JVM.
//
// Where ZooKeeper silently falls back to a default on a malformed value (Integer.getInteger,
// Boolean.getBoolean) we stop with an error instead: a typo should not quietly change behaviour.
import fs from 'node:fs';
import path from 'node:path';
import { ALL_FOUR_LETTER_WORDS, defaultConfig, type QuorumServerSpec, type ServerConfig } from './ServerConfig.js';

/** A configuration problem; the message names the file, line, key and value where known. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ZooCfgOptions {
  /** Path shown in error messages and kept as configPath; defaults to `zoo.cfg`. */
  path?: string | undefined;
  /** Environment for SERVER_JVMFLAGS / JVMFLAGS / ZK_JUTE_MAXBUFFER; defaults to process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Directory relative paths are resolved against; defaults to process.cwd(), as in ZooKeeper. */
  cwd?: string | undefined;
  /** Skip reading `<dataDir>/myid` (tests of pure parsing). */
  ignoreMyId?: boolean | undefined;
}

// ---------------------------------------------------------------- Java properties syntax

/** One logical `key=value` line; `line` is the 1-based line it starts on. */
export interface PropertyLine {
  key: string;
  value: string;
  line: number;
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';

/**
 * Splits text into logical lines as java.util.Properties.load does: `#`/`!` comment lines, blank
 * lines, backslash continuations (leading blanks of the next line dropped), the first unescaped
 * `=`, `:` or blank ending the key, and \t \n \r \f \uXXXX escapes. Keys and values are trimmed,
 * as QuorumPeerConfig does. A later duplicate key replaces an earlier one in ZooKeeper; this
 * returns every occurrence in order and leaves that to the caller.
 */
export function parseProperties(text: string, file = 'zoo.cfg'): PropertyLine[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const natural = text.split(/\r\n|\r|\n/);
  const out: PropertyLine[] = [];
  for (let i = 0; i < natural.length; i++) {
    const startLine = i + 1;
    let cur = natural[i]!.replace(/^[ \t\f]+/, '');
    if (cur === '' || cur[0] === '#' || cur[0] === '!') continue;
    // An odd number of trailing backslashes continues the logical line.
    let logical = '';
    for (;;) {
      const m = /\\+$/.exec(cur);
      if (m && m[0].length % 2 === 1) {
        logical += cur.slice(0, -1);
        i++;
        if (i >= natural.length) break;
        cur = natural[i]!.replace(/^[ \t\f]+/, '');
        continue;
      }
      logical += cur;
      break;
    }
    const { key, value } = splitKeyValue(logical);
    out.push({
      key: unescape(key, file, startLine).trim(),
      value: unescape(value, file, startLine).trim(),
      line: startLine,
    });
  }
  return out;
}

function splitKeyValue(s: string): { key: string; value: string } {
  let keyEnd = s.length;
  let valueStart = s.length;
  let hasSep = false;
  let escaped = false;
  for (let k = 0; k < s.length; k++) {
    const c = s[k]!;
    if (escaped) {
      escaped = false;
      continue;
    }
    if (c === '\\') {
      escaped = true;
    } else if (c === '=' || c === ':') {
      keyEnd = k;
      valueStart = k + 1;
      hasSep = true;
      break;
    } else if (isBlank(c)) {
      keyEnd = k;
      valueStart = k + 1;
      break;
    }
  }
  while (valueStart < s.length && isBlank(s[valueStart]!)) valueStart++;
  if (!hasSep && valueStart < s.length && (s[valueStart] === '=' || s[valueStart] === ':')) {
    valueStart++;
    while (valueStart < s.length && isBlank(s[valueStart]!)) valueStart++;
  }
  return { key: s.slice(0, keyEnd), value: s.slice(valueStart) };
}

function unescape(s: string, file: string, line: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const c = s[k]!;
    if (c !== '\\' || k + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[++k]!;
    if (e === 'u') {
      const hex = s.slice(k + 1, k + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new ConfigError(`${file}:${line}: malformed \\uxxxx escape`, file, line);
      }
      out += String.fromCharCode(parseInt(hex, 16));
      k += 4;
    } else {
      out += e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 'f' ? '\f' : e;
    }
  }
  return out;
}

// ---------------------------------------------------------------- JVM flags

/**
 * `-Dname=value` flags from SERVER_JVMFLAGS then JVMFLAGS (zkServer.sh puts SERVER_JVMFLAGS first,
 * and with duplicate -D flags the JVM keeps the last). Split on blanks like the unquoted shell
 * expansion in zkServer.sh.
 */
export function parseJvmFlags(env: NodeJS.ProcessEnv): Map<string, { value: string; where: string }> {
  const props = new Map<string, { value: string; where: string }>();
  for (const name of ['SERVER_JVMFLAGS', 'JVMFLAGS']) {
    const flags = env[name];
    if (!flags) continue;
    for (const tok of flags.split(/\s+/)) {
      if (!tok.startsWith('-D') || tok.length <= 2) continue;
      const eq = tok.indexOf('=');
      const key = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      const value = eq < 0 ? '' : tok.slice(eq + 1);
      props.set(key, { value, where: `${name} -D${key}` });
    }
  }
  return props;
}

// ---------------------------------------------------------------- values

/** Where a value came from, for messages: `zoo.cfg:7` or `JVMFLAGS -Dzookeeper.snapCount`. */
interface Source {
  key: string;
  value: string;
  where: string;
  file?: string | undefined;
  line?: number | undefined;
}

function fail(src: Source, why: string): never {
  throw new ConfigError(`${src.where}: ${src.key}: '${src.value}' ${why}`, src.file, src.line, src.key);
}

const INT_RE = /^[+-]?\d+$/;

function notANumber(value: string): string {
  // `clientPort=2181 # client port` is a classic: '#' starts a comment only at the start of a line.
  return /\s[#!]/.test(value) ? "is not a number ('#' starts a comment only at the beginning of a line)" : 'is not a number';
}

/** Integer.parseInt: decimal, optional sign, 32-bit. */
function int32(src: Source): number {
  if (!INT_RE.test(src.value)) fail(src, notANumber(src.value));
  const n = Number(src.value);
  if (n < -0x80000000 || n > 0x7fffffff) fail(src, 'is out of range for a 32-bit integer');
  return n;
}

/** Long.parseLong, limited to what a JS number holds exactly. */
function long(src: Source): number {
  if (!INT_RE.test(src.value)) fail(src, notANumber(src.value));
  const n = Number(src.value);
  if (!Number.isSafeInteger(n)) fail(src, 'is out of range');
  return n;
}

function nonNegative(src: Source, n: number): number {
  if (n < 0) fail(src, 'must not be negative');
  return n;
}

function port(src: Source): number {
  const n = int32(src);
  if (n < 1 || n > 65535) fail(src, 'is not a port number (1-65535)');
  return n;
}

/** QuorumPeerConfig.parseBoolean: exactly true/false, any case. */
function trueFalse(src: Source): boolean {
  const v = src.value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  return fail(src, 'is not true or false');
}

/**
 * skipACL and forceSync are compared with literal strings in ZooKeeper (skipACL is on only for
 * "yes", forceSync off only for "no"); `true`/`false` there would be silently misread, so refuse.
 */
function yesNo(src: Source): boolean {
  if (src.value === 'yes') return true;
  if (src.value === 'no') return false;
  return fail(src, 'must be yes or no (ZooKeeper compares this key with the literal strings)');
}

function nonEmpty(src: Source): string {
  if (src.value === '') fail(src, 'must not be empty');
  return src.value;
}

// ---------------------------------------------------------------- the keys

type Cfg = ServerConfig & { clientPortSet: boolean; minSet?: Source; maxSet?: Source; snapRetain?: Source };

/** Keys QuorumPeerConfig.parseProperties handles itself (not turned into system properties). */
const NATIVE: Record<string, (c: Cfg, s: Source, resolve: (p: string) => string) => void> = {
  dataDir: (c, s, r) => (c.dataDir = r(nonEmpty(s))),
  dataLogDir: (c, s, r) => (c.dataLogDir = r(nonEmpty(s))),
  clientPort: (c, s) => {
    // 0 means "not set" in ZooKeeper.
    const n = int32(s);
    if (n !== 0) c.clientPort = port(s);
    c.clientPortSet = n !== 0;
  },
  clientPortAddress: (c, s) => (c.clientPortAddress = nonEmpty(s)),
  secureClientPort: (c, s) => (c.secureClientPort = int32(s) === 0 ? undefined : port(s)),
  secureClientPortAddress: (c, s) => (c.secureClientPortAddress = nonEmpty(s)),
  observerMasterPort: (_c, s) => void int32(s),
  clientPortListenBacklog: (c, s) => (c.clientPortListenBacklog = int32(s)),
  tickTime: (c, s) => {
    const n = int32(s);
    if (n <= 0) fail(s, 'must be a positive number of milliseconds');
    c.tickTime = n;
  },
  maxClientCnxns: (c, s) => (c.maxClientCnxns = int32(s)),
  minSessionTimeout: (c, s) => {
    c.minSessionTimeout = int32(s);
    c.minSet = s;
  },
  maxSessionTimeout: (c, s) => {
    c.maxSessionTimeout = int32(s);
    c.maxSet = s;
  },
  initLimit: (c, s) => (c.initLimit = nonNegative(s, int32(s))),
  syncLimit: (c, s) => (c.syncLimit = nonNegative(s, int32(s))),
  connectToLearnerMasterLimit: (c, s) => (c.connectToLearnerMasterLimit = nonNegative(s, int32(s))),
  electionAlg: (c, s) => {
    if (int32(s) !== 3) fail(s, 'is not supported: only electionAlg=3 is');
    c.electionAlg = 3;
  },
  quorumListenOnAllIPs: (c, s) => (c.quorumListenOnAllIPs = trueFalse(s)),
  peerType: (c, s) => {
    const v = s.value.toLowerCase();
    if (v !== 'observer' && v !== 'participant') fail(s, 'is not a peer type (participant or observer)');
    c.peerType = v;
  },
  syncEnabled: (c, s) => (c.syncEnabled = trueFalse(s)),
  dynamicConfigFile: (c, s) => (c.dynamicConfigFile = nonEmpty(s)),
  'autopurge.snapRetainCount': (c, s) => {
    c.autopurgeSnapRetainCount = int32(s);
    c.snapRetain = s;
  },
  'autopurge.purgeInterval': (c, s) => (c.autopurgePurgeInterval = int32(s)),
  standaloneEnabled: (c, s) => (c.standaloneEnabled = trueFalse(s)),
  reconfigEnabled: (c, s) => (c.reconfigEnabled = trueFalse(s)),
  localSessionsEnabled: (c, s) => (c.localSessionsEnabled = trueFalse(s)),
  localSessionsUpgradingEnabled: (c, s) => (c.localSessionsUpgradingEnabled = trueFalse(s)),
  // Members talk plain TCP: a config that asks for TLS or SASL between them is refused rather
  // than run with less protection than the operator asked for.
  sslQuorum: (_c, s) => void (trueFalse(s) && fail(s, 'is not supported: members cannot use TLS between them (sslQuorum=false)')),
  portUnification: (_c, s) => void trueFalse(s),
  sslQuorumReloadCertFiles: (_c, s) => void trueFalse(s),
  'quorum.auth.enableSasl': (_c, s) => void (trueFalse(s) && fail(s, 'is not supported: members cannot authenticate each other with SASL')),
  'quorum.auth.serverRequireSasl': (_c, s) => void (trueFalse(s) && fail(s, 'is not supported: members cannot authenticate each other with SASL')),
  'quorum.auth.learnerRequireSasl': (_c, s) => void (trueFalse(s) && fail(s, 'is not supported: members cannot authenticate each other with SASL')),
  'quorum.auth.learner.saslLoginContext': () => {},
  'quorum.auth.server.saslLoginContext': () => {},
  'quorum.auth.kerberos.servicePrincipal': () => {},
  'quorum.cnxn.threads.size': (_c, s) => void int32(s),
  'jvm.pause.info-threshold.ms': (_c, s) => void long(s),
  'jvm.pause.warn-threshold.ms': (_c, s) => void long(s),
  'jvm.pause.sleep.time.ms': (_c, s) => void long(s),
  'jvm.pause.monitor': (_c, s) => void trueFalse(s),
  'multiAddress.enabled': (_c, s) => void trueFalse(s),
  'multiAddress.reachabilityCheckTimeoutMs': (_c, s) => void int32(s),
  'multiAddress.reachabilityCheckEnabled': (_c, s) => void trueFalse(s),
  oraclePath: () => {},
};

const isNative = (key: string): boolean => key in NATIVE || key.startsWith('metricsProvider.');
const isQuorumKey = (key: string): boolean =>
  key.startsWith('server.') || key.startsWith('group') || key.startsWith('weight');

/**
 * Settings ZooKeeper reads from system properties. `props` lists the property names that carry
 * the setting; the one from the highest-precedence source wins (zoo.cfg over -D flags over env).
 */
const SYSTEM: { props: string[]; apply: (c: Cfg, s: Source) => void }[] = [
  {
    props: ['zookeeper.4lw.commands.whitelist'],
    apply: (c, s) => {
      const words = new Set<string>();
      for (const part of s.value.split(',')) {
        const w = part.trim();
        if (w === '*') {
          for (const all of ALL_FOUR_LETTER_WORDS) words.add(all);
          break;
        }
        if (w === '') continue;
        words.add(w);
        if (!(ALL_FOUR_LETTER_WORDS as readonly string[]).includes(w)) {
          c.warnings!.push(`${s.where}: ${s.key}: '${w}' is not a four-letter word ZooKeeper knows`);
        }
      }
      c.fourLetterWords = words;
    },
  },
  { props: ['readonlymode.enabled'], apply: (c, s) => (c.readonlyModeEnabled = trueFalse(s)) },
  { props: ['zookeeper.extendedTypesEnabled'], apply: (c, s) => (c.extendedTypesEnabled = trueFalse(s)) },
  {
    // Not read from zoo.cfg by Apache ZooKeeper (only -Djute.maxbuffer); accepted here as well.
    props: ['zookeeper.jute.maxbuffer', 'jute.maxbuffer', 'ZK_JUTE_MAXBUFFER'],
    apply: (c, s) => {
      const n = int32(s);
      if (n <= 0) fail(s, 'must be a positive number of bytes');
      c.juteMaxBuffer = n;
    },
  },
  { props: ['zookeeper.digest.enabled'], apply: (c, s) => (c.digestEnabled = trueFalse(s)) },
  {
    props: ['zookeeper.snapCount'],
    apply: (c, s) => {
      const n = int32(s);
      if (n < 2) c.warnings!.push(`${s.where}: snapCount ${n} is below 2, using 2`);
      c.snapCount = Math.max(2, n);
    },
  },
  {
    props: ['zookeeper.preAllocSize'],
    apply: (c, s) => {
      const n = long(s);
      if (n <= 0) fail(s, 'must be a positive number of kilobytes');
      c.preAllocSizeKb = n;
    },
  },
  { props: ['zookeeper.forceSync'], apply: (c, s) => (c.forceSync = yesNo(s)) },
  { props: ['zookeeper.skipACL'], apply: (c, s) => (c.skipACL = yesNo(s)) },
  { props: ['zookeeper.enforceQuota'], apply: (c, s) => (c.enforceQuota = trueFalse(s)) },
  { props: ['zookeeper.globalOutstandingLimit'], apply: (c, s) => (c.globalOutstandingLimit = int32(s)) },
  { props: ['zookeeper.maxCnxns'], apply: (c, s) => (c.maxCnxns = int32(s)) },
  { props: ['zookeeper.admin.enableServer'], apply: (c, s) => (c.adminEnableServer = trueFalse(s)) },
  { props: ['zookeeper.admin.serverAddress'], apply: (c, s) => (c.adminServerAddress = nonEmpty(s)) },
  { props: ['zookeeper.admin.serverPort'], apply: (c, s) => (c.adminServerPort = port(s)) },
  { props: ['zookeeper.admin.commandURL'], apply: (c, s) => (c.adminCommandURL = nonEmpty(s)) },
  { props: ['zookeeper.admin.idleTimeout'], apply: (c, s) => (c.adminIdleTimeout = int32(s)) },
  {
    props: ['zookeeper.DigestAuthenticationProvider.superDigest'],
    apply: (c, s) => {
      if (!/^[^:]+:.+$/.test(s.value)) fail(s, "is not of the form 'super:<base64 sha1>'");
      c.superDigest = s.value;
    },
  },
  // Apache reads these without the zookeeper. prefix, so only -D flags reach it; zoo.cfg accepted too.
  {
    props: ['zookeeper.znode.container.checkIntervalMs', 'znode.container.checkIntervalMs'],
    apply: (c, s) => {
      const n = int32(s);
      if (n <= 0) fail(s, 'must be a positive number of milliseconds');
      c.containerCheckIntervalMs = n;
    },
  },
  {
    props: ['zookeeper.znode.container.maxPerMinute', 'znode.container.maxPerMinute'],
    apply: (c, s) => (c.containerMaxPerMinute = nonNegative(s, int32(s))),
  },
  {
    props: ['zookeeper.znode.container.maxNeverUsedIntervalMs', 'znode.container.maxNeverUsedIntervalMs'],
    apply: (c, s) => (c.containerMaxNeverUsedIntervalMs = nonNegative(s, long(s))),
  },
];

/** zoo.cfg spellings of every key we interpret, to catch case typos such as `clientport`. */
const KNOWN_KEYS_BY_LOWER_CASE = new Map(
  [
    ...Object.keys(NATIVE),
    ...SYSTEM.flatMap((s) => s.props.filter((p) => p.startsWith('zookeeper.')).map((p) => p.slice('zookeeper.'.length))),
  ].map((k) => [k.toLowerCase(), k]),
);

// ---------------------------------------------------------------- server.N / group / weight

/** `host:port`, `[v6]:port` or `host:port:port[:type]` split the way ConfigUtils.getHostAndPort does. */
function hostAndPorts(s: string): string[] {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return [s];
    const host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return [host];
    if (!rest.startsWith(':')) return [s];
    return [host, ...rest.slice(1).split(':')];
  }
  return s.split(':');
}

const SERVER_FORMAT =
  'does not have the form server_config or server_config;client_config where server_config is the pipe ' +
  'separated list of host:port:port or host:port:port:type and client_config is port or host:port';

function parseServerLine(id: number, src: Source, multiAddressEnabled: boolean): QuorumServerSpec {
  const parts = src.value.split(';');
  if (parts.length > 2) fail(src, SERVER_FORMAT);
  const spec: QuorumServerSpec = { id, addresses: [], type: 'participant' };
  if (parts.length === 2) {
    const client = hostAndPorts(parts[1]!.trim());
    if (client.length > 2) fail(src, SERVER_FORMAT);
    spec.clientHost = client.length === 2 ? client[0] : '0.0.0.0';
    spec.clientPort = port({ ...src, value: client[client.length - 1]! });
  }
  const addrs = parts[0]!.split('|');
  if (addrs.length > 1 && !multiAddressEnabled) {
    fail(src, `has ${addrs.length} addresses but multiAddress.enabled is not true`);
  }
  let type: 'participant' | 'observer' | undefined;
  for (const a of addrs) {
    const p = hostAndPorts(a.trim());
    if (p.length < 3 || p.length > 4) fail(src, SERVER_FORMAT);
    const quorumPort = port({ ...src, value: p[1]! });
    const electionPort = port({ ...src, value: p[2]! });
    if (quorumPort === electionPort) fail(src, 'uses the same port for quorum and election; they must differ');
    if (p.length === 4) {
      const t = p[3]!.trim().toLowerCase();
      if (t !== 'participant' && t !== 'observer') fail(src, `has an unrecognised peer type '${p[3]}'`);
      if (type !== undefined && type !== t) fail(src, 'mixes participant and observer addresses');
      type = t;
    }
    spec.addresses.push({ host: p[0]!, quorumPort, electionPort });
  }
  if (type) spec.type = type;
  return spec;
}

function idSuffix(src: Source, prefix: string): number {
  const suffix = src.key.slice(prefix.length);
  if (!/^\d+$/.test(suffix)) {
    throw new ConfigError(`${src.where}: ${src.key}: '${suffix}' after '${prefix}' is not a number`, src.file, src.line, src.key);
  }
  const n = Number(suffix);
  if (!Number.isSafeInteger(n)) fail(src, 'has an id out of range');
  return n;
}

function collectQuorum(c: Cfg, entries: Source[], multiAddressEnabled: boolean): void {
  const servers = new Map<number, QuorumServerSpec>();
  const groups = new Map<number, number[]>();
  const weights = new Map<number, number>();
  for (const s of entries) {
    if (s.key.startsWith('server.')) {
      const id = idSuffix(s, 'server.');
      servers.set(id, parseServerLine(id, s, multiAddressEnabled));
    } else if (s.key.startsWith('group.')) {
      const gid = idSuffix(s, 'group.');
      const members = s.value.split(':').map((m) => {
        if (!/^\d+$/.test(m.trim())) fail(s, 'is not a list of server ids separated by colons');
        return Number(m.trim());
      });
      groups.set(gid, members);
    } else if (s.key.startsWith('weight.')) {
      weights.set(idSuffix(s, 'weight.'), nonNegative(s, long(s)));
    } else {
      fail(s, 'is not a recognised quorum parameter (server.N, group.N, weight.N)');
    }
  }
  if (groups.size > 0) {
    const seen = new Map<number, number>();
    for (const [gid, members] of groups) {
      for (const sid of members) {
        if (seen.has(sid)) {
          throw new ConfigError(`server ${sid} is in both group.${seen.get(sid)} and group.${gid}`);
        }
        if (!servers.has(sid)) throw new ConfigError(`group.${gid} names server ${sid}, which has no server.${sid} line`);
        seen.set(sid, gid);
      }
    }
  }
  c.servers = servers;
  c.groups = groups;
  c.weights = weights;
}

// ---------------------------------------------------------------- myid

/**
 * The server id from `<dataDir>/myid`: first line, parsed like Long.parseLong. undefined when the
 * file does not exist (a standalone server does not need one).
 */
export function readMyId(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'myid');
  let text: string;
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`, file);
  }
  const first = text.split(/\r\n|\r|\n/)[0]!;
  if (!INT_RE.test(first) || !Number.isSafeInteger(Number(first))) {
    throw new ConfigError(`${file}: serverid '${first}' is not a number`, file, 1, 'myid');
  }
  return Number(first);
}

// ---------------------------------------------------------------- the parser

export function parseZooCfg(text: string, opts: ZooCfgOptions = {}): ServerConfig {
  const file = opts.path ?? 'zoo.cfg';
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const resolve = (p: string) => path.resolve(cwd, p);

  // Properties is a hashtable: the last occurrence of a key wins.
  const last = new Map<string, PropertyLine>();
  for (const pl of parseProperties(text, file)) {
    last.delete(pl.key);
    last.set(pl.key, pl);
  }
  const src = (pl: PropertyLine): Source => ({ key: pl.key, value: pl.value, where: `${file}:${pl.line}`, file, line: pl.line });

  const c = defaultConfig() as Cfg;
  c.configPath = opts.path;
  c.clientPortSet = false;
  c.warnings = [];
  c.raw = new Map([...last.values()].map((pl) => [pl.key, pl.value]));
  c.minSessionTimeout = -1;
  c.maxSessionTimeout = -1;
  c.electionAlg = 3;
  c.peerType = 'participant';
  c.syncEnabled = true;
  c.quorumListenOnAllIPs = false;
  c.localSessionsEnabled = false;
  c.localSessionsUpgradingEnabled = false;
  c.readonlyModeEnabled = false;
  c.adminIdleTimeout = 30000;
  // ZooKeeper runs its AdminServer unless admin.enableServer=false (defaultConfig() keeps it off for
  // servers built in code, e.g. tests).
  c.adminEnableServer = true;
  let dataDirSet = false;
  let dataLogDirSet = false;
  let clientPortAddressSrc: Source | undefined;

  // System properties, lowest precedence first: environment, -D flags, then zoo.cfg.
  const rank = new Map<string, { src: Source; rank: number }>();
  if (env.ZK_JUTE_MAXBUFFER !== undefined) {
    rank.set('ZK_JUTE_MAXBUFFER', {
      src: { key: 'ZK_JUTE_MAXBUFFER', value: env.ZK_JUTE_MAXBUFFER.trim(), where: 'environment' },
      rank: 0,
    });
  }
  for (const [key, { value, where }] of parseJvmFlags(env)) {
    rank.set(key, { src: { key, value: value.trim(), where }, rank: 1 });
  }

  const quorumEntries: Source[] = [];
  const hasDynamicFile = last.has('dynamicConfigFile');
  for (const pl of last.values()) {
    const s = src(pl);
    if (pl.key === '') fail(s, 'has no key');
    if (isQuorumKey(pl.key)) {
      if (hasDynamicFile) {
        throw new ConfigError(`${s.where}: ${pl.key} must be in the separate dynamic config file`, file, pl.line, pl.key);
      }
      quorumEntries.push(s);
    } else if (isNative(pl.key)) {
      NATIVE[pl.key]?.(c, s, resolve);
      if (pl.key === 'dataDir') dataDirSet = true;
      if (pl.key === 'dataLogDir') dataLogDirSet = true;
      if (pl.key === 'clientPortAddress') clientPortAddressSrc = s;
    } else {
      rank.set(`zookeeper.${pl.key}`, { src: s, rank: 2 });
      const known = KNOWN_KEYS_BY_LOWER_CASE.get(pl.key.toLowerCase());
      if (known && known !== pl.key) c.warnings.push(`${s.where}: unknown key '${pl.key}' (keys are case-sensitive; did you mean '${known}'?)`);
    }
  }

  for (const setting of SYSTEM) {
    let best: { src: Source; rank: number } | undefined;
    for (const name of setting.props) {
      const r = rank.get(name);
      if (r && (!best || r.rank > best.rank)) best = r;
    }
    if (best) setting.apply(c, best.src);
  }
  c.systemProperties = new Map([...rank].filter(([k]) => k !== 'ZK_JUTE_MAXBUFFER').map(([k, v]) => [k, v.src.value]));
  if (c.readonlyModeEnabled) c.fourLetterWords.add('isro');
  // zkServer.sh status depends on srvr, so ZooKeeper always allows it.
  c.fourLetterWords.add('srvr');

  if (c.snapRetain && c.autopurgeSnapRetainCount < 3) {
    c.warnings.push(`${c.snapRetain.where}: autopurge.snapRetainCount ${c.autopurgeSnapRetainCount} is below 3, using 3`);
    c.autopurgeSnapRetainCount = 3;
  }

  if (!dataDirSet) throw new ConfigError(`${file}: dataDir is not set`, file, undefined, 'dataDir');
  if (!dataLogDirSet) c.dataLogDir = c.dataDir;

  c.minSessionTimeout = c.minSessionTimeout === -1 ? 2 * c.tickTime : c.minSessionTimeout;
  c.maxSessionTimeout = c.maxSessionTimeout === -1 ? 20 * c.tickTime : c.maxSessionTimeout;
  if (c.minSessionTimeout > c.maxSessionTimeout) {
    const at = c.minSet ?? c.maxSet;
    const where = at ? at.where : file;
    throw new ConfigError(
      `${where}: minSessionTimeout (${c.minSessionTimeout}) must not be larger than maxSessionTimeout (${c.maxSessionTimeout})`,
      file,
      at?.line,
      at?.key,
    );
  }

  // Quorum members: from the dynamic file if there is one, else from zoo.cfg itself.
  const multiAddressEnabled = (c.raw.get('multiAddress.enabled') ?? 'false').toLowerCase() === 'true';
  if (c.dynamicConfigFile) {
    const dynPath = resolve(c.dynamicConfigFile);
    let dynText: string;
    try {
      dynText = fs.readFileSync(dynPath, 'utf8');
    } catch (e) {
      throw new ConfigError(`${file}: dynamicConfigFile ${c.dynamicConfigFile}: ${(e as Error).message}`, file, undefined, 'dynamicConfigFile');
    }
    const dynEntries: Source[] = [];
    for (const pl of parseProperties(dynText, c.dynamicConfigFile)) {
      if (pl.key === 'version') continue;
      const s = { key: pl.key, value: pl.value, where: `${c.dynamicConfigFile}:${pl.line}`, file: c.dynamicConfigFile, line: pl.line };
      if (!isQuorumKey(pl.key)) fail(s, 'is not a dynamic config parameter (server.N, group.N, weight.N)');
      dynEntries.push(s);
    }
    collectQuorum(c, dynEntries, multiAddressEnabled);
  } else {
    collectQuorum(c, quorumEntries, multiAddressEnabled);
  }

  const servers = c.servers!;
  const voting = [...servers.values()].filter((s) => s.type === 'participant').length;
  const observers = servers.size - voting;
  if (voting === 0) {
    if (!c.standaloneEnabled && servers.size > 0) {
      throw new ConfigError(`${file}: standaloneEnabled=false but no participant server.N is configured`, file);
    }
    if (observers > 0) throw new ConfigError(`${file}: observers without participants is an invalid configuration`, file);
  } else if (voting === 1 && c.standaloneEnabled) {
    // HBase writes a single server line; ZooKeeper ignores it and runs standalone.
    c.warnings.push('Invalid configuration, only one server specified (ignoring)');
    if (observers > 0) throw new ConfigError(`${file}: observers without a quorum is an invalid configuration`, file);
  } else if (voting <= 2) {
    c.warnings.push('No server failure will be tolerated. You need at least 3 servers.');
  } else if (voting % 2 === 0) {
    c.warnings.push('Non-optimal configuration, consider an odd number of servers.');
  }
  c.standalone = !(servers.size > 0 && (!c.standaloneEnabled || voting > 1));

  if (!opts.ignoreMyId) c.serverId = readMyId(c.dataDir);
  const me = c.serverId !== undefined ? servers.get(c.serverId) : undefined;
  if (me?.clientPort !== undefined) {
    if (c.clientPortSet && c.clientPort !== me.clientPort) {
      throw new ConfigError(
        `${file}: clientPort ${c.clientPort} differs from the client port ${me.clientPort} in server.${me.id}`,
        file,
      );
    }
    c.clientPort = me.clientPort;
    if (!clientPortAddressSrc && me.clientHost) c.clientPortAddress = me.clientHost;
    c.clientPortSet = true;
  }
  if (me) {
    if (c.peerType !== me.type) c.warnings.push(`peerType ${c.peerType} does not match server.${me.id}; using ${me.type}`);
    c.peerType = me.type;
  }

  if (c.secureClientPort !== undefined) {
    c.warnings.push(`secureClientPort ${c.secureClientPort} is set, but TLS is not supported; only the plaintext clientPort is served`);
  }
  if (!c.clientPortSet) {
    if (clientPortAddressSrc) {
      throw new ConfigError(`${clientPortAddressSrc.where}: clientPortAddress is set but clientPort is not set`, file, clientPortAddressSrc.line, 'clientPortAddress');
    }
    // ZooKeeper would start without listening for clients at all; that is never what anyone wants.
    throw new ConfigError(`${file}: clientPort is not set (nor a client port in server.<myid>)`, file, undefined, 'clientPort');
  }

  if (!c.standalone) {
    if (!c.initLimit) throw new ConfigError(`${file}: initLimit is not set`, file, undefined, 'initLimit');
    if (!c.syncLimit) throw new ConfigError(`${file}: syncLimit is not set`, file, undefined, 'syncLimit');
    if (c.serverId === undefined && !opts.ignoreMyId) {
      throw new ConfigError(`${path.join(c.dataDir, 'myid')}: myid file is missing`, file, undefined, 'myid');
    }
  }
  if (c.extendedTypesEnabled && c.serverId !== undefined && c.serverId > 254) {
    throw new ConfigError(`${path.join(c.dataDir, 'myid')}: extendedTypesEnabled is true but server id ${c.serverId} is larger than 254`);
  }

  const { clientPortSet: _a, minSet: _b, maxSet: _c, snapRetain: _d, ...config } = c;
  return config;
}

/** Reads and parses a zoo.cfg file; a missing or unreadable file is a ConfigError too. */
export function loadZooCfg(file: string, opts: Omit<ZooCfgOptions, 'path'> = {}): ServerConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file does not exist' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new ConfigError(`${file}: ${why}`, file);
  }
  return parseZooCfg(text, { ...opts, path: file });
}
