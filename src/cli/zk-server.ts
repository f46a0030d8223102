#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=4 --heap-growing-percent=50
// zk-server: the operator's command, shaped after Apache ZooKeeper's bin/zkServer.sh so the same
// habits and scripts work: start / start-foreground / stop / restart / status / print-cmd / version,
// the same config-path rules (ZOOCFGDIR, `--config <dir>`, a bare file name is looked up in the
// config dir), the pid file in <dataDir>/zookeeper_server.pid (or ZOOPIDFILE), and the same lines
// on the terminal ("Starting zookeeper ... STARTED", "Mode: standalone", ...).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadZooCfg, parseJvmFlags } from '../config/ZooCfg.js';
import type { ServerConfig } from '../config/ServerConfig.js';
import type { ServerLogger } from '../server/ZkServer.js';
import { LogSettingsError, ServerLog, logSettings, type Level } from './ServerLog.js';
import { SERVER_ENV, serverNodeFlagsFor, withServerEnv } from './nodeFlags.js';

const SCRIPT = fileURLToPath(import.meta.url);
/** dist/src/cli/zk-server.js → the package root. */
const PACKAGE_ROOT = path.resolve(path.dirname(SCRIPT), '../../..');

const USAGE =
  'Usage: zk-server [--config <conf-dir>] ' +
  '{start|start-foreground|stop|version|restart|status|print-cmd} [zoo.cfg]\n' +
  '       zk-server [--config <conf-dir>] backup <dir> [zoo.cfg | --admin-url <url>] [--auth "<scheme> <auth>"]\n' +
  '       zk-server [--config <conf-dir>] restore <backup dir> [zoo.cfg] [--force]\n' +
  '       zk-server dump-snapshot <snapshot file>\n' +
  '       zk-server dump-log <txn log file>';

