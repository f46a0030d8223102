// Snapshot files `snapshot.<hex zxid>` in ZooKeeper 3.8's format (FileSnap, A4.1):
//   FileHeader{"ZKSN", 2, dbid -1} sessions ACL-map nodes(pre-order, root as "") "/"
//   checksum1 "/" ZxidDigest checksum2 "/"
// with one running Adler-32 over the uncompressed stream. The session+ACL+nodes+"/" body is
// also what a quorum SNAP transfer carries, so it is exposed on its own.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { Reader, Writer } from '../jute/archive.js';
import type { ACL, StatPersisted } from '../protocol/records.js';
import type { DataTree } from '../tree/DataTree.js';
import type { ZkDatabase } from '../tree/ZkDatabase.js';
import { childPath } from '../tree/paths.js';
import { OPEN_ACL_INDEX } from '../tree/ACLCache.js';
import { RunningAdler32, adler32, adler32Combine } from './Adler32.js';
import { ACLMapEntry, DataNodeRecord, FileHeader, SessionEntry, ZxidDigest } from './PersistenceRecords.js';
import { DEFAULT_MAX_RECORD_BYTES } from './TxnLogReader.js';
import { StorageError } from './StorageIO.js';

export const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
export const SNAP_VERSION = 2;
export const SNAP_DBID = -1n;
export const DIGEST_VERSION = 2;
/** The string "/" as a jute ustring: end-of-tree marker and seal after each checksum. */
export const SLASH_MARKER = Buffer.from([0, 0, 0, 1, 0x2f]);
const GZIP_MAGIC = [0x1f, 0x8b];
const SNAPPY_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

export interface SnapshotNode {
  /** '' for the root, as on disk. */
  path: string;
  data: Buffer | null;
  aclIndex: number;
  stat: StatPersisted;
}

export interface SnapshotBody {
  sessions: Map<bigint, number>;
  acls: Array<[number, ACL[]]>;
  nodes: SnapshotNode[];
}

export interface SnapshotContent extends SnapshotBody {
  header: FileHeader;
  /** The trailer's ZxidDigest, or null for a pre-digest snapshot. */
  digest: ZxidDigest | null;
}

// ------------------------------------------------------------------ reading

/** Sessions, ACL map and nodes up to the "/" end marker (DataTree/SerializeUtils.deserializeSnapshot). */
export function readSnapshotBody(r: Reader): SnapshotBody {
  const sessions = new Map<bigint, number>();
  const sessionCount = r.int();
  if (sessionCount < 0) throw new Error(`negative session count ${sessionCount}`);
  for (let i = 0; i < sessionCount; i++) {
    const s = SessionEntry.read(r);
    sessions.set(s.id, s.timeOut);
  }
  const acls: Array<[number, ACL[]]> = [];
  const aclCount = r.int();
  if (aclCount < 0) throw new Error(`negative ACL map size ${aclCount}`);
  for (let i = 0; i < aclCount; i++) {
    const e = ACLMapEntry.read(r);
    acls.push([e.index, e.acls ?? []]);
  }
  const nodes: SnapshotNode[] = [];
  for (;;) {
    const path = r.ustring();
    if (path === '/') break;
    if (path === null) throw new Error('null node path');
    const n = DataNodeRecord.read(r);
    nodes.push({ path, data: n.data, aclIndex: n.acl, stat: n.stat });
  }
  return { sessions, acls, nodes };
}

function readSeal(r: Reader, buf: Buffer, what: string): void {
  const expected = adler32(buf, 1, 0, r.pos);
  const stored = r.long();
  if (stored !== BigInt(expected)) {
    throw new Error(`${what} mismatch: stored 0x${stored.toString(16)}, computed 0x${expected.toString(16)}`);
  }
  const slash = r.ustring();
  if (slash !== '/') throw new Error(`missing "/" after ${what}`);
}

