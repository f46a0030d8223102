// Snapshot files `snapshot.<hex zxid>` in ZooKeeper 3.8's format (FileSnap):
//   FileHeader{"ZKSN", 2, dbid -1} sessions ACL-map nodes(pre-order, root as "") "/"
//   checksum1 "/" ZxidDigest checksum2 "/"
// with one running Adler-32 over the uncompressed stream. The session+ACL+nodes+"/" body is
// also what a quorum SNAP transfer carries, so it is exposed on its own.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { Reader, Writer } from '../jute/archive.js';
import type { ACL, StatPersisted } from '../protocol/records.js';
import { DataTree, type DataTreeOptions } from '../tree/DataTree.js';
import { JuteError } from '../jute/archive.js';
import type { ZkDatabase } from '../tree/ZkDatabase.js';
import { OPEN_ACL_INDEX } from '../tree/ACLCache.js';
import { adler32 } from './Adler32.js';
import { TreeWalker } from '../tree/TreeWalker.js';
import type { NodeStore } from '../tree/NodeStore.js';
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

/** A snapshot decoded straight into a DataTree (no per-node records on the way). */
export interface SnapshotTree {
  header: FileHeader;
  sessions: Map<bigint, number>;
  tree: DataTree;
  nodeCount: number;
  digest: ZxidDigest | null;
}

const TWO_32 = 0x100000000;

/** A snapshot file that is intact (checksums agree) but whose nodes do not form a tree. */
export class SnapshotTreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotTreeError';
  }
}

/** Fills `into[at, into.length)` from a stream; returns the bytes read, 0 at its end. */
type ReadInto = (into: Buffer, at: number) => number;

/** Bytes kept in memory while a snapshot file is parsed (grown for a record that needs more). */
const WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * A snapshot's bytes a window at a time: the parser asks for the bytes of the next record
 * (`ensure`), consumed bytes go into the running Adler-32 when the window slides, and the seals
 * compare against that running sum. Over a whole buffer (no `src`) the window is the buffer.
 */
class ReadWindow {
  r: Reader;
  buf: Buffer;
  private filled: number;
  private sum = 1;
  /** Bytes of `buf` before this are already in `sum`. */
  private summed = 0;
  private ended: boolean;

  constructor(
    private readonly src: ReadInto | null,
    first: Buffer,
    private readonly maxFieldBytes: number,
  ) {
    this.buf = first;
    this.filled = 0;
    this.ended = src === null;
    if (src === null) this.filled = first.length;
    else this.fill();
    this.r = new Reader(this.buf, 0, this.filled, maxFieldBytes);
  }

  private fill(): void {
    while (!this.ended && this.filled < this.buf.length) {
      const n = this.src!(this.buf, this.filled);
      if (n === 0) this.ended = true;
      this.filled += n;
    }
  }

  /** Whether `n` bytes are there from the read position (sliding and reading more if needed). */
  ensure(n: number): boolean {
    if (this.filled - this.r.pos >= n) return true;
    if (this.ended) return false;
    const pos = this.r.pos;
    this.sum = adler32(this.buf, this.sum, this.summed, pos);
    const rest = this.filled - pos;
    const next = n > this.buf.length ? Buffer.allocUnsafe(Math.max(n, 2 * this.buf.length)) : this.buf;
    this.buf.copy(next, 0, pos, this.filled);
    this.buf = next;
    this.filled = rest;
    this.summed = 0;
    this.fill();
    this.r = new Reader(this.buf, 0, this.filled, this.maxFieldBytes);
    return this.filled >= n;
  }

  /**
   * Parse one record with `read`, giving the window more bytes when the record runs past it (the
   * records before the nodes have no cheap size to ask for).
   */
  record<T>(read: (r: Reader) => T): T {
    for (;;) {
      const start = this.r.pos;
      try {
        return read(this.r);
      } catch (e) {
        if (!(e instanceof JuteError) || this.ended || !/^truncated/.test(e.message)) throw e;
        this.r.pos = start;
        this.ensure(this.filled - start + WINDOW_BYTES);
      }
    }
  }

