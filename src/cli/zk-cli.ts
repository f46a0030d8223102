#!/usr/bin/env node
// zk-cli: a shell with Apache ZooKeeper 3.8 zkCli's commands and output format.
//   zk-cli -server host:port[,host:port][/chroot]            interactive (readline, history, tab completion)
//   zk-cli -server host:port cmd args...                     one command; exit code 1 on error
// Like zkCli, results go to stdout and errors/notices ("Created /a", "Node does not exist: /a") to stderr.
import readline from 'node:readline';
import { ZooKeeper, ZooKeeperError, Err, Perm, type ACL, type Stat, type WatchedEvent } from '../client/index.js';
import { joinPath } from '../client/paths.js';
import { javaDate } from '../util/javaText.js';

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

class CliError extends Error {}

const USAGE: Array<[string, string]> = [
  ['addWatch', 'addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE'],
  ['addauth', 'addauth scheme auth'],
  ['close', 'close '],
  ['config', 'config [-c] [-w] [-s]'],
  ['connect', 'connect host:port'],
  ['create', 'create [-s] [-e] [-c] [-t ttl] path [data] [acl]'],
  ['delete', 'delete [-v version] path'],
  ['deleteall', 'deleteall path [-b batch size]'],
  ['delquota', 'delquota [-n|-b|-N|-B] path'],
  ['get', 'get [-s] [-w] path'],
  ['getAcl', 'getAcl [-s] path'],
  ['getAllChildrenNumber', 'getAllChildrenNumber path'],
  ['getEphemerals', 'getEphemerals path'],
  ['history', 'history '],
  ['listquota', 'listquota path'],
  ['ls', 'ls [-s] [-w] [-R] path'],
  ['printwatches', 'printwatches on|off'],
  ['quit', 'quit '],
  ['reconfig', 'reconfig [-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]'],
  ['redo', 'redo cmdno'],
  ['removewatches', 'removewatches path [-c|-d|-a] [-l]'],
  ['set', 'set [-s] [-v version] path data'],
  ['setAcl', 'setAcl [-s] [-v version] [-R] path acl'],
  ['setquota', 'setquota -n|-b|-N|-B val path'],
  ['stat', 'stat [-w] path'],
  ['sync', 'sync path'],
  ['version', 'version '],
  ['whoami', 'whoami '],
];
const usageOf = new Map(USAGE);

function printUsage(): void {
  err('ZooKeeper -server host:port -client-configuration properties-file cmd args');
  for (const [, u] of USAGE) err(`\t${u}`);
}

// ------------------------------------------------------------------ formatting (zkCli's)

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

function printStat(s: Stat): void {
  out(`cZxid = ${hex(s.czxid)}`);
  out(`ctime = ${javaDate(s.ctime)}`);
  out(`mZxid = ${hex(s.mzxid)}`);
  out(`mtime = ${javaDate(s.mtime)}`);
  out(`pZxid = ${hex(s.pzxid)}`);
  out(`cversion = ${s.cversion}`);
  out(`dataVersion = ${s.version}`);
  out(`aclVersion = ${s.aversion}`);
  out(`ephemeralOwner = ${hex(BigInt.asUintN(64, s.ephemeralOwner))}`);
  out(`dataLength = ${s.dataLength}`);
  out(`numChildren = ${s.numChildren}`);
}

function permString(perms: number): string {
  let p = '';
  if (perms & Perm.CREATE) p += 'c';
  if (perms & Perm.DELETE) p += 'd';
  if (perms & Perm.READ) p += 'r';
  if (perms & Perm.WRITE) p += 'w';
  if (perms & Perm.ADMIN) p += 'a';
  return p;
}

function parsePerms(s: string): number {
  let p = 0;
  for (const c of s) {
    const bit = { c: Perm.CREATE, d: Perm.DELETE, r: Perm.READ, w: Perm.WRITE, a: Perm.ADMIN }[c];
    if (bit === undefined) throw new CliError(`Unknown perm type: ${c}`);
    p |= bit;
  }
  return p;
}