/** Decode a whole uncompressed snapshot stream, verifying both checksums. */
export function parseSnapshot(buf: Buffer, maxFieldBytes = DEFAULT_MAX_RECORD_BYTES): SnapshotContent {
  const r = new Reader(buf, 0, buf.length, maxFieldBytes);
  const header = FileHeader.read(r);
  if (header.magic !== SNAP_MAGIC) {
    throw new Error(`bad magic 0x${(header.magic >>> 0).toString(16)}, expected 0x5a4b534e "ZKSN"`);
  }
  const body = readSnapshotBody(r);
  readSeal(r, buf, 'checksum1');
  let digest: ZxidDigest | null = null;
  if (r.remaining() > 0) {
    // Digest versions below 2 stored the digest as a hex string.
    const zxid = r.longNum();
    const digestVersion = r.int();
    const digestValue = digestVersion >= 2 ? r.long() : BigInt('0x' + (r.ustring() || '0'));
    digest = { zxid, digestVersion, digest: digestValue };
    readSeal(r, buf, 'checksum2');
  }
  return { header, ...body, digest };
}

/** The compression a snapshot file name implies (last '.'-separated part). */
export function snapshotCompression(path: string): 'gz' | 'snappy' | 'none' {
  const ext = path.substring(path.lastIndexOf('.') + 1);
  return ext === 'gz' ? 'gz' : ext === 'snappy' ? 'snappy' : 'none';
}

/** The cheap validity test used to pick candidate snapshots (A4.4): no parsing. */
export function looksLikeValidSnapshot(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const size = fs.fstatSync(fd).size;
    const mode = snapshotCompression(path);
    if (mode === 'gz' || mode === 'snappy') {
      const magic = mode === 'gz' ? Buffer.from(GZIP_MAGIC) : SNAPPY_MAGIC;
      const head = Buffer.alloc(magic.length);
      return size >= magic.length && fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(magic);
    }
    if (size < 10) return false;
    const tail = Buffer.alloc(5);
    return fs.readSync(fd, tail, 0, 5, size - 5) === 5 && tail.equals(SLASH_MARKER);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Read, decompress and verify one snapshot file. Errors name the file and the problem. */
export function readSnapshotFile(path: string, maxFieldBytes = DEFAULT_MAX_RECORD_BYTES): SnapshotContent {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (e) {
    throw StorageError.wrap('read snapshot', path, e);
  }
  try {
    const mode = snapshotCompression(path);
    if (mode === 'snappy') throw new Error('snappy-compressed snapshots are not supported');
    const bytes = mode === 'gz' ? zlib.gunzipSync(raw) : raw;
    return parseSnapshot(bytes, maxFieldBytes);
  } catch (e) {
    throw new StorageError(`${path}: invalid snapshot: ${(e as Error).message}`, path, 'EBADSNAPSHOT');
  }
}

// ------------------------------------------------------------------ writing

const CHUNK_BYTES = 1 << 20;

export interface SerializeOptions {
  /** Yield to the event loop after this many nodes (fuzzy, non-blocking snapshots). */
  nodesPerSlice?: number;
  /** Set to write a real tree digest; otherwise zxid 0 / digest 0 (readers ignore it). */
  digest?: ZxidDigest;
}

export interface SerializedSnapshot {
  /** lastProcessedZxid when serialization started: the file's name zxid. */
  zxid: number;
  /** The whole file, in order. */
  chunks: Buffer[];
  bytes: number;
  nodeCount: number;
}

/**
 * Writes the node section of `tree` in pre-order (parents first), root as "". Resumable: a
 * `yield` marks a point where the caller may let other work run. The tree may change between
 * slices (a fuzzy snapshot); nodes deleted meanwhile are skipped, and every ACL index a written
 * node uses is captured at that moment so the ACL map always covers the nodes.
 */
interface NodeSection {
  chunks: Buffer[];
  /** Adler-32 of the section on its own (combined with the header's later). */
  adler: number;
  bytes: number;
  count: number;
}

function* nodeSection(tree: DataTree, acls: Map<number, ACL[]>, out: NodeSection, nodesPerSlice: number): Generator<void, void, void> {
  const flush = (w: Writer) => {
    const chunk = w.toBuffer();
    out.chunks.push(chunk);
    out.adler = adler32(chunk, out.adler);
    out.bytes += chunk.length;
  };
  let w = new Writer(CHUNK_BYTES);
  const stack: string[] = ['/'];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const node = tree.get(path);
    if (!node) continue;
    w.ustring(path === '/' ? '' : path);
    DataNodeRecord.write(w, { data: node.data, acl: node.aclIndex, stat: node.persisted() });
    if (node.aclIndex !== OPEN_ACL_INDEX && !acls.has(node.aclIndex)) acls.set(node.aclIndex, tree.acls.get(node.aclIndex));
    for (const c of node.children) stack.push(childPath(path, c));
    if (w.pos >= CHUNK_BYTES) {
      flush(w);
      w = new Writer(CHUNK_BYTES);
    }
    if (++out.count % nodesPerSlice === 0) yield;
  }
  w.raw(SLASH_MARKER);
  flush(w);
}

