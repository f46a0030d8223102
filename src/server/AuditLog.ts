// ZooKeeper's audit log (3.6+, audit.enable=true / -Dzookeeper.audit.enable=true): one line per
// audited operation, in the layout of Apache's default logback appender for the audit logger
// (`%d{ISO8601} %p %c{2}: %m%n`, INFO, or ERROR for a failure) and with AuditEvent's message:
// tab-separated key=value pairs in the order session, user, ip, operation, znode, znode_type,
// acl, then result; absent fields are left out. Audited as AuditHelper does: create (create,
// create2, createContainer), delete, setData, setAcl, multi (each sub-op, or one multiOperation
// failure), reconfig; a closed or expired session's ephemerals (by the server's user); server
// start and stop. createTTL outside a multi is not audited, as in ZooKeeper 3.8.
import type { Writable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { Reader } from '../jute/archive.js';
import { Err, OpCode } from '../protocol/constants.js';
import type { ACL } from '../protocol/records.js';
import { CreateRequest, DeleteRequest, MultiHeader, SetACLRequest, SetDataRequest, CheckVersionRequest, CreateTTLRequest } from '../protocol/records.js';
import type { Txn } from '../protocol/txn.js';
import type { ServerConfig } from '../config/ServerConfig.js';
import type { ApplyResult } from '../tree/DataTree.js';
import { javaSetOrder, type Identity } from '../auth/AuthProviders.js';
import type { AuditHook } from './pipeline/AuditHook.js';
import type { ClientChannel } from './pipeline/ClientChannel.js';
import { openRotatingFile, parseFileSize } from '../util/RotatingFile.js';

export const AUDIT_LOG_FILE = 'zookeeper_audit.log';
/** %c{2} of org.apache.zookeeper.audit.Slf4jAuditLogger. */
const LOGGER = 'audit.Slf4jAuditLogger';

export type AuditResult = 'success' | 'failure' | 'invoked';

/** Boolean.getBoolean("zookeeper.audit.enable"): zoo.cfg audit.enable lands there too. */
export function auditEnabled(config: Pick<ServerConfig, 'systemProperties'>): boolean {
  return config.systemProperties?.get('zookeeper.audit.enable')?.trim().toLowerCase() === 'true';
}

/** ZKUtil.getPermString: the letters of the granted permissions, in cdrwa order. */
export function permString(perms: number): string {
  return (perms & 4 ? 'c' : '') + (perms & 8 ? 'd' : '') + (perms & 1 ? 'r' : '') + (perms & 2 ? 'w' : '') + (perms & 16 ? 'a' : '');
}

/** ZKUtil.aclToString: scheme:id:perms of each entry, run together without a separator. */
export function aclString(acl: ACL[]): string {
  return acl.map((a) => `${a.id.scheme}:${a.id.id}:${permString(a.perms)}`).join('');
}

/** CreateMode.fromFlag(flags).toString().toLowerCase(); null for flags ZooKeeper rejects. */
export function createModeName(flags: number): string | null {
  const names = ['persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential', 'container', 'persistent_with_ttl', 'persistent_sequential_with_ttl'];
  return names[flags] ?? null;
}

/**
 * Request.getUsersForAudit: each identity's user name (an ip identity is its address, a digest
 * one the part before ':'; schemes without a provider, such as super, have none), comma-joined.
 */
export function usersForAudit(ids: readonly Identity[]): string | null {
  // In the order of the connection's identity set, as ZooKeeper iterates it.
  const names = javaSetOrder([...ids])
    .map((id) => (id.scheme === 'ip' ? id.id : id.scheme === 'digest' ? id.id.split(':')[0]! : null))
    .filter((n): n is string => n !== null && n.trim() !== '');
  return names.length > 0 ? names.join(',') : null;
}

/** Logback's ISO8601 date: local time, yyyy-MM-dd HH:mm:ss,SSS. */
function timestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

interface Fields {
  session?: string | null;
  user?: string | null;
  ip?: string | null;
  operation: string;
  znode?: string | null;
  znode_type?: string | null;
  acl?: string | null;
}

/** AuditEvent.toString. */
export function formatAuditEvent(f: Fields, result: AuditResult): string {
  const parts: string[] = [];
  for (const k of ['session', 'user', 'ip', 'operation', 'znode', 'znode_type', 'acl'] as const) {
    const v = f[k];
    if (v !== null && v !== undefined) parts.push(`${k}=${v}`);
  }
  parts.push(`result=${result}`);
  return parts.join('\t');
}

const hexSession = (id: bigint): string => `0x${BigInt.asUintN(64, id).toString(16)}`;

/** A request record read back at the reply stage; null when the bytes are absent or unreadable. */
function readRecord<T>(codec: { read(r: Reader): T }, body: Buffer | null): T | null {
  if (!body) return null;
  try {
    return codec.read(new Reader(body));
  } catch {
    return null;
  }
}

/** Request path → create mode of the creates in a multi request (AuditHelper.getCreateModes). */
function multiCreateModes(body: Buffer | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!body) return out;
  try {
    const r = new Reader(body);
    for (;;) {
      const h = MultiHeader.read(r);
      if (h.done) break;
      const codec =
        h.type === OpCode.createTTL ? CreateTTLRequest
        : h.type === OpCode.create || h.type === OpCode.create2 || h.type === OpCode.createContainer ? CreateRequest
        : h.type === OpCode.delete ? DeleteRequest
        : h.type === OpCode.setData ? SetDataRequest
        : h.type === OpCode.check ? CheckVersionRequest
        : null;
      if (!codec) break;
      const rec = codec.read(r) as { path: string; flags?: number };
      // createTTL is left out of the map as in ZooKeeper (its sub-results are logged without a type).
      if (h.type === OpCode.create || h.type === OpCode.create2 || h.type === OpCode.createContainer) {
        const mode = createModeName(rec.flags ?? -1);
        if (mode) out.set(rec.path, mode);
      }
    }
  } catch {
    /* a malformed multi was refused before it got here; log what was read */
  }
  return out;
}