  /** Everything left in the stream, in the window (the trailer: a few dozen bytes). */
  drain(): void {
    while (!this.ended) this.ensure(this.filled - this.r.pos + WINDOW_BYTES);
  }

  /** Check a checksum over every byte before it, and the "/" after it. */
  seal(what: string): void {
    const r = this.r;
    this.sum = adler32(this.buf, this.sum, this.summed, r.pos);
    this.summed = r.pos;
    const stored = r.long();
    if (stored !== BigInt(this.sum)) {
      throw new Error(`${what} mismatch: stored 0x${stored.toString(16)}, computed 0x${this.sum.toString(16)}`);
    }
    this.summed = r.pos;
    // The checksum's own bytes count for the next seal (checksum2 covers checksum1).
    this.sum = adler32(this.buf, this.sum, r.pos - 8, r.pos);
    const slash = r.ustring();
    if (slash !== '/') throw new Error(`missing "/" after ${what}`);
  }
}

/**
 * parseSnapshot's checks and result, but each node goes from the bytes into the tree as it is
 * read: no SnapshotNode, StatPersisted or data Buffer per node (the data is copied from the file
 * straight into the node store's arena), and persistent nodes' owner read without a BigInt. At
 * a million znodes this halves the load time and the memory a load peaks at.
 */
export function parseSnapshotToTree(buf: Buffer, treeOpts: DataTreeOptions = {}, maxFieldBytes = DEFAULT_MAX_RECORD_BYTES): SnapshotTree {
  return parseWindowToTree(new ReadWindow(null, buf, maxFieldBytes), treeOpts, maxFieldBytes);
}

