// The server's log, configured the way ZooKeeper's scripts configure log4j/logback:
//   ZOO_LOG4J_PROP="<level>,<appender>[,<appender>]" (or -Dzookeeper.root.logger=… in
//   SERVER_JVMFLAGS/JVMFLAGS, which wins as the later -D flag does for the JVM), appenders CONSOLE
//   and ROLLINGFILE; the file in ZOO_LOG_DIR (-Dzookeeper.log.dir) named as zkServer.sh names it;
//   size rotation with the property names and defaults of Apache 3.8's conf/logback.xml
//   (zookeeper.log.maxfilesize=256MB, zookeeper.log.maxbackupindex=20, fixed window: file.1 is the
//   newest backup). -Dzookeeper.log.format=json (or ZOO_LOG_FORMAT=json) writes one JSON object per
//   line with the field names of the ECS encoder ZooKeeper's logback.xml switches to for "json".
import os from 'node:os';
import path from 'node:path';
import type { RotatingFileStream } from 'rotating-file-stream';
import { openRotatingFile, parseFileSize } from '../util/RotatingFile.js';

export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** log4j's level names; FATAL logs as ERROR and ALL as TRACE. OFF silences an appender. */
const RANK: Record<string, number> = { ALL: 0, TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 4, OFF: 5 };
const LEVEL_NAMES = 'TRACE, DEBUG, INFO, WARN, ERROR, FATAL, ALL, OFF';
const APPENDERS = ['CONSOLE', 'ROLLINGFILE'];

export class LogSettingsError extends Error {}

export interface LogSettings {
  /** Lowest rank that reaches any appender (root level and appender thresholds together). */
  rootRank: number;
  format: 'text' | 'json';
  /** Rank threshold of the console, or undefined when CONSOLE is not an appender. */
  console?: number;
  file?: { path: string; rank: number; maxBytes: number; maxBackups: number };
}

type Props = Map<string, { value: string; where: string }>;

function levelRank(value: string, where: string): number {
  const r = RANK[value.trim().toUpperCase()];
  if (r === undefined) throw new LogSettingsError(`${where}: '${value}' is not a log level (one of ${LEVEL_NAMES})`);
  return r;
}

function fileSize(value: string, where: string): number {
  const n = parseFileSize(value);
  if (n === undefined) throw new LogSettingsError(`${where}: '${value}' is not a file size (e.g. 10MB, 512KB, 100000)`);
  return n;
}