export class AuditSettingsError extends Error {
  override readonly name = 'AuditSettingsError';
}

/** Size rotation of zookeeper_audit.log. */
export interface AuditRotation {
  maxBytes: number;
  maxBackups: number;
}

/**
 * Apache's logback.xml rolls the audit file (RFAAUDIT) at 10MB keeping 10 backups, fixed there;
 * -Dzookeeper.auditlog.maxfilesize / -Dzookeeper.auditlog.maxbackupindex (ours, named after the
 * server log's knobs) change that. Throws AuditSettingsError for a bad value.
 */
export function auditRotation(config: Pick<ServerConfig, 'systemProperties'>): AuditRotation {
  const props = config.systemProperties;
  const size = props?.get('zookeeper.auditlog.maxfilesize');
  const backups = props?.get('zookeeper.auditlog.maxbackupindex');
  const maxBytes = size === undefined ? 10 * 1024 * 1024 : parseFileSize(size);
  if (maxBytes === undefined) throw new AuditSettingsError(`-Dzookeeper.auditlog.maxfilesize: '${size}' is not a file size (e.g. 10MB, 512KB, 100000)`);
  const maxBackups = backups === undefined ? 10 : Number(backups);
  if (!Number.isInteger(maxBackups) || maxBackups < 1) {
    throw new AuditSettingsError(`-Dzookeeper.auditlog.maxbackupindex: '${backups}' is not a whole number of backup files (1 or more)`);
  }
  return { maxBytes, maxBackups };
}

export class AuditLog implements AuditHook {
  readonly wantsBodies = true;
  private readonly stream: Writable;
  private last: Promise<void> = Promise.resolve();
  private closed = false;
  linesWritten = 0;

  constructor(
    readonly file: string,
    /** The server's own user (ZKAuditProvider.getZKUser): who deletes ephemerals, starts and stops. */
    private readonly serverUser: string = safeUserName(),
    private readonly onError: (msg: string) => void = () => {},
    rotation: AuditRotation = { maxBytes: 10 * 1024 * 1024, maxBackups: 10 },
  ) {
    this.stream = openRotatingFile(file, rotation.maxBytes, rotation.maxBackups);
    this.stream.on('error', (e) => this.onError(`audit log ${file}: ${e.message}`));
  }

  /** Appends one event; INFO, or ERROR for a failure as Slf4jAuditLogger does. */
  log(f: Fields, result: AuditResult): void {
    if (this.closed) return;
    const line = `${timestamp(new Date())} ${result === 'failure' ? 'ERROR' : 'INFO'} ${LOGGER}: ${formatAuditEvent(f, result)}\n`;
    this.linesWritten++;
    this.last = new Promise((resolve) => this.stream.write(line, () => resolve()));
  }

  /** Resolves once every line logged so far is in the file. */
  flushed(): Promise<void> {
    return this.last;
  }

  serverStart(): void {
    this.log({ user: this.serverUser, operation: 'serverStart' }, 'success');
  }