/** "scheme:id:perms[,scheme:id:perms...]" split at the first and last colon (AclParser). */
function parseAcl(s: string): ACL[] {
  return s.split(',').map((a) => {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first < 0 || last === first) throw new CliError(`${a} does not have the form scheme:id:perm`);
    return { perms: parsePerms(a.slice(last + 1)), id: { scheme: a.slice(0, first), id: a.slice(first + 1, last) } };
  });
}

function printEvent(e: WatchedEvent): void {
  out('\nWATCHER::\n');
  out(`WatchedEvent state:${e.state} type:${e.type} path:${e.path}`);
}

/** Java's List.toString: "[a, b]". */
const javaList = (xs: string[]) => `[${xs.join(', ')}]`;

/** zkCli's wording for KeeperExceptions (CliWrapperException). */
function describeError(e: unknown, path: string | undefined): string {
  if (e instanceof ZooKeeperError) {
    const p = e.path ?? path;
    switch (e.code) {
      case Err.NoNode:
        return `Node does not exist: ${p}`;
      case Err.NodeExists:
        return `Node already exists: ${p}`;
      case Err.NotEmpty:
        return `Node not empty: ${p}`;
      case Err.BadVersion:
        return `version No is not valid : ${p}`;
      case Err.NoAuth:
        return `Insufficient permission : ${p}`;
      case Err.InvalidACL:
        return `Acl is not valid : ${p}`;
      case Err.NoChildrenForEphemerals:
        return `Ephemerals cannot have children: ${p}`;
      case Err.BadArguments:
        return e.message.startsWith('Invalid path') ? e.message : `KeeperErrorCode = BadArguments for ${p}`;
      default:
        return e.message;
    }
  }
  return e instanceof Error ? e.message : String(e);
}

// ------------------------------------------------------------------ argument parsing

interface Parsed {
  opts: Map<string, string | true>;
  args: string[];
}

/** Parses "-x" flags (those in `withValue` take the next word) and positional arguments. */
function parseArgs(words: string[], flags: string, withValue = ''): Parsed {
  const opts = new Map<string, string | true>();
  const args: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w.length === 2 && w[0] === '-' && (flags.includes(w[1]!) || withValue.includes(w[1]!))) {
      if (withValue.includes(w[1]!)) {
        const v = words[++i];
        if (v === undefined) throw new CliError('missing option value');
        opts.set(w[1]!, v);
      } else opts.set(w[1]!, true);
    } else if (w.length === 2 && w[0] === '-' && /[a-zA-Z]/.test(w[1]!)) {
      throw new CliError(`Unrecognized option: ${w}`);
    } else args.push(w);
  }
  return { opts, args };
}