const HELP = `${USAGE}

  start [zoo.cfg]             run the server in the background; pid in <dataDir>/zookeeper_server.pid
  start-foreground [zoo.cfg]  run the server in this process (Ctrl-C or SIGTERM stops it)
  stop [zoo.cfg]              stop the server started with 'start' (SIGTERM to the pid in the pid file)
  restart [zoo.cfg]           stop, then start
  status [zoo.cfg]            ask the server on the client port ('srvr') and print its mode
  print-cmd [zoo.cfg]         print the command line 'start' runs
  version                     print the version
  backup <dir> [zoo.cfg]      copy the running server's tree, exact at one zxid, into <dir>/version-2
                              (snapshot + txn log, a data directory ZooKeeper 3.8 starts from), through
                              the AdminServer; --auth "digest user:password" (or $ZK_ADMIN_AUTH;
                              default "ip") must hold ALL permissions on /; --admin-url
                              http://host:8080/commands backs up another host's server
  restore <dir> [zoo.cfg]     copy a backup into the configured dataDir/dataLogDir, which must hold no
                              snapshot or log (--force replaces them); the server must be stopped
  dump-snapshot <file>        print a snapshot file (snapshot.<zxid>) in readable form
  dump-log <file>             print a transaction log file (log.<zxid>) in readable form

The config file defaults to $ZOOCFGDIR/zoo.cfg (ZOOCFGDIR defaults to ./conf, else the package's conf/).
A bare file name is looked up in that directory; a path with a directory part is used as given.
Environment: ZOOCFGDIR, ZOOCFG, ZOOPIDFILE, ZOO_LOG_DIR (where 'start' writes the server's output and,
with audit.enable=true, zookeeper_audit.log; default: dataDir), SERVER_JVMFLAGS / JVMFLAGS (-Dzookeeper.<key>=value settings, -Djute.maxbuffer=N).
Logging: ZOO_LOG4J_PROP=<level>,<appender>... (default INFO,CONSOLE; appenders CONSOLE, ROLLINGFILE;
-Dzookeeper.root.logger wins), ROLLINGFILE writes $ZOO_LOG_DIR/zookeeper-<user>-server-<host>.log
(ZOO_LOG_FILE) rolled at -Dzookeeper.log.maxfilesize=256MB keeping -Dzookeeper.log.maxbackupindex=20;
-Dzookeeper.log.format=json (or ZOO_LOG_FORMAT=json) for JSON lines.
As zkEnv.sh, $ZOOCFGDIR/zookeeper-env.sh and java.env are sourced (through sh) when present.
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- config location

interface Invocation {
  command: string;
  args: string[];
  confDir: string;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Invocation {
  let confDir: string | undefined = env.ZOOCFGDIR || undefined;
  const rest = [...argv];
  if (rest[0] === '--config') {
    if (rest.length < 2) throw new UsageError('--config needs a directory');
    confDir = rest[1];
    rest.splice(0, 2);
  }
  if (!confDir) {
    const local = path.resolve('conf');
    confDir = fs.existsSync(local) ? 'conf' : path.join(PACKAGE_ROOT, 'conf');
  }
  return { command: rest[0] ?? '', args: rest.slice(1), confDir };
}

class UsageError extends Error {}

/** zkServer.sh: a bare name lives in ZOOCFGDIR; anything with a directory part is taken as given. */
function configPath(inv: Invocation, env: NodeJS.ProcessEnv): string {
  const arg = inv.args[0];
  if (arg === undefined) return path.join(inv.confDir, env.ZOOCFG || 'zoo.cfg');
  if (path.dirname(arg) === '.' && !arg.startsWith('./')) {
    const inConfDir = path.join(inv.confDir, arg);
    // Friendlier than zkServer.sh: fall back to the working directory when the conf dir lacks it.
    if (fs.existsSync(inConfDir) || !fs.existsSync(arg)) return inConfDir;
  }
  return arg;
}

/**
 * zkEnv.sh sources $ZOOCFGDIR/zookeeper-env.sh and then $ZOOCFGDIR/java.env, where operators set
 * ZOO_LOG_DIR, ZOO_LOG4J_PROP, SERVER_JVMFLAGS and the like. Run them through sh as zkEnv.sh does
 * (every assignment counts, exported or not) and take the resulting environment. The server
 * process 'start' spawns inherits the result and does not source them a second time.
 */
function sourceConfEnv(confDir: string, env: NodeJS.ProcessEnv): void {
  if (env.ZK_SERVER_CONF_ENV_SOURCED) return;
  const files = ['zookeeper-env.sh', 'java.env'].map((f) => path.resolve(confDir, f)).filter((f) => fs.existsSync(f));
  if (files.length === 0) return;
  // The scripts' own output goes to stderr so that only `env -0` is on stdout.
  const r = spawnSync('sh', ['-c', 'set -a; for f; do . "$f" >&2 || exit 1; done; env -0', 'sh', ...files], {
    env: { ...env, ZOOCFGDIR: path.resolve(confDir) },
    encoding: 'utf8',
    timeout: 10000,
  });
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim() || `exit status ${r.status ?? r.signal}`);
    throw new ConfigError(`could not source ${files.join(' and ')}: ${why}`);
  }
  if (r.stderr) process.stderr.write(r.stderr);
  for (const kv of r.stdout.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const k = kv.slice(0, eq);
    // What the shell itself sets is not the operator's.
    if (k === 'PWD' || k === 'OLDPWD' || k === 'SHLVL' || k === '_') continue;
    env[k] = kv.slice(eq + 1);
  }
  env.ZK_SERVER_CONF_ENV_SOURCED = '1';
}

function pidFile(config: ServerConfig, env: NodeJS.ProcessEnv): string {
  return env.ZOOPIDFILE || path.join(config.dataDir, 'zookeeper_server.pid');
}

function outFile(config: ServerConfig | undefined, env: NodeJS.ProcessEnv): string {
  const dir = env.ZOO_LOG_DIR || config?.dataDir || process.cwd();
  const user = env.USER || safeUserName();
  return path.join(dir, `zookeeper-${user}-server-${os.hostname()}.out`);
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The node command line `start` runs (also what print-cmd shows); the config decides the GC threading. */
function serverArgs(cfgPath: string, config: ServerConfig | undefined): string[] {
  return [...serverNodeFlagsFor(config, process.execArgv), SCRIPT, 'start-foreground', cfgPath];
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- logging (start-foreground)

/** The configured log once start-foreground has read its settings; before that, the console. */
let serverLog: ServerLog | null = null;

/** ZooKeeper's log4j layout, so habits like `grep WARN` and `grep -i standalone` keep working. */
function log(level: Level, where: string, msg: string, myid = ''): void {
  if (serverLog) {
    serverLog.log(level, where, msg);
    return;
  }
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const ts =
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
  const line = `${ts} [myid:${myid}] - ${level.padEnd(5)} [main:${where}] - ${msg}\n`;
  (level === 'INFO' ? process.stdout : process.stderr).write(line);
}

/**
 * The server's logger: `info`/`debug` exist only when that level is on, so the server's
 * `logger.debug?.(`…`)` builds no string otherwise.
 */
function serverLogger(l: ServerLog): ServerLogger {
  const at = (level: Level) => (m: string, source?: string) => l.log(level, source ?? 'ZooKeeperServer', m);
  return {
    warn: at('WARN'),
    error: at('ERROR'),
    info: l.enabled('INFO') ? at('INFO') : undefined,
    debug: l.enabled('DEBUG') ? at('DEBUG') : undefined,
  };
}

// ---------------------------------------------------------------- process helpers

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a zk-server. A stale pid file may name a pid the OS has since given to an
 * unrelated process; we must not signal that. Without /proc we cannot tell, and trust the file.
 */
function isOurServer(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('start-foreground') && cmdline.some((a) => a.endsWith('zk-server.js') || a.endsWith('zk-server'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return !(code === 'ENOENT' && fs.existsSync('/proc/self'));
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Host to dial for a configured bind address (the wildcard is reached through loopback). */
function dialHost(addr: string): string {
  if (addr === '0.0.0.0' || addr === '') return '127.0.0.1';
  if (addr === '::' || addr === '[::]') return '::1';
  return addr.replace(/^\[(.*)\]$/, '$1');
}

/** Sends a four-letter word; resolves with everything the server wrote before closing. */
function fourLetterWord(host: string, port: number, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to '${word}' within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.end(word));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function portAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function tail(file: string, lines = 10): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------- commands

/**
 * zkServer.sh's ZOO_DATADIR_AUTOCREATE_DISABLE: refuse to start unless the data directories were
 * initialised. The system property zookeeper.datadir.autocreate=false (zoo.cfg
 * `datadir.autocreate=false`, or -D in JVMFLAGS) turns creation off the same way.
 */
function autocreate(config: ServerConfig, env: NodeJS.ProcessEnv): boolean {
  return !env.ZOO_DATADIR_AUTOCREATE_DISABLE && config.systemProperties?.get('zookeeper.datadir.autocreate') !== 'false';
}

/** The message zkServer.sh prints when autocreate is off and a directory is missing, or undefined. */
function missingDataDir(config: ServerConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (!env.ZOO_DATADIR_AUTOCREATE_DISABLE) return undefined;
  if (!fs.existsSync(path.join(config.dataDir, 'version-2'))) {
    return `ZooKeeper data directory is missing at ${config.dataDir} fix the path or run initialize`;
  }
  if (config.dataLogDir !== config.dataDir && !fs.existsSync(path.join(config.dataLogDir, 'version-2'))) {
    return `ZooKeeper txnlog directory is missing at ${config.dataLogDir} fix the path or run initialize`;
  }
  return undefined;
}

async function startForeground(cfgPath: string, env: NodeJS.ProcessEnv): Promise<number> {
  // Listen for SIGTERM/SIGINT from the first moment: a supervisor may stop us while we recover.
  let signalled: NodeJS.Signals | undefined;
  let onSignal: (sig: NodeJS.Signals) => void = (sig) => {
    signalled ??= sig;
  };
  const handler = (sig: NodeJS.Signals) => onSignal(sig);
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);

  const config = loadZooCfg(cfgPath, { env });
  const myid = config.serverId === undefined ? '' : String(config.serverId);
  // The log's place may depend on dataDir, so it opens once the config is read.
  const slog = new ServerLog(logSettings(env, parseJvmFlags(env), config.dataDir));
  slog.myid = myid;
  serverLog = slog;
  log('INFO', 'QuorumPeerConfig', `Reading configuration from: ${cfgPath}`);
  for (const w of config.warnings ?? []) log('WARN', 'QuorumPeerConfig', w, myid);
  const missing = missingDataDir(config, env);
  if (missing) {
    process.stdout.write(`${missing}\n`);
    return 1;
  }
  if (!config.standalone) {
    // As Apache's QuorumPeerConfig: a member must know which server.N it is.
    if (config.serverId === undefined) throw new ConfigError(`${path.join(config.dataDir, 'myid')} file is missing`);
    if (!config.servers?.has(config.serverId)) throw new ConfigError(`${cfgPath}: myid ${config.serverId} has no server.${config.serverId} line`);
    return runQuorumMember(config, myid, env.ZOO_LOG_DIR || undefined, (f) => (onSignal = f), () => signalled);
  }
  log('WARN', 'QuorumPeerMain', 'Either no config or no quorum defined in config, running in standalone mode', myid);
  log(
    'INFO',
    'ZooKeeperServer',
    `Created server with tickTime ${config.tickTime} minSessionTimeout ${config.minSessionTimeout} ` +
      `maxSessionTimeout ${config.maxSessionTimeout} clientPortListenBacklog ${config.clientPortListenBacklog} ` +
      `datadir ${path.join(config.dataLogDir, 'version-2')} snapdir ${path.join(config.dataDir, 'version-2')}`,
    myid,
  );

  const { ZkServer } = await import('../server/ZkServer.js');
  const { recover } = await import('../storage/Recovery.js');
  const { storageSettings } = await import('../server/StorageSettings.js');
  const { auditEnabled, auditRotation } = await import('../server/AuditLog.js');
  // A bad rotation knob stops the start here, with the other settings errors, not mid-start.
  if (auditEnabled(config)) auditRotation(config);
  log('INFO', 'ZKAuditProvider', auditEnabled(config) ? 'ZooKeeper audit is enabled.' : 'ZooKeeper audit is disabled.', myid);
  // Durable storage in dataDir/dataLogDir: newest valid snapshot + log replay, then the live log.
  const server = new ZkServer(config, () =>
    recover(storageSettings(config, { autocreate: autocreate(config, env) }), {
      logger: { info: (m) => log('INFO', 'FileTxnSnapLog', m, myid), warn: (m) => log('WARN', 'FileTxnSnapLog', m, myid) },
    }),
    {
      logger: serverLogger(slog),
      // zookeeper_audit.log goes where the server's output goes (zkEnv.sh: zookeeper.log.dir from ZOO_LOG_DIR).
      auditLogDir: env.ZOO_LOG_DIR || undefined,
      // As ZooKeeper: a failed txn log is unrecoverable in-process. Exit non-zero so a supervisor
      // restarts us and recovery runs; nothing unpersisted was acknowledged.
      onFatal: (err) => {
        log('ERROR', 'ZooKeeperServer', `Severe unrecoverable error, exiting: ${err.message}`, myid);
        const exit = () => void closeLog().then(() => process.exit(1));
        setTimeout(exit, 5000).unref();
        server.stop().then(exit, exit);
      },
    },
  );
  await server.start();
  const bound = `${config.clientPortAddress}:${config.clientPort}`;
  log('INFO', 'ZkServer', `zk-server ${packageVersion()} started in standalone mode, serving clients on ${bound} (pid ${process.pid})`, myid);
  // Tell a parent `zk-server start` we are up, then let it go.
  if (process.send) {
    process.send({ ready: true });
    process.disconnect();
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    onSignal = (sig) => {
      if (stopping) {
        log('WARN', 'ZkServer', `Received ${sig} again during shutdown; exiting now`, myid);
        resolve(1);
        return;
      }
      stopping = true;
      log('INFO', 'ZkServer', `Received ${sig}, shutting down`, myid);
      server.stop().then(
        () => {
          log('INFO', 'ZkServer', 'shutdown complete', myid);
          resolve(0);
        },
        (e: unknown) => {
          log('ERROR', 'ZkServer', `error during shutdown: ${(e as Error).message}`, myid);
          resolve(1);
        },
      );
    };
    if (signalled) onSignal(signalled);
  });
}

/** A quorum zoo.cfg (server.N lines and a myid): run one ensemble member until signalled. */
async function runQuorumMember(
  config: ReturnType<typeof loadZooCfg>,
  myid: string,
  auditLogDir: string | undefined,
  setOnSignal: (f: (sig: NodeJS.Signals) => void) => void,
  signalled: () => NodeJS.Signals | undefined,
): Promise<number> {
  const { QuorumPeer } = await import('../server/QuorumPeer.js');
  const peerLog = (where: string) => ({
    info: (m: string) => log('INFO', where, m, myid),
    warn: (m: string) => log('WARN', where, m, myid),
    error: (m: string) => log('ERROR', where, m, myid),
  });
  const peer = new QuorumPeer(config, {
    logger: peerLog('QuorumPeer'),
    auditLogDir,
    // As standalone: a failed txn log is unrecoverable in-process; exit so a supervisor restarts us.
    onFatal: (err) => {
      log('ERROR', 'ZooKeeperServer', `Severe unrecoverable error, exiting: ${err.message}`, myid);
      const exit = () => process.exit(1);
      setTimeout(exit, 5000).unref();
      peer.stop().then(exit, exit);
    },
  });
  await peer.start();
  log('INFO', 'ZkServer', `zk-server ${packageVersion()} started as member ${myid} of a ${config.servers!.size}-server ensemble, ` +
    `client port ${config.clientPortAddress}:${config.clientPort} (pid ${process.pid})`, myid);
  if (process.send) {
    process.send({ ready: true });
    process.disconnect();
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        resolve(1);
        return;
      }
      stopping = true;
      log('INFO', 'ZkServer', `Received ${sig}, shutting down`, myid);
      peer.stop().then(() => resolve(0), (e: unknown) => {
        log('ERROR', 'ZkServer', `error during shutdown: ${(e as Error).message}`, myid);
        resolve(1);
      });
    };
    setOnSignal(onSignal);
    const s = signalled();
    if (s) onSignal(s);
  });
}

async function start(cfgPath: string, env: NodeJS.ProcessEnv): Promise<number> {
  process.stdout.write('Starting zookeeper ... ');
  try {
    return await startDaemon(cfgPath, env);
  } catch (e) {
    // The reason follows on stderr; keep the zkServer.sh line complete.
    process.stdout.write('FAILED TO START\n');
    throw e;
  }
}

async function startDaemon(cfgPath: string, env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadZooCfg(cfgPath);
  const missing = missingDataDir(config, env);
  if (missing) {
    process.stdout.write(`\n${missing}\n`);
    return 1;
  }
  const pf = pidFile(config, env);
  fs.mkdirSync(path.dirname(pf), { recursive: true });
  const oldPid = readPid(pf);
  if (oldPid !== undefined && isAlive(oldPid) && isOurServer(oldPid)) {
    process.stdout.write(`already running as process ${oldPid}.\n`);
    return 1;
  }
  const host = dialHost(config.clientPortAddress);
  if (await portAnswers(host, config.clientPort, 500)) {
    process.stdout.write('FAILED TO START\n');
    process.stderr.write(`Something is already listening on ${host}:${config.clientPort}.\n`);
    return 1;
  }

  const out = outFile(config, env);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const outFd = fs.openSync(out, 'a');
  const child = spawn(process.execPath, serverArgs(cfgPath, config), {
    detached: true,
    stdio: ['ignore', outFd, outFd, 'ipc'],
    env: withServerEnv(env),
  });
  fs.closeSync(outFd);
  // A spawn failure shows up as an undefined pid below; without a listener it would crash us.
  child.on('error', () => {});
  if (child.pid === undefined) {
    process.stdout.write('SERVER DID NOT START\n');
    return 1;
  }
  // zkServer.sh writes the pid without a newline.
  fs.writeFileSync(pf, String(child.pid));

  const timeoutMs = Number(env.ZK_SERVER_START_TIMEOUT_MS) || 30000;
  const outcome = await new Promise<'ready' | 'exited' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.once('message', (m: { ready?: boolean }) => {
      if (m && m.ready) {
        clearTimeout(timer);
        resolve('ready');
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve('exited');
    });
  });
  if (outcome === 'ready' && (await portAnswers(host, config.clientPort, 2000))) {
    if (child.connected) child.disconnect();
    child.unref();
    process.stdout.write('STARTED\n');
    return 0;
  }
  if (outcome !== 'exited') {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  fs.rmSync(pf, { force: true });
  process.stdout.write('FAILED TO START\n');
  const why = tail(out, 5);
  process.stderr.write(
    (outcome === 'timeout' ? `The server did not answer on ${host}:${config.clientPort} within ${timeoutMs} ms.\n` : '') +
      (why ? `Last lines of ${out}:\n${why}\n` : `See ${out}.\n`),
  );
  return 1;
}

async function stop(cfgPath: string, env: NodeJS.ProcessEnv): Promise<number> {
  process.stdout.write('Stopping zookeeper ... ');
  let config: ServerConfig;
  try {
    config = loadZooCfg(cfgPath);
  } catch (e) {
    process.stdout.write('\n');
    throw e;
  }
  const pf = pidFile(config, env);
  if (!fs.existsSync(pf)) {
    process.stdout.write(`no zookeeper to stop (could not find file ${pf})\n`);
    return 0;
  }
  const pid = readPid(pf);
  if (pid !== undefined && isAlive(pid)) {
    if (!isOurServer(pid)) {
      process.stderr.write(`\nprocess ${pid} named in ${pf} is not a zk-server (stale pid file); not signalling it.\n`);
    } else {
      process.kill(pid, 'SIGTERM');
      const timeoutMs = Number(env.ZK_SERVER_STOP_TIMEOUT_MS) || 30000;
      const deadline = Date.now() + timeoutMs;
      while (isAlive(pid) && Date.now() < deadline) await sleep(50);
      if (isAlive(pid)) {
        process.stderr.write(`\nprocess ${pid} did not exit within ${timeoutMs} ms of SIGTERM; sending SIGKILL.\n`);
        process.kill(pid, 'SIGKILL');
        for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
      }
    }
  }
  fs.rmSync(pf, { force: true });
  process.stdout.write('STOPPED\n');
  return 0;
}

async function status(cfgPath: string): Promise<number> {
  let config: ServerConfig;
  try {
    config = loadZooCfg(cfgPath);
  } catch (e) {
    if (e instanceof ConfigError && e.key === 'clientPort') {
      process.stdout.write('Unable to find either secure or unsecure client port in any configs. Terminating.\n');
      return 1;
    }
    throw e;
  }
  // zkServer.sh prints the address as written in the config, "localhost" when there is none.
  const shown = config.raw.get('clientPortAddress') ?? (config.raw.has('clientPort') ? 'localhost' : config.clientPortAddress);
  process.stdout.write(`Client port found: ${config.clientPort}. Client address: ${shown}. Client SSL: false.\n`);
  const host = shown === 'localhost' ? '127.0.0.1' : dialHost(shown);
  let mode: string | undefined;
  try {
    const answer = await fourLetterWord(host, config.clientPort, 'srvr', 5000);
    mode = answer.split('\n').find((l) => l.startsWith('Mode'));
  } catch {
    mode = undefined;
  }
  if (!mode) {
    process.stdout.write('Error contacting service. It is probably not running.\n');
    return 1;
  }
  process.stdout.write(`${mode.trim()}\n`);
  return 0;
}

function printCmd(cfgPath: string, env: NodeJS.ProcessEnv): number {
  let config: ServerConfig | undefined;
  try {
    config = loadZooCfg(cfgPath);
  } catch {
    config = undefined;
  }
  const q = (s: string) => `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
  const args = serverArgs(cfgPath, config).map((a) => (a === 'start-foreground' ? a : q(a)));
  const assignments = Object.keys(SERVER_ENV).map((k) => `${k}=${q(withServerEnv(env)[k]!)} `).join('');
  process.stdout.write(`${assignments}${q(process.execPath)} ${args.join(' ')} > ${q(outFile(config, env))} 2>&1 < /dev/null\n`);
  return 0;
}