  /** Logs serverStop (invoked: the stop has only begun), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.log({ user: this.serverUser, operation: 'serverStop' }, 'invoked');
    this.closed = true;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }

  // ------------------------------------------------------------------ AuditHook

  write(ch: ClientChannel, type: number, body: Buffer | null, txn: Txn, res: ApplyResult | null): void {
    const who = { session: hexSession(ch.sessionId), user: usersForAudit(ch.identities), ip: ch.remoteAddress || null };
    const failedTxn = txn.body.type === OpCode.error;
    const result: AuditResult = failedTxn || !res || res.err !== Err.OK ? 'failure' : 'success';
    // For a txn that went through, the applied path (with a sequence suffix); else the request's.
    const requestPath = (codec: { read(r: Reader): { path: string } }) => readRecord(codec, body)?.path ?? null;
    const path = (codec: { read(r: Reader): { path: string } }) => (failedTxn ? requestPath(codec) : res?.path ?? requestPath(codec));
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer: {
        const req = readRecord(CreateRequest, body);
        this.log({ ...who, operation: 'create', znode: failedTxn ? req?.path : res?.path ?? req?.path, znode_type: req ? createModeName(req.flags) : null }, result);
        return;
      }
      case OpCode.delete:
      case OpCode.deleteContainer:
        this.log({ ...who, operation: 'delete', znode: path(DeleteRequest) }, result);
        return;
      case OpCode.setData:
        this.log({ ...who, operation: 'setData', znode: path(SetDataRequest) }, result);
        return;
      case OpCode.setACL: {
        const req = readRecord(SetACLRequest, body);
        this.log({ ...who, operation: 'setAcl', znode: failedTxn ? req?.path : res?.path ?? req?.path, acl: req?.acl ? aclString(req.acl) : null }, result);
        return;
      }
      case OpCode.multi:
        if (failedTxn || !res) this.log({ ...who, operation: 'multiOperation' }, 'failure');
        else this.multi(who, body, txn, res);
        return;
      case OpCode.reconfig:
        this.log({ ...who, operation: 'reconfig', znode: failedTxn ? null : res?.path }, result);
        return;
      default:
    }
  }

  /** AuditHelper.logMultiOperation: each applied create/delete/setData, or one failure line. */
  private multi(who: Pick<Fields, 'session' | 'user' | 'ip'>, body: Buffer | null, txn: Txn, res: ApplyResult): void {
    const modes = multiCreateModes(body);
    const subs = txn.body.type === OpCode.multi ? txn.body.txns : [];
    let failed = false;
    for (const [i, r0] of (res.results ?? []).entries()) {
      // ProcessTxnResult carries the path of every sub-op; ours only of creates, the txn has the rest.
      const sub = subs[i];
      const r = { ...r0, path: r0.path ?? (sub && 'path' in sub ? sub.path : undefined) };
      switch (r.type) {
        case OpCode.create:
        case OpCode.create2:
        case OpCode.createTTL:
        case OpCode.createContainer:
          this.log({ ...who, operation: 'create', znode: r.path, znode_type: r.path ? modes.get(r.path) : null }, 'success');
          break;
        case OpCode.delete:
        case OpCode.deleteContainer:
          this.log({ ...who, operation: 'delete', znode: r.path }, 'success');
          break;
        case OpCode.setData:
          this.log({ ...who, operation: 'setData', znode: r.path }, 'success');
          break;
        case OpCode.error:
          failed = true;
          break;
        default:
      }
    }
    if (failed) this.log({ ...who, operation: 'multiOperation', znode: res.path }, 'failure');
  }

  sessionClosed(txn: Txn): void {
    if (txn.body.type !== OpCode.closeSession) return;
    for (const p of javaHashSetCopyOrder(txn.body.paths2Delete)) {
      this.log({ session: hexSession(txn.hdr.clientId), user: this.serverUser, operation: 'ephemeralZNodeDeletionOnSessionCloseOrExpire', znode: p }, 'success');
    }
  }
}

const javaStringHash = (s: string): number => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
};

/**
 * The order ZooKeeper deletes (and audits) a closing session's ephemerals in: its prep step
 * copies them into a java.util.HashSet (new HashSet<>(collection): at least 16 buckets, room for
 * the size at load factor .75) and lists that set. Bucket order, ties in the given order.
 */
export function javaHashSetCopyOrder(paths: readonly string[]): string[] {
  let cap = 16;
  while (cap < Math.floor(paths.length / 0.75) + 1) cap *= 2;
  const bucket = (s: string) => {
    const h = javaStringHash(s);
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return paths.map((p, i) => ({ p, i, b: bucket(p) })).sort((x, y) => x.b - y.b || x.i - y.i).map((e) => e.p);
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? '<NA>';
  }
}

/**
 * The audit log for `config`, or null when auditing is off. The directory: `logDir` (the CLI
 * passes ZOO_LOG_DIR), else -Dzookeeper.log.dir, else dataDir, where zk-server also puts the
 * server's output when ZOO_LOG_DIR is unset.
 */
export function openAuditLog(config: ServerConfig, logDir: string | undefined, onError?: (msg: string) => void): AuditLog | null {
  if (!auditEnabled(config)) return null;
  const dir = logDir || config.systemProperties?.get('zookeeper.log.dir') || config.dataDir;
  // logback.xml's zookeeper.auditlog.file names the file.
  const name = config.systemProperties?.get('zookeeper.auditlog.file') || AUDIT_LOG_FILE;
  return new AuditLog(path.resolve(dir, name), undefined, onError, auditRotation(config));
}
