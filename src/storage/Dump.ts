// Human-readable dumps of snapshot and txn-log files, in the layout of ZooKeeper's own
// tools (SnapshotFormatter -d and TxnLogToolkit -d) so outputs can be compared side by side.
// Times are shown in UTC. The `zk-server dump-snapshot|dump-log` CLI calls these.
import { Writer } from '../jute/archive.js';
import { OpCode } from '../protocol/constants.js';
import type { ACL } from '../protocol/records.js';
import type { Txn, TxnBody } from '../protocol/txn.js';
import { writeTxnBody } from '../protocol/txn.js';
import { DataTree } from '../tree/DataTree.js';
import { childPath } from '../tree/paths.js';
import { SNAPSHOT_PREFIX, zxidFromName } from './FileNames.js';
import { readSnapshotFile } from './Snapshot.js';
import { readLogFile } from './TxnLogReader.js';
import type { StorageLogger } from './StorageIO.js';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { javaDate } from '../util/javaText.js';

const quiet: StorageLogger = { warn: () => undefined, info: () => undefined };

// ------------------------------------------------------------------ formatting helpers

const two = (n: number) => String(n).padStart(2, '0');

/** DateFormat SHORT date + LONG time, en_US, UTC: "11/22/26, 3:48:30 AM UTC". */
export function javaShortLongDate(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${two(d.getUTCFullYear() % 100)}, ${h12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'} UTC`;
}

/** Java Long.toHexString: two's complement for negatives. */
function hex64(v: bigint | number): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/** String.format("%#016x", v): "0x" then at least 14 digits. */
function hexPadded(v: bigint | number): string {
  return '0x' + hex64(v).padStart(14, '0');
}

/** java.lang.String.hashCode over UTF-16 code units. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Iteration order of a java.util.HashSet built by adding `names` in order, starting from
 * capacity 8 (DataNode.addChild): by bucket of the final table, ties in insertion order.
 */
export function javaHashSetOrder(names: string[]): string[] {
  let cap = 8;
  while (names.length > cap * 0.75) cap *= 2;
  const bucket = (s: string) => {
    const h = javaStringHash(s);
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return names
    .map((name, i) => ({ name, i, b: bucket(name) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.name);
}

// ------------------------------------------------------------------ snapshot

/** SnapshotFormatter -d: every znode's persisted stat and base64 data, then sessions. */
export async function dumpSnapshot(file: string): Promise<string> {
  const snap = readSnapshotFile(file);
  const tree = DataTree.fromSnapshot(snap.acls, snap.nodes);
  const out: string[] = [`ZNode Details (count=${tree.nodeCount}):`];
  let maxZxid = 0;
  const stack = ['/'];
  while (stack.length) {
    const p = stack.pop()!;
    const n = tree.get(p);
    if (!n) continue;
    out.push('----', p);
    out.push(`  cZxid = ${hexPadded(n.czxid)}`);
    out.push(`  ctime = ${javaDate(n.ctime)}`);
    out.push(`  mZxid = ${hexPadded(n.mzxid)}`);
    out.push(`  mtime = ${javaDate(n.mtime)}`);
    out.push(`  pZxid = ${hexPadded(n.pzxid)}`);
    out.push(`  cversion = ${n.cversion}`, `  dataVersion = ${n.version}`, `  aclVersion = ${n.aversion}`);
    out.push(`  ephemeralOwner = ${hexPadded(n.ephemeralOwner)}`);
    out.push(`  data = ${n.data ? n.data.toString('base64') : ''}`);
    maxZxid = Math.max(maxZxid, n.mzxid, n.pzxid);
    // Pushed in reverse so children print in Java's HashSet order, as SnapshotFormatter does.
    const kids = javaHashSetOrder([...n.children]);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(childPath(p, kids[i]!));
  }
  out.push('----', 'Session Details (sid, timeout, ephemeralCount):');
  for (const [sid, timeout] of snap.sessions) {
    out.push(`${hexPadded(sid)}, ${timeout}, ${tree.ephemerals.get(sid)?.size ?? 0}`);
  }
  const nameZxid = zxidFromName(path.basename(file), SNAPSHOT_PREFIX);
  out.push('----', `Last zxid: 0x${hex64(Math.max(nameZxid, maxZxid))}`);
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------ txn log

const OP_NAMES: Record<number, string> = {
  [OpCode.notification]: 'notification', [OpCode.create]: 'create', [OpCode.create2]: 'create2',
  [OpCode.createTTL]: 'createTtl', [OpCode.createContainer]: 'createContainer', [OpCode.delete]: 'delete',
  [OpCode.deleteContainer]: 'deleteContainer', [OpCode.exists]: 'exists', [OpCode.getData]: 'getData',
  [OpCode.check]: 'check', [OpCode.multi]: 'multi', [OpCode.setData]: 'setData', [OpCode.sync]: 'sync',
  [OpCode.getACL]: 'getACL', [OpCode.setACL]: 'setACL', [OpCode.getChildren]: 'getChildren',
  [OpCode.getChildren2]: 'getChildren2', [OpCode.ping]: 'ping', [OpCode.createSession]: 'createSession',
  [OpCode.closeSession]: 'closeSession', [OpCode.error]: 'error', [OpCode.reconfig]: 'reconfig',
  [OpCode.checkWatches]: 'checkWatches', [OpCode.removeWatches]: 'removeWatches', [OpCode.multiRead]: 'multiRead',
  [OpCode.auth]: 'auth', [OpCode.setWatches]: 'setWatches', [OpCode.setWatches2]: 'setWatches2', [OpCode.sasl]: 'sasl',
  [OpCode.getEphemerals]: 'getEphemerals', [OpCode.getAllChildrenNumber]: 'getAllChildrenNumber',
  [OpCode.addWatch]: 'addWatch', [OpCode.whoAmI]: 'whoAmI',
};

export function opName(type: number): string {
  return OP_NAMES[type] ?? `unknown ${type}`;
}

/** jute CsvOutputArchive string: quote prefix, a few characters percent-escaped. */
function csvString(s: string): string {
  return "'" + s.replace(/[\0\n\r,}%]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** ACL.toString(): a top-level CSV record, ending in a newline. */
function aclToString(a: ACL): string {
  return `${a.perms},s{${csvString(a.id.scheme)},${csvString(a.id.id)}}\n`;
}

/** java.util.List.toString() of ACLs. */
function aclListToString(acls: ACL[] | null): string {
  return acls === null ? 'null' : '[' + acls.map(aclToString).join(', ') + ']';
}

function dataString(d: Buffer | null): string {
  return d && d.length ? d.toString('utf8') : '';
}

/** The record's own toString() (CSV), for the types TxnLogToolkit does not format itself. */
function recordCsv(body: TxnBody): string {
  switch (body.type) {
    case OpCode.delete:
    case OpCode.deleteContainer:
      return `${csvString(body.path)}\n`;
    case OpCode.setACL:
      return `${csvString(body.path)},v{${(body.acl ?? []).map((a) => `s{${a.perms},s{${csvString(a.id.scheme)},${csvString(a.id.id)}}}`).join(',')}},${body.version}\n`;
    case OpCode.check:
      return `${csvString(body.path)},${body.version}\n`;
    case OpCode.createSession:
      return `${body.timeOut}\n`;
    case OpCode.closeSession:
      return `v{${body.paths2Delete.map(csvString).join(',')}}\n`;
    case OpCode.error:
      return `${body.err}\n`;
    default:
      return '';
  }
}

function subTxnBytes(sub: TxnBody): Buffer {
  const w = new Writer(64);
  writeTxnBody(w, sub);
  return w.toBuffer();
}

/** TxnLogToolkit.getFormattedTxnStr. */
export function formatTxnBody(body: TxnBody): string {
  switch (body.type) {
    case OpCode.create:
    case OpCode.create2:
      return `${body.path},${dataString(body.data)},${aclListToString(body.acl)},${body.ephemeral},${body.parentCVersion}`;
    case OpCode.setData:
    case OpCode.reconfig:
      return `${body.path},${dataString(body.data)},${body.version}`;
    case OpCode.createContainer:
      return `${body.path},${dataString(body.data)},${aclListToString(body.acl)},${body.parentCVersion}`;
    case OpCode.createTTL:
      return `${body.path},${dataString(body.data)},${aclListToString(body.acl)},${body.parentCVersion},${body.ttl}`;
    case OpCode.multi:
      return body.txns.map((t) => `${opName(t.type)}:${dataString(subTxnBytes(t))}`).join(';');
    default:
      return recordCsv(body);
  }
}

export function formatTxn(txn: Txn): string {
  const h = txn.hdr;
  return `${javaShortLongDate(h.time)} session 0x${hex64(h.clientId)} cxid 0x${hex64(h.cxid)} zxid 0x${hex64(h.zxid)} ${opName(h.type)} ${formatTxnBody(txn.body)}`;
}

/** TxnLogToolkit -d: the file header, then one line per txn, then how the file ended. */
export async function dumpTxnLog(file: string): Promise<string> {
  const head = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  let got: number;
  try {
    got = fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (got < 16) return `${file}: shorter than the 16-byte txn log header (${got} bytes)\n`;
  let out = `ZooKeeper Transactional Log File with dbid ${head.readBigInt64BE(8)} txnlog format version ${head.readInt32BE(4)}\n`;
  const print = (line: string) => {
    out += line.endsWith('\n') ? line : line + '\n';
  };
  const it = readLogFile(file, { logger: quiet, yieldBadChecksums: true });
  let count = 0;
  for (;;) {
    const r = it.next();
    if (r.done) {
      const end = r.value.end;
      if (end === 'bad-eor') out += 'Last transaction was partial.\n';
      else if (end === 'bad-length') out += `Unreasonable length at offset ${r.value.validEnd}.\n`;
      else out += `EOF reached after ${count} txns.\n`;
      return out;
    }
    if (!r.value.crcOk) print('CRC ERROR - ' + formatTxn(r.value.txn));
    print(formatTxn(r.value.txn));
    count++;
  }
}