function parseWindowToTree(win: ReadWindow, treeOpts: DataTreeOptions, maxFieldBytes: number): SnapshotTree {
  const header = win.record((r) => FileHeader.read(r));
  if (header.magic !== SNAP_MAGIC) {
    throw new Error(`bad magic 0x${(header.magic >>> 0).toString(16)}, expected 0x5a4b534e "ZKSN"`);
  }
  const sessions = new Map<bigint, number>();
  const sessionCount = win.record((r) => r.int());
  if (sessionCount < 0) throw new Error(`negative session count ${sessionCount}`);
  for (let i = 0; i < sessionCount; i++) {
    const s = win.record((r) => SessionEntry.read(r));
    sessions.set(s.id, s.timeOut);
  }
  const acls: Array<[number, ACL[]]> = [];
  const aclCount = win.record((r) => r.int());
  if (aclCount < 0) throw new Error(`negative ACL map size ${aclCount}`);
  for (let i = 0; i < aclCount; i++) {
    const e = win.record((r) => ACLMapEntry.read(r));
    acls.push([e.index, e.acls ?? []]);
  }
  const tree = DataTree.beginLoad(acls, treeOpts);
  let nodeCount = 0;
  let treeError: Error | null = null;
  // Fixed part after the data: acl (8), czxid, mzxid, ctime, mtime (4 x 8), version, cversion,
  // aversion (3 x 4), ephemeralOwner (8), pzxid (8).
  const FIXED = 8 + 32 + 12 + 8 + 8;
  for (;;) {
    // The next record's size, from its two lengths, so that the whole record is in the window.
    win.ensure(4);
    let buf = win.buf;
    let r = win.r;
    const pathLen = r.remaining() >= 4 ? buf.readInt32BE(r.pos) : -1;
    if (pathLen >= 0 && pathLen <= maxFieldBytes && win.ensure(4 + pathLen + 4)) {
      buf = win.buf;
      r = win.r;
      const isEnd = pathLen === 1 && buf[r.pos + 4] === 0x2f;
      const dataLen = buf.readInt32BE(r.pos + 4 + pathLen);
      if (!isEnd && dataLen > 0 && dataLen <= maxFieldBytes) win.ensure(8 + pathLen + dataLen + FIXED);
      else if (!isEnd) win.ensure(8 + pathLen + FIXED);
      buf = win.buf;
      r = win.r;
    }
    const path = r.ustring();
    if (path === '/') break;
    if (path === null) throw new Error('null node path');
    const len = r.int();
    if (len < -1 || len > maxFieldBytes) throw new JuteError(`Unreasonable length = ${len}`);
    let p = r.pos;
    const dataEnd = p + (len > 0 ? len : 0);
    if (dataEnd + FIXED > r.end) throw new JuteError(`truncated record: need ${dataEnd + FIXED - p} bytes at offset ${p}, have ${r.end - p}`);
    const dataStart = p;
    p = dataEnd;
    const acl = buf.readInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4);
    const czxid = buf.readInt32BE(p + 8) * TWO_32 + buf.readUInt32BE(p + 12);
    const mzxid = buf.readInt32BE(p + 16) * TWO_32 + buf.readUInt32BE(p + 20);
    const ctime = buf.readInt32BE(p + 24) * TWO_32 + buf.readUInt32BE(p + 28);
    const mtime = buf.readInt32BE(p + 32) * TWO_32 + buf.readUInt32BE(p + 36);
    const version = buf.readInt32BE(p + 40);
    const cversion = buf.readInt32BE(p + 44);
    const aversion = buf.readInt32BE(p + 48);
    const ownerHi = buf.readInt32BE(p + 52);
    const ownerLo = buf.readUInt32BE(p + 56);
    const owner = ownerHi === 0 && ownerLo === 0 ? 0n : buf.readBigInt64BE(p + 52);
    const pzxid = buf.readInt32BE(p + 60) * TWO_32 + buf.readUInt32BE(p + 64);
    r.pos = p + FIXED;
    nodeCount++;
    if (treeError) continue;
    try {
      tree.loadNodeBytes(path, buf, dataStart, len, acl, czxid, mzxid, ctime, mtime, version, cversion, aversion, owner, pzxid);
    } catch (e) {
      treeError = e as Error;
    }
  }
  win.drain();
  win.seal('checksum1');
  // Only a file that is intact but describes no valid tree is a tree error (not a damaged file
  // to skip for an older one): the checksum is checked first, as when records came first.
  if (!treeError) {
    try {
      tree.finishLoad();
    } catch (e) {
      treeError = e as Error;
    }
  }
  if (treeError) throw new SnapshotTreeError(treeError.message);
  let digest: ZxidDigest | null = null;
  const r = win.r;
  if (r.remaining() > 0) {
    const zxid = r.longNum();
    const digestVersion = r.int();
    const digestValue = digestVersion >= 2 ? r.long() : BigInt('0x' + (r.ustring() || '0'));
    digest = { zxid, digestVersion, digest: digestValue };
    win.seal('checksum2');
  }
  return { header, sessions, tree, nodeCount, digest };
}

/** An intact snapshot file whose nodes form no tree: fatal, not a reason to try an older file. */
export class TreeRebuildError extends StorageError {
  constructor(message: string, path: string) {
    super(message, path, 'EBADSNAPSHOT');
  }
}

/** readSnapshotFile, decoding into a tree (parseSnapshotToTree). */
export function readSnapshotFileToTree(
  path: string, treeOpts: DataTreeOptions = {}, maxFieldBytes = DEFAULT_MAX_RECORD_BYTES, windowBytes = WINDOW_BYTES,
): SnapshotTree {
  // An uncompressed file is read a window at a time: a 1M-znode snapshot is ~190 MB, which a
  // whole-file read would hold beside the tree being built from it.
  if (snapshotCompression(path) !== 'none') return parseFileToTree(path, () => parseSnapshotToTree(readSnapshotBytes(path), treeOpts, maxFieldBytes));
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw StorageError.wrap('read snapshot', path, e);
  }
  try {
    const readInto: ReadInto = (into, at) => {
      try {
        return fs.readSync(fd, into, at, into.length - at, null);
      } catch (e) {
        throw StorageError.wrap('read snapshot', path, e);
      }
    };
    return parseFileToTree(path, () => parseWindowToTree(new ReadWindow(readInto, Buffer.allocUnsafe(windowBytes), maxFieldBytes), treeOpts, maxFieldBytes));
  } finally {
    fs.closeSync(fd);
  }
}