function* snapshotGenerator(db: ZkDatabase, opts: SerializeOptions, result: SerializedSnapshot): Generator<void, void, void> {
  const zxid = db.lastProcessedZxid;
  const sessions = [...db.sessions];
  const acls = new Map<number, ACL[]>();
  const nodes: NodeSection = { chunks: [], adler: 1, bytes: 0, count: 0 };
  yield* nodeSection(db.tree, acls, nodes, opts.nodesPerSlice ?? Number.MAX_SAFE_INTEGER);

  const head = new Writer(4096);
  FileHeader.write(head, { magic: SNAP_MAGIC, version: SNAP_VERSION, dbid: SNAP_DBID });
  head.int(sessions.length);
  for (const [id, timeOut] of sessions) SessionEntry.write(head, { id, timeOut });
  head.int(acls.size);
  for (const [index, list] of acls) ACLMapEntry.write(head, { index, acls: list });

  const headBytes = head.toBuffer();
  const chunks = [headBytes, ...nodes.chunks];
  // Everything before checksum1, without another pass over the node bytes.
  const sum = new RunningAdler32();
  sum.value = adler32Combine(adler32(headBytes), nodes.adler, nodes.bytes);
  const trailer = new Writer(64);
  trailer.longNum(sum.value);
  trailer.raw(SLASH_MARKER);
  ZxidDigest.write(trailer, opts.digest ?? { zxid: 0, digestVersion: DIGEST_VERSION, digest: 0n });
  sum.update(trailer.view());
  trailer.longNum(sum.value);
  trailer.raw(SLASH_MARKER);
  chunks.push(trailer.toBuffer());

  result.zxid = zxid;
  result.chunks = chunks;
  result.bytes = headBytes.length + nodes.bytes + chunks[chunks.length - 1]!.length;
  result.nodeCount = nodes.count;
}

/** Serialize in one go (startup, tests, SNAP). */
export function serializeSnapshotSync(db: ZkDatabase, opts: SerializeOptions = {}): SerializedSnapshot {
  const result: SerializedSnapshot = { zxid: 0, chunks: [], bytes: 0, nodeCount: 0 };
  const it = snapshotGenerator(db, { ...opts, nodesPerSlice: Number.MAX_SAFE_INTEGER }, result);
  while (!it.next().done);
  return result;
}

/** Serialize while letting requests run between slices of `nodesPerSlice` nodes (fuzzy snapshot). */
export async function serializeSnapshot(db: ZkDatabase, opts: SerializeOptions = {}): Promise<SerializedSnapshot> {
  const result: SerializedSnapshot = { zxid: 0, chunks: [], bytes: 0, nodeCount: 0 };
  const it = snapshotGenerator(db, { nodesPerSlice: 2000, ...opts }, result);
  while (!it.next().done) await new Promise<void>((r) => setImmediate(r));
  return result;
}