async function dump(kind: 'snapshot' | 'log', file: string | undefined): Promise<number> {
  if (!file) throw new UsageError(`dump-${kind} needs a file`);
  // Loaded only for this command, so the server commands do not pay for it.
  const { dumpSnapshot, dumpTxnLog } = await import('../storage/Dump.js');
  let text: string;
  try {
    text = await (kind === 'snapshot' ? dumpSnapshot(file) : dumpTxnLog(file));
  } catch (e) {
    const msg = (e as Error).message;
    process.stderr.write(`zk-server dump-${kind}: ${msg.includes(file) ? msg : `${file}: ${msg}`}\n`);
    return 1;
  }
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  return 0;
}

/** Flags of backup/restore, wherever they stand among the positional arguments. */
function splitFlags(args: string[], valued: string[], bare: string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (valued.includes(a)) {
      if (i + 1 >= args.length) throw new UsageError(`${a} needs a value`);
      flags.set(a, args[++i]!);
    } else if (bare.includes(a)) flags.set(a, '');
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  return { positional, flags };
}

async function backup(inv: Invocation, env: NodeJS.ProcessEnv): Promise<number> {
  const { positional, flags } = splitFlags(inv.args, ['--auth', '--admin-url'], []);
  const dir = positional[0];
  if (!dir) throw new UsageError('backup needs a directory to write the backup to');
  const auth = flags.get('--auth') ?? env.ZK_ADMIN_AUTH ?? 'ip';
  const { takeBackup, BackupError } = await import('./backup.js');
  let target: { host: string; port: number; base: string; auth: string };
  const adminUrl = flags.get('--admin-url');
  if (adminUrl !== undefined) {
    // Another host's server (what Exhibitor did from outside): no zoo.cfg needed here.
    let u: URL;
    try {
      u = new URL(adminUrl);
    } catch {
      throw new UsageError(`--admin-url needs a URL such as http://zk1:8080/commands, got ${adminUrl}`);
    }
    if (u.protocol !== 'http:') throw new UsageError(`--admin-url: only http:// is served by the AdminServer, got ${u.protocol}`);
    target = { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 80), base: u.pathname.replace(/\/+$/, '') || '/commands', auth };
  } else {
    const cfgPath = configPath({ ...inv, args: positional.slice(1) }, env);
    process.stderr.write(`Using config: ${cfgPath}\n`);
    const config = loadZooCfg(cfgPath);
    if (!config.adminEnableServer) {
      process.stderr.write(`zk-server backup: the AdminServer is disabled in ${cfgPath} (admin.enableServer=false); backups are taken through it\n`);
      return 1;
    }
    target = { host: dialHost(config.adminServerAddress), port: config.adminServerPort, base: config.adminCommandURL, auth };
  }
  try {
    const r = await takeBackup(target, dir);
    process.stdout.write(
      `Backup of ${target.host}:${target.port} at zxid 0x${r.zxid.toString(16)} written to ${path.join(dir, 'version-2')}: ` +
        `snapshot 0x${r.snapshotZxid.toString(16)} (${r.snapshotBytes} bytes) + ${r.txns} txns, ${r.nodes} znodes, digest ${r.digest}, ` +
        `${Math.round(r.ms)} ms\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof BackupError) {
      process.stderr.write(`zk-server backup: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function restore(inv: Invocation, env: NodeJS.ProcessEnv): Promise<number> {
  const { positional, flags } = splitFlags(inv.args, [], ['--force']);
  const from = positional[0];
  if (!from) throw new UsageError('restore needs the backup directory');
  const cfgPath = configPath({ ...inv, args: positional.slice(1) }, env);
  process.stderr.write(`Using config: ${cfgPath}\n`);
  const config = loadZooCfg(cfgPath);
  // Files replaced under a live server would be overwritten by its next snapshot, or worse.
  const pid = readPid(pidFile(config, env));
  const host = dialHost(config.clientPortAddress);
  if ((pid !== undefined && isAlive(pid) && isOurServer(pid)) || (await portAnswers(host, config.clientPort))) {
    process.stderr.write(`zk-server restore: a server is running for ${cfgPath} (client port ${config.clientPort}); stop it first\n`);
    return 1;
  }
  const { restoreBackup, BackupError } = await import('./backup.js');
  const { storageDirs } = await import('../server/StorageSettings.js');
  try {
    const r = restoreBackup(from, storageDirs(config), flags.has('--force'));
    if (r.removed.length > 0) process.stdout.write(`Removed ${r.removed.length} file(s) of the previous data: ${r.removed.join(', ')}\n`);
    process.stdout.write(`Restored zxid 0x${r.zxid.toString(16)} (${r.nodes} znodes): ${r.files.join(', ')}\n`);
    return 0;
  } catch (e) {
    if (e instanceof BackupError) {
      process.stderr.write(`zk-server restore: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseArgs(argv, env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { command } = inv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'version' || command === '--version') {
    process.stdout.write(`zookeeper-ts, version ${packageVersion()} (compatible with Apache ZooKeeper 3.8.0)\n`);
    return 0;
  }
  try {
    if (command === 'dump-snapshot') return await dump('snapshot', inv.args[0]);
    if (command === 'dump-log') return await dump('log', inv.args[0]);
    const needsConf = ['backup', 'restore', 'start', 'start-foreground', 'stop', 'restart', 'status', 'print-cmd'];
    if (needsConf.includes(command)) sourceConfEnv(inv.confDir, env);
    if (command === 'backup') return await backup(inv, env);
    if (command === 'restore') return await restore(inv, env);
    const known = ['start', 'start-foreground', 'stop', 'restart', 'status', 'print-cmd'];
    if (!known.includes(command)) {
      process.stderr.write(`${command ? `Unknown command: ${command}\n` : ''}${USAGE}\n`);
      return 2;
    }
    const cfgPath = configPath(inv, env);
    process.stderr.write(`Using config: ${cfgPath}\n`);
    switch (command) {
      case 'start-foreground':
        return await startForeground(cfgPath, env);
      case 'start':
        return await start(cfgPath, env);
      case 'stop':
        return await stop(cfgPath, env);
      case 'restart': {
        await stop(cfgPath, env);
        return await start(cfgPath, env);
      }
      case 'status':
        return await status(cfgPath);
      default:
        return printCmd(cfgPath, env);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Invalid config, exiting abnormally: ${e.message}\n`);
      return 1;
    }
    if (e instanceof LogSettingsError || (e instanceof Error && e.name === 'AuditSettingsError')) {
      process.stderr.write(`Invalid logging configuration, exiting abnormally: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    const err = e as NodeJS.ErrnoException;
    // Startup failures an operator can act on (port in use, unwritable dataDir) get one line.
    if (err && typeof err.code === 'string') {
      process.stderr.write(`zk-server: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`zk-server: ${err?.stack ?? String(e)}\n`);
    return 1;
  }
}

/** Lets the log file take its last lines before the process exits. */
function closeLog(): Promise<void> {
  const l = serverLog;
  serverLog = null;
  return l ? l.close() : Promise.resolve();
}

main(process.argv.slice(2), process.env).then(
  (code) => closeLog().then(() => process.exit(code)),
  (e: unknown) => {
    process.stderr.write(`zk-server: ${String(e)}\n`);
    process.exit(1);
  },
);