function parseFileToTree(path: string, parse: () => SnapshotTree): SnapshotTree {
  try {
    return parse();
  } catch (e) {
    if (e instanceof StorageError) throw e;
    if (e instanceof SnapshotTreeError) throw new TreeRebuildError(`${path}: cannot rebuild the tree: ${e.message}`, path);
    throw new StorageError(`${path}: invalid snapshot: ${(e as Error).message}`, path, 'EBADSNAPSHOT');
  }
}

function readSnapshotBytes(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(path);
  } catch (e) {
    throw StorageError.wrap('read snapshot', path, e);
  }
  try {
    const mode = snapshotCompression(path);
    if (mode === 'snappy') throw new Error('snappy-compressed snapshots are not supported');
    return mode === 'gz' ? zlib.gunzipSync(raw) : raw;
  } catch (e) {
    throw new StorageError(`${path}: invalid snapshot: ${(e as Error).message}`, path, 'EBADSNAPSHOT');
  }
}

/** The compression a snapshot file name implies (last '.'-separated part). */
export function snapshotCompression(path: string): 'gz' | 'snappy' | 'none' {
  const ext = path.substring(path.lastIndexOf('.') + 1);
  return ext === 'gz' ? 'gz' : ext === 'snappy' ? 'snappy' : 'none';
}

/** The cheap validity test on a file's size and its first or last bytes. */
function passesValidityCheck(path: string, size: number, head: Buffer, tail: Buffer): boolean {
  const mode = snapshotCompression(path);
  if (mode === 'gz' || mode === 'snappy') {
    const magic = mode === 'gz' ? Buffer.from(GZIP_MAGIC) : SNAPPY_MAGIC;
    return size >= magic.length && head.subarray(0, magic.length).equals(magic);
  }
  return size >= 10 && tail.equals(SLASH_MARKER);
}

const HEAD_BYTES = SNAPPY_MAGIC.length;