function userName(env: NodeJS.ProcessEnv): string {
  if (env.USER) return env.USER;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Reads the logging settings; throws LogSettingsError naming the variable or flag at fault.
 * `defaultDir` is where the file goes without ZOO_LOG_DIR (the CLI passes dataDir, as for the .out file).
 */
export function logSettings(env: NodeJS.ProcessEnv, props: Props, defaultDir: string): LogSettings {
  const prop = (k: string) => props.get(k);
  const rootProp = prop('zookeeper.root.logger');
  const [specValue, specWhere] = rootProp
    ? [rootProp.value, rootProp.where]
    : env.ZOO_LOG4J_PROP
      ? [env.ZOO_LOG4J_PROP, 'ZOO_LOG4J_PROP']
      : ['INFO,CONSOLE', 'default'];
  const parts = specValue.split(',').map((s) => s.trim());
  const root = levelRank(parts[0] ?? '', specWhere);
  const appenders = parts.slice(1).filter((s) => s !== '');
  if (appenders.length === 0) {
    throw new LogSettingsError(`${specWhere}: '${specValue}' names no appender; write e.g. INFO,CONSOLE or INFO,ROLLINGFILE`);
  }
  for (const a of appenders) {
    if (!APPENDERS.includes(a.toUpperCase())) {
      throw new LogSettingsError(`${specWhere}: unknown appender '${a}' (supported: ${APPENDERS.join(', ')})`);
    }
  }
  const has = (name: string) => appenders.some((a) => a.toUpperCase() === name);

  // ZooKeeper's shipped config also filters each appender at INFO by default, so that DEBUG in
  // ZOO_LOG4J_PROP alone shows nothing more; here the thresholds only filter when set.
  const threshold = (k: string) => {
    const p = prop(k);
    return p ? Math.max(root, levelRank(p.value, p.where)) : root;
  };
  const fmtProp = prop('zookeeper.log.format');
  const fmtValue = fmtProp?.value || env.ZOO_LOG_FORMAT || 'text';
  const fmtWhere = fmtProp?.where ?? 'ZOO_LOG_FORMAT';
  const fmt = fmtValue.trim().toLowerCase();
  if (fmt !== 'text' && fmt !== 'json') throw new LogSettingsError(`${fmtWhere}: '${fmtValue}' is not a log format (text or json)`);

  const s: LogSettings = { rootRank: RANK.OFF!, format: fmt };
  if (has('CONSOLE')) s.console = threshold('zookeeper.console.threshold');
  if (has('ROLLINGFILE')) {
    // ZOO_LOG_DIR first, as for zookeeper_audit.log, so both files land in one place.
    const dir = env.ZOO_LOG_DIR || prop('zookeeper.log.dir')?.value || defaultDir;
    const name = prop('zookeeper.log.file')?.value || env.ZOO_LOG_FILE || `zookeeper-${userName(env)}-server-${os.hostname()}.log`;
    const size = prop('zookeeper.log.maxfilesize');
    const backups = prop('zookeeper.log.maxbackupindex');
    const maxBackups = backups ? Number(backups.value) : 20;
    if (!Number.isInteger(maxBackups) || maxBackups < 1) {
      throw new LogSettingsError(`${backups!.where}: '${backups!.value}' is not a whole number of backup files (1 or more)`);
    }
    s.file = {
      path: path.resolve(dir, name),
      rank: threshold('zookeeper.log.threshold'),
      maxBytes: size ? fileSize(size.value, size.where) : 256 * 1024 * 1024,
      maxBackups,
    };
  }
  s.rootRank = Math.min(s.console ?? RANK.OFF!, s.file?.rank ?? RANK.OFF!);
  return s;
}

/** Fully qualified logger names for the JSON field log.logger, as ZooKeeper's classes have them. */
const PACKAGES: Record<string, string> = {
  QuorumPeerConfig: 'org.apache.zookeeper.server.quorum',
  QuorumPeerMain: 'org.apache.zookeeper.server.quorum',
  ZooKeeperServer: 'org.apache.zookeeper.server',
  NIOServerCnxn: 'org.apache.zookeeper.server',
  NIOServerCnxnFactory: 'org.apache.zookeeper.server',
  FileTxnSnapLog: 'org.apache.zookeeper.server.persistence',
  ZKAuditProvider: 'org.apache.zookeeper.audit',
};

function textTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`
  );
}

/**
 * One server log: console and/or rotating file. `source` is `thread:Class` as in ZooKeeper's
 * `[%t:%C{1}]`, or just `Class` (thread main).
 */
export class ServerLog {
  private file: RotatingFileStream | null = null;
  private fileError: Error | null = null;
  myid = '';

  constructor(readonly settings: LogSettings) {
    const f = settings.file;
    if (f) {
      this.file = openRotatingFile(f.path, f.maxBytes, f.maxBackups);
      // A full disk must not take the server down; say so once on stderr and keep serving.
      this.file.on('error', (e: Error) => {
        if (!this.fileError) process.stderr.write(`zk-server: cannot write ${f.path}: ${e.message}\n`);
        this.fileError = e;
      });
    }
  }

  enabled(level: Level): boolean {
    return RANK[level]! >= this.settings.rootRank;
  }

  log(level: Level, source: string, msg: string): void {
    const rank = RANK[level]!;
    if (rank < this.settings.rootRank) return;
    // Thread names may hold colons (an accept thread names its address); class names never do.
    const colon = source.lastIndexOf(':');
    const thread = colon < 0 ? 'main' : source.slice(0, colon);
    const cls = colon < 0 ? source : source.slice(colon + 1);
    const d = new Date();
    let line: string;
    if (this.settings.format === 'json') {
      const pkg = PACKAGES[cls];
      line = JSON.stringify({
        '@timestamp': d.toISOString(),
        'log.level': level,
        message: msg,
        'ecs.version': '1.2.0',
        'service.name': 'zookeeper',
        'service.node.name': os.hostname(),
        'process.thread.name': thread,
        'log.logger': pkg ? `${pkg}.${cls}` : cls,
        myid: this.myid,
      }) + '\n';
    } else {
      line = `${textTime(d)} [myid:${this.myid}] - ${level.padEnd(5)} [${thread}:${cls}] - ${msg}\n`;
    }
    const c = this.settings.console;
    if (c !== undefined && rank >= c) {
      // Synchronous, so the last lines before an exit are never lost.
      (rank <= RANK.INFO! ? process.stdout : process.stderr).write(line);
    }
    const f = this.settings.file;
    if (this.file && f && rank >= f.rank && !this.fileError) this.file.write(line);
  }

  /** Flushes and closes the file; call before the process exits. */
  close(): Promise<void> {
    const file = this.file;
    this.file = null;
    if (!file) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 5000);
      file.end(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