/** Splits a command line like zkCli: whitespace-separated, with "double" or 'single' quoted words. */
function tokenize(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

// ------------------------------------------------------------------ quotas (zkCli writes these nodes itself)

const QUOTA_ROOT = '/zookeeper/quota';
const LIMITS = 'zookeeper_limits';
const STATS = 'zookeeper_stats';

function parseStatsTrack(s: string): Map<string, number> {
  const m = new Map<string, number>([
    ['count', -1],
    ['bytes', -1],
  ]);
  for (const part of s.split(/[,;]/)) {
    const [k, v] = part.split('=');
    if (k) m.set(k, v === undefined || v === '' ? -1 : Number(v));
  }
  return m;
}

function statsTrackString(m: Map<string, number>): string {
  let s = `count=${m.get('count') ?? -1},bytes=${m.get('bytes') ?? -1}`;
  const keys = [...m.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
  if (keys.length) s += '=' + keys.map((k) => `;${k}=${m.get(k)}`).join('');
  return s;
}

// ------------------------------------------------------------------ the shell

class Shell {
  zk: ZooKeeper | null = null;
  history: string[] = [];
  printWatches = true;
  // Session events (type None) are printed once, by the state listener in connect().
  private readonly watcher = (e: WatchedEvent) => {
    if (this.printWatches && e.type !== 'None') printEvent(e);
  };

  constructor(public server: string) {}

  async connect(server: string, afterConnecting?: () => void): Promise<void> {
    if (this.zk) await this.zk.close();
    this.server = server;
    out(`Connecting to ${server}`);
    afterConnecting?.();
    const zk = new ZooKeeper(server, { sessionTimeout: 30000 });
    this.zk = zk;
    zk.on('state', (s) => {
      const state = { connected: 'SyncConnected', disconnected: 'Disconnected', expired: 'Expired', authFailed: 'AuthFailed', closed: 'Closed', connecting: null }[s];
      if (state && this.zk === zk && this.printWatches) printEvent({ type: 'None', state: state as WatchedEvent['state'], path: null, zxid: -1 });
    });
    await zk.waitConnected(30000).catch(() => {});
  }

  private client(): ZooKeeper {
    if (!this.zk || this.zk.state === 'closed' || this.zk.state === 'expired') throw new ZooKeeperError(Err.ConnectionLoss);
    return this.zk;
  }

  /** Runs one command line; returns false when the command failed. */
  async execute(line: string, record = true): Promise<boolean> {
    const words = tokenize(line);
    if (words.length === 0) return true;
    if (record) this.history.push(line);
    const [cmd, ...rest] = words as [string, ...string[]];
    let path: string | undefined;
    try {
      path = await this.run(cmd, rest);
      return true;
    } catch (e) {
      if (e instanceof QuitSignal) throw e;
      if (e instanceof CliError) {
        if (e.message) err(e.message);
        return false;
      }
      err(describeError(e, path ?? rest.filter((w) => w.startsWith('/'))[0]));
      return false;
    }
  }

  private usage(cmd: string): never {
    throw new CliError(usageOf.get(cmd) ?? '');
  }

  private async run(cmd: string, words: string[]): Promise<string | undefined> {
    switch (cmd) {
      case 'ls': {
        const { opts, args } = parseArgs(words, 'swR');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const zk = this.client();
        if (opts.has('R')) {
          const walk = async (p: string): Promise<void> => {
            out(p);
            for (const c of (await zk.getChildren(p)).sort()) await walk(joinPath(p, c));
          };
          await walk(path);
          return path;
        }
        const res = opts.has('w') ? await zk.getChildren2(path, this.watcher) : await zk.getChildren2(path);
        out(javaList(res.children.sort()));
        if (opts.has('s')) printStat(res.stat);
        return path;
      }
      case 'create': {
        const { opts, args } = parseArgs(words, 'sec', 't');
        const [path, data, acl] = args;
        if (!path || args.length > 3) this.usage(cmd);
        const s = opts.has('s');
        const e = opts.has('e');
        const c = opts.has('c');
        const ttl = opts.get('t');
        if (e && ttl) throw new CliError('TTLs cannot be used with Ephemeral znodes');
        if (c && (s || e || ttl)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
        const mode = c ? 'CONTAINER' : ttl ? (s ? 'PERSISTENT_SEQUENTIAL_WITH_TTL' : 'PERSISTENT_WITH_TTL') : e ? (s ? 'EPHEMERAL_SEQUENTIAL' : 'EPHEMERAL') : s ? 'PERSISTENT_SEQUENTIAL' : 'PERSISTENT';
        const created = await this.client().create(path, data === undefined ? null : data, {
          mode,
          ...(acl ? { acl: parseAcl(acl) } : {}),
          ...(typeof ttl === 'string' ? { ttl: Number(ttl) } : {}),
        });
        err(`Created ${created}`);
        return path;
      }
      case 'get': {
        const { opts, args } = parseArgs(words, 'sw');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const zk = this.client();
        const res = opts.has('w') ? await zk.getData(path, this.watcher) : await zk.getData(path);
        out(res.data === null ? 'null' : res.data.toString('utf8'));
        if (opts.has('s')) printStat(res.stat);
        return path;
      }
      case 'set': {
        const { opts, args } = parseArgs(words, 's', 'v');
        const [path, data] = args;
        if (!path || data === undefined || args.length > 2) this.usage(cmd);
        const v = opts.get('v');
        const stat = await this.client().setData(path, data, typeof v === 'string' ? Number(v) : -1);
        if (opts.has('s')) printStat(stat);
        return path;
      }
      case 'stat': {
        const { opts, args } = parseArgs(words, 'w');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const zk = this.client();
        const stat = opts.has('w') ? await zk.exists(path, this.watcher) : await zk.exists(path);
        if (!stat) throw new ZooKeeperError(Err.NoNode, path);
        printStat(stat);
        return path;
      }
      case 'delete': {
        const { opts, args } = parseArgs(words, '', 'v');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const v = opts.get('v');
        await this.client().delete(path, typeof v === 'string' ? Number(v) : -1);
        return path;
      }
      case 'deleteall': {
        const { args } = parseArgs(words, '', 'b');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const zk = this.client();
        const order: string[] = [];
        const walk = async (p: string): Promise<void> => {
          order.push(p);
          for (const c of await zk.getChildren(p)) await walk(joinPath(p, c));
        };
        await walk(path);
        try {
          for (const p of order.reverse()) await zk.delete(p);
        } catch {
          throw new CliError('Failed to delete some node(s) in the subtree!');
        }
        return path;
      }
      case 'getAcl': {
        const { opts, args } = parseArgs(words, 's');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const { acl, stat } = await this.client().getACL(path);
        for (const a of acl) {
          out(`'${a.id.scheme},'${a.id.id}`);
          out(`: ${permString(a.perms)}`);
        }
        if (opts.has('s')) printStat(stat);
        return path;
      }
      case 'setAcl': {
        const { opts, args } = parseArgs(words, 'sR', 'v');
        const [path, aclText] = args;
        if (!path || !aclText || args.length > 2) this.usage(cmd);
        const acl = parseAcl(aclText);
        const v = opts.get('v');
        const zk = this.client();
        if (opts.has('R')) {
          const walk = async (p: string): Promise<void> => {
            await zk.setACL(p, acl, -1);
            for (const c of await zk.getChildren(p)) await walk(joinPath(p, c));
          };
          await walk(path);
        } else {
          const stat = await zk.setACL(path, acl, typeof v === 'string' ? Number(v) : -1);
          if (opts.has('s')) printStat(stat);
        }
        return path;
      }
      case 'addauth': {
        if (words.length < 1) this.usage(cmd);
        await this.client().addAuth(words[0]!, words[1] ?? '');
        return undefined;
      }
      case 'whoami': {
        const who = await this.client().whoAmI();
        out('Auth scheme: User');
        for (const w of who) out(`${w.authScheme}: ${w.user}`);
        return undefined;
      }
      case 'sync': {
        const path = words[0];
        if (!path) this.usage(cmd);
        await this.client().sync(path);
        out('Sync is OK');
        return path;
      }
      case 'getEphemerals': {
        const list = await this.client().getEphemerals(words[0] ?? '/');
        out(javaList(list));
        return undefined;
      }
      case 'getAllChildrenNumber': {
        const path = words[0];
        if (!path) this.usage(cmd);
        out(String(await this.client().getAllChildrenNumber(path)));
        return path;
      }
      case 'addWatch': {
        const { opts, args } = parseArgs(words, '', 'm');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const m = opts.get('m');
        const mode = m === undefined ? 'PERSISTENT_RECURSIVE' : m;
        if (mode !== 'PERSISTENT' && mode !== 'PERSISTENT_RECURSIVE') throw new CliError(`Unsupported mode: ${mode}`);
        await this.client().addWatch(path, this.watcher, mode);
        return path;
      }
      case 'removewatches': {
        const { opts, args } = parseArgs(words, 'cdal');
        const path = args[0];
        if (!path || args.length > 1) this.usage(cmd);
        const type = opts.has('c') ? 'Children' : opts.has('d') ? 'Data' : 'Any';
        await this.client().removeWatches(path, type, { local: opts.has('l') });
        return path;
      }
      case 'setquota':
        return this.setQuota(words);
      case 'listquota':
        return this.listQuota(words);
      case 'delquota':
        return this.delQuota(words);
      case 'config': {
        const { opts } = parseArgs(words, 'cws');
        const zk = this.client();
        const res = opts.has('w') ? await zk.getData('/zookeeper/config', this.watcher) : await zk.getData('/zookeeper/config');
        out(res.data === null ? '' : res.data.toString('utf8'));
        if (opts.has('s')) printStat(res.stat);
        return undefined;
      }
      case 'history': {
        const n = this.history.length - 1;
        for (let i = Math.max(0, n - 10); i <= n; i++) out(`${i} - ${this.history[i]}`);
        return undefined;
      }
      case 'redo': {
        const i = Number(words[0]);
        if (!words[0] || !Number.isInteger(i) || i < 0 || i >= this.history.length - 1) throw new CliError('Command index out of range');
        const line = this.history[i]!;
        this.history[this.history.length - 1] = line;
        const ok = await this.execute(line, false);
        if (!ok) throw new CliError('');
        return undefined;
      }
      case 'printwatches': {
        if (words[0] === 'on') this.printWatches = true;
        else if (words[0] === 'off') this.printWatches = false;
        else out(`printwatches is ${this.printWatches ? 'on' : 'off'}`);
        return undefined;
      }
      case 'connect': {
        await this.connect(words[0] ?? this.server);
        return undefined;
      }
      case 'close': {
        await this.zk?.close();
        return undefined;
      }
      case 'version': {
        out('ZooKeeper CLI version: 3.8.0 (zookeeper-ts zk-cli)');
        return undefined;
      }
      case 'quit':
        throw new QuitSignal();
      default:
        printUsage();
        throw new CliError(`Command not found: Command not found ${cmd}`);
    }
  }

  private async setQuota(words: string[]): Promise<string> {
    const { opts, args } = parseArgs(words, '', 'nbNB');
    const path = args[0];
    const flags = ['n', 'b', 'N', 'B'].filter((f) => opts.has(f));
    if (!path || flags.length !== 1) this.usage('setquota');
    const flag = flags[0]!;
    const value = Number(opts.get(flag));
    const zk = this.client();
    if (!(await zk.exists(path))) throw new ZooKeeperError(Err.NoNode, path);
    const quotaPath = QUOTA_ROOT + path;
    const limitsPath = `${quotaPath}/${LIMITS}`;
    const key = { n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit' }[flag]!;
    const existing = await zk.getData(limitsPath).catch(() => null);
    const limits = existing?.data ? parseStatsTrack(existing.data.toString()) : new Map<string, number>([['count', -1], ['bytes', -1]]);
    if (!limits.has('countHardLimit')) limits.set('countHardLimit', -1);
    if (!limits.has('byteHardLimit')) limits.set('byteHardLimit', -1);
    limits.set(key, value);
    if (existing) {
      await zk.setData(limitsPath, statsTrackString(limits));
    } else {
      let cur = QUOTA_ROOT;
      for (const seg of path.split('/').slice(1)) {
        cur += `/${seg}`;
        await zk.create(cur, null).catch((e) => {
          if (!(e instanceof ZooKeeperError && e.code === Err.NodeExists)) throw e;
        });
      }
      await zk.create(limitsPath, statsTrackString(limits));
      await zk.create(`${quotaPath}/${STATS}`, 'count=0,bytes=0');
    }
    return path;
  }

  /** The zookeeper_limits node of a quota, or null (after zkCli's message) when there is none. */
  private async readLimits(path: string): Promise<{ data: Buffer | null } | null> {
    try {
      return await this.client().getData(`${QUOTA_ROOT}${path}/${LIMITS}`);
    } catch (e) {
      if (e instanceof ZooKeeperError && e.code === Err.NoNode) {
        err(`quota for ${path} does not exist.`);
        return null;
      }
      throw e;
    }
  }

  private async listQuota(words: string[]): Promise<string> {
    const path = words[0];
    if (!path) this.usage('listquota');
    const zk = this.client();
    err(`absolute path is ${QUOTA_ROOT}${path}/${LIMITS}`);
    const limits = await this.readLimits(path);
    if (!limits) return path;
    out(`Output quota for ${path} ${statsTrackString(parseStatsTrack(limits.data?.toString() ?? ''))}`);
    const stats = await zk.getData(`${QUOTA_ROOT}${path}/${STATS}`).catch(() => null);
    if (stats) out(`Output stat for ${path} ${statsTrackString(parseStatsTrack(stats.data?.toString() ?? ''))}`);
    return path;
  }

  private async delQuota(words: string[]): Promise<string> {
    const { opts, args } = parseArgs(words, 'nbNB');
    const path = args[0];
    if (!path) this.usage('delquota');
    const zk = this.client();
    const quotaPath = QUOTA_ROOT + path;
    const limitsPath = `${quotaPath}/${LIMITS}`;
    const flags = ['n', 'b', 'N', 'B'].filter((f) => opts.has(f));
    const limits = await this.readLimits(path);
    if (!limits) return path;
    if (flags.length === 0) {
      await zk.delete(limitsPath).catch(() => {});
      await zk.delete(`${quotaPath}/${STATS}`).catch(() => {});
      // remove now-empty mirror directories up to the quota root
      for (let p = quotaPath; p !== QUOTA_ROOT; p = p.slice(0, p.lastIndexOf('/'))) {
        try {
          await zk.delete(p);
        } catch {
          break;
        }
      }
      return path;
    }
    const m = parseStatsTrack(limits.data?.toString() ?? '');
    for (const f of flags) m.set({ n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit' }[f]!, -1);
    await zk.setData(limitsPath, statsTrackString(m));
    return path;
  }
}

class QuitSignal extends Error {}

const COMMANDS = USAGE.map(([c]) => c);

async function main(argv: string[]): Promise<number> {
  let server = 'localhost:2181';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-server') server = argv[++i] ?? server;
    else if (argv[i] === '-timeout' || argv[i] === '-client-configuration') i++;
    else if (argv[i] === '-r' || argv[i] === '-waitforconnection') continue;
    else rest.push(argv[i]!);
  }
  const shell = new Shell(server);
  const interactive = process.stdin.isTTY === true;
  await shell.connect(server, () => {
    if (rest.length === 0 && !interactive) {
      out('Welcome to ZooKeeper!');
      out('JLine support is disabled');
    }
  });
  if (rest.length > 0) {
    // zkCli quotes nothing in this mode: arguments are the command words as given.
    let ok: boolean;
    try {
      ok = await shell.execute(rest.map((w) => (/\s/.test(w) ? `"${w}"` : w)).join(' '));
    } catch (e) {
      if (!(e instanceof QuitSignal)) throw e;
      ok = true;
    }
    shell.printWatches = false; // zkCli exits without reporting the Closed event in this mode
    await shell.zk?.close();
    return ok ? 0 : 1;
  }
  const rl = readline.createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    historySize: 1000,
    // Like zkCli's JLine completer: command names first, then znode paths.
    completer: (line: string, done: (err: null, result: [string[], string]) => void): void => {
      const words = line.split(/\s+/);
      const last = words[words.length - 1] ?? '';
      if (words.length <= 1) {
        done(null, [COMMANDS.filter((c) => c.startsWith(last)), last]);
        return;
      }
      if (!last.startsWith('/') || !shell.zk) {
        done(null, [[], last]);
        return;
      }
      const dir = last.substring(0, last.lastIndexOf('/')) || '/';
      const prefix = last.substring(last.lastIndexOf('/') + 1);
      shell.zk.getChildren(dir).then(
        (children) => {
          const base = dir === '/' ? '/' : dir + '/';
          done(null, [children.filter((c) => c.startsWith(prefix)).sort().map((c) => base + c), last]);
        },
        () => done(null, [[], last]),
      );
    },
  });
  const prompt = () => `[zk: ${server}(${shell.zk?.state === 'connected' ? 'CONNECTED' : shell.zk?.state?.toUpperCase() ?? 'CLOSED'}) ${shell.history.length}] `;
  let lastOk = true;
  if (interactive) {
    rl.setPrompt(prompt());
    rl.prompt();
  }
  try {
    for await (const line of rl) {
      try {
        lastOk = await shell.execute(line);
      } catch (e) {
        if (e instanceof QuitSignal) break;
        throw e;
      }
      if (interactive) {
        rl.setPrompt(prompt());
        rl.prompt();
      }
    }
  } finally {
    rl.close();
  }
  await shell.zk?.close();
  return lastOk ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    err(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