/** The cheap validity test used to pick candidate snapshots: no parsing. */
export function looksLikeValidSnapshot(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(HEAD_BYTES);
    const tail = Buffer.alloc(5);
    fs.readSync(fd, head, 0, Math.min(HEAD_BYTES, size), 0);
    if (size >= 5) fs.readSync(fd, tail, 0, 5, size - 5);
    return passesValidityCheck(path, size, head, tail);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** looksLikeValidSnapshot over fs.promises (autopurge runs while serving). */
export async function looksLikeValidSnapshotAsync(path: string): Promise<boolean> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, 'r');
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(HEAD_BYTES);
    const tail = Buffer.alloc(5);
    await fh.read(head, 0, Math.min(HEAD_BYTES, size), 0);
    if (size >= 5) await fh.read(tail, 0, 5, size - 5);
    return passesValidityCheck(path, size, head, tail);
  } catch {
    return false;
  } finally {
    await fh?.close().catch(() => undefined);
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

/** Chunks are cut once they reach this size (plus at most one node record). */
export const SNAPSHOT_CHUNK_BYTES = 256 << 10;
/** Nodes serialized between two points where other work may run (fuzzy snapshot). */
export const DEFAULT_NODES_PER_SLICE = 2000;

export interface SerializeOptions {
  /** Yield to the event loop after this many nodes (each pass); the tree may change meanwhile. */
  nodesPerSlice?: number;
  /**
   * The ZxidDigest trailer to write instead of the tree's own; `null` writes none (the layout of
   * a server with zookeeper.digest.enabled=false). By default the tree's digest at its last
   * applied zxid, taken when the nodes are all written, as ZooKeeper does.
   */
  digest?: ZxidDigest | null;
  /**
   * 'file' (default): the whole snapshot file. 'body': what a leader sends in a SNAP sync,
   * sessions + ACL map + nodes + "/", without file header, checksums or digest.
   */
  form?: 'file' | 'body';
  chunkBytes?: number;
}

/** What a serialization produced; final once the last chunk is out. */
export interface SnapshotStats {
  /** lastProcessedZxid when serialization started: the file's name zxid. */
  zxid: number;
  bytes: number;
  nodeCount: number;
  chunkCount: number;
  /** Largest chunk handed out: the most a consumer ever holds of it at once. */
  maxChunkBytes: number;
  /** Fuzzy cases: nodes created after the zxid with an ACL the map lacks, left to replay. */
  skippedNewNodes: number;
  /** Fuzzy cases: nodes re-ACLed after the zxid, written with the open ACL until replay. */
  openAclPlaceholders: number;
}

/** A snapshot serialized into memory: every chunk, in order. */
export type SerializedSnapshot = SnapshotStats & { chunks: Buffer[] };

const SLICE = Symbol('slice');

/** One node's record, read from the store's columns (its data as a view: written right away). */
function writeNodeRecord(w: Writer, st: NodeStore, id: number, acl: number): void {
  DataNodeRecord.write(w, {
    data: st.dataView(id),
    acl,
    stat: {
      czxid: st.czxid[id]!, mzxid: st.mzxid[id]!, ctime: st.ctime[id]!, mtime: st.mtime[id]!, version: st.version[id]!,
      cversion: st.cversion[id]!, aversion: st.aversion[id]!, ephemeralOwner: st.owner(id), pzxid: st.pzxid[id]!,
    },
  });
}
type Part = Buffer | typeof SLICE;

/**
 * The snapshot as chunks, in file order, with SLICE marks where the caller may let other work
 * run. The ACL map precedes the nodes in the file but must cover them, so a first pass collects
 * the ACL lists the nodes use, in the order the node pass will meet them (which also gives the
 * same bytes as building the file in one piece). The tree may change between slices; a node
 * that then carries an ACL index the map lacks was created or re-ACLed after the snapshot's
 * zxid, so replay redoes it: one created later is left out with its subtree (its create is
 * replayed), one re-ACLed later is written with the open ACL (its setACL is replayed).
 */
function* snapshotParts(db: ZkDatabase, opts: SerializeOptions, stats: SnapshotStats): Generator<Part, void, void> {
  const file = (opts.form ?? 'file') === 'file';
  const chunkBytes = opts.chunkBytes ?? SNAPSHOT_CHUNK_BYTES;
  const perSlice = opts.nodesPerSlice ?? Number.MAX_SAFE_INTEGER;
  const tree: DataTree = db.tree;
  const startZxid = stats.zxid;
  const sessions = [...db.sessions];

  const st = tree.store;
  const acls = new Map<number, ACL[]>();
  let visited = 0;
  for (const walk = new TreeWalker(st); walk.next(); ) {
    const acl = st.aclIndex[walk.id]!;
    if (acl !== OPEN_ACL_INDEX && !acls.has(acl)) acls.set(acl, tree.acls.get(acl));
    if (++visited % perSlice === 0) yield SLICE;
  }

  let sum = 1;
  let w = new Writer(chunkBytes + 4096);
  const take = (): Buffer => {
    const chunk = w.view();
    sum = adler32(chunk, sum);
    stats.bytes += chunk.length;
    stats.chunkCount++;
    if (chunk.length > stats.maxChunkBytes) stats.maxChunkBytes = chunk.length;
    w = new Writer(chunkBytes + 4096);
    return chunk;
  };

  if (file) FileHeader.write(w, { magic: SNAP_MAGIC, version: SNAP_VERSION, dbid: SNAP_DBID });
  w.int(sessions.length);
  for (const [id, timeOut] of sessions) {
    SessionEntry.write(w, { id, timeOut });
    if (w.pos >= chunkBytes) yield take();
  }
  w.int(acls.size);
  for (const [index, list] of acls) {
    ACLMapEntry.write(w, { index, acls: list });
    if (w.pos >= chunkBytes) yield take();
  }

  for (const walk = new TreeWalker(st); walk.next(); ) {
    const id = walk.id;
    let acl = st.aclIndex[id]!;
    if (acl !== OPEN_ACL_INDEX && !acls.has(acl)) {
      if (st.czxid[id]! > startZxid) {
        stats.skippedNewNodes++;
        walk.skipChildren();
        continue;
      }
      stats.openAclPlaceholders++;
      acl = OPEN_ACL_INDEX;
    }
    w.ustring(walk.path === '/' ? '' : walk.path);
    writeNodeRecord(w, st, id, acl);
    stats.nodeCount++;
    if (w.pos >= chunkBytes) yield take();
    if (stats.nodeCount % perSlice === 0) yield SLICE;
  }
  w.raw(SLASH_MARKER);

  if (file) {
    // One running Adler-32 over the stream: checksum1 seals the tree, checksum2 also covers
    // checksum1, its "/" and the digest.
    let at = 0;
    const seal = () => {
      sum = adler32(w.buf, sum, at, w.pos);
      at = w.pos;
      w.longNum(sum);
      w.raw(SLASH_MARKER);
    };
    seal();
    // Taken after the last node: the snapshot is fuzzy, and replay reaching this zxid is the point
    // where the tree is whole again and must have this digest.
    const digest = opts.digest !== undefined ? opts.digest : trailerDigest(db.tree);
    if (digest) {
      ZxidDigest.write(w, digest);
      seal();
    }
    // The checksums are already in `sum`'s past; take() must not count the pending bytes twice.
    const tail = w.view();
    stats.bytes += tail.length;
    stats.chunkCount++;
    if (tail.length > stats.maxChunkBytes) stats.maxChunkBytes = tail.length;
    yield tail;
    return;
  }
  yield take();
}

/**
 * The ZxidDigest a snapshot of `tree` ends with now: none when digests are off; zxid 0 and digest 0
 * when none was recorded yet (a fresh tree, or replay still inside a loaded snapshot's fuzzy range).
 */
export function trailerDigest(tree: DataTree): ZxidDigest | null {
  if (!tree.digestEnabled) return null;
  return tree.lastProcessedZxidDigest ?? { zxid: 0, digestVersion: DIGEST_VERSION, digest: 0n };
}

function newStats(db: ZkDatabase): SnapshotStats {
  return { zxid: db.lastProcessedZxid, bytes: 0, nodeCount: 0, chunkCount: 0, maxChunkBytes: 0, skippedNewNodes: 0, openAclPlaceholders: 0 };
}

/**
 * A snapshot of `db` as a stream of chunks, produced only as fast as they are consumed: no
 * whole-file buffer, at most one chunk (SNAPSHOT_CHUNK_BYTES plus one node) held by the
 * producer. Its zxid is taken when the stream is created. Iterate once (for await, or
 * toReadable() for a socket or file stream); serialization yields to the event loop every
 * nodesPerSlice nodes, so requests keep being served while it runs (a fuzzy snapshot).
 */
export class SnapshotStream implements AsyncIterable<Buffer> {
  readonly stats: SnapshotStats;
  private used = false;

  constructor(
    private readonly db: ZkDatabase,
    private readonly opts: SerializeOptions = {},
  ) {
    this.stats = newStats(db);
  }

  get zxid(): number {
    return this.stats.zxid;
  }

  /** The chunks (the stream itself), for writeSnapshotFile. */
  get chunks(): AsyncIterable<Buffer> {
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, void> {
    if (this.used) throw new Error('a SnapshotStream can be read only once');
    this.used = true;
    const opts = { nodesPerSlice: DEFAULT_NODES_PER_SLICE, ...this.opts };
    for (const part of snapshotParts(this.db, opts, this.stats)) {
      if (part === SLICE) await new Promise<void>((r) => setImmediate(r));
      else yield part;
    }
  }

  toReadable(): Readable {
    return Readable.from(this, { objectMode: false });
  }
}

export function streamSnapshot(db: ZkDatabase, opts: SerializeOptions = {}): SnapshotStream {
  return new SnapshotStream(db, opts);
}

/** Serialize in one go into memory (tests, small trees); same bytes as the stream. */
export function serializeSnapshotSync(db: ZkDatabase, opts: SerializeOptions = {}): SerializedSnapshot {
  const stats = newStats(db);
  const chunks: Buffer[] = [];
  for (const part of snapshotParts(db, { ...opts, nodesPerSlice: Number.MAX_SAFE_INTEGER }, stats)) {
    if (part !== SLICE) chunks.push(part);
  }
  return { ...stats, chunks };
}
