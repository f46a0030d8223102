// ZooKeeper's tree digest (3.6+, digest version 2): every znode hashes to a CRC-32 of its path,
// data and persisted Stat, and the tree digest is the wrapping 64-bit sum of those values. The
// leader puts the expected sum after each txn into the txn (TxnDigest) and snapshots carry the
// sum at a zxid (ZxidDigest), so that replicas and restarts can detect divergence.
// Pure functions only: the DataTree and the prep stage keep the running sums.
import * as zlib from 'node:zlib';

export const DIGEST_VERSION = 2;

/** Everything under this prefix hashes to 0 (ZooKeeper excludes its own quota/config nodes). */
export const DIGEST_EXCLUDED_PREFIX = '/zookeeper/';

/** Stat fields that enter a node's digest; cversion is the stored one, not what clients see. */
export interface DigestStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
}

/** A recorded tree digest: the digest of the tree right after txn `zxid`. */
export interface ZxidDigestValue {
  zxid: number;
  digestVersion: number;
  /** Signed 64-bit, as Java's long. */
  digest: bigint;
}

const STAT_BYTES = 60;

// zlib.crc32 arrived in Node 20.15; older 20.x builds use the table below.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array | string, value?: number) => number }).crc32;

let table: Uint32Array | null = null;
function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 (IEEE, as java.util.zip.CRC32) continuing from `crc`. */
export function crc32(data: Uint8Array, crc = 0): number {
  if (nativeCrc32) return nativeCrc32(data, crc) >>> 0;
  const t = crcTable();
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// Slicing-by-4 tables (table k: the CRC of a byte followed by k zero bytes), for crc32Range.
let tables4: Int32Array | null = null;
function crcTables4(): Int32Array {
  if (tables4) return tables4;
  const t = crcTable();
  tables4 = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) tables4[n] = t[n]! | 0;
  for (let k = 1; k < 4; k++) {
    for (let n = 0; n < 256; n++) {
      const prev = tables4[(k - 1) * 256 + n]!;
      tables4[k * 256 + n] = (prev >>> 8) ^ tables4[prev & 0xff]!;
    }
  }
  return tables4;
}

/** Up to this many bytes, crc32Range hashes in JS (faster than a view plus a native call, and allocates nothing). */
const JS_CRC_MAX = 256;

/** CRC-32 of b[start, end) continuing from `crc`, without a view of the range for short ones. */
export function crc32Range(b: Uint8Array, start: number, end: number, crc = 0): number {
  if (end - start > JS_CRC_MAX) return crc32(start === 0 && end === b.length ? b : b.subarray(start, end), crc);
  const t = crcTables4();
  let c = ~crc;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const statBuf = Buffer.alloc(STAT_BYTES);
// Stat fields go in through a DataView: its setters compile to plain stores, where Buffer's
// write methods (range checks in calls) made the zxids and times into heap numbers.
const statView = new DataView(statBuf.buffer, statBuf.byteOffset, STAT_BYTES);

const TWO_32 = 0x100000000;

// Small enough to be inlined where it is called, so the double is not boxed on the way in.
function putLong(at: number, v: number): void {
  // Zxids and times are exact integers in doubles; the usual non-negative ones skip BigInt.
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    const hi = Math.floor(v / TWO_32);
    statView.setUint32(at, hi);
    statView.setUint32(at + 4, v - hi * TWO_32);
  } else {
    putLongSlow(at, v);
  }
}

function putLongSlow(at: number, v: number): void {
  statView.setBigInt64(at, BigInt(v));
}

/**
 * The digest of one node (an unsigned 32-bit value), or 0 for nodes under /zookeeper/.
 * The root may be given as '/' or ''; both hash as the empty path.
 */
export function nodeDigest(path: string, data: Uint8Array | string | null, stat: DigestStat): number {
  return digestOf(
    path, data, stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime, stat.version, stat.cversion, stat.aversion,
    stat.ephemeralOwner,
  );
}

/** nodeDigest over the fields themselves (a snapshot load or a create has them at hand). */
export function digestOf(
  path: string, data: Uint8Array | string | null, czxid: number, mzxid: number, pzxid: number, ctime: number,
  mtime: number, version: number, cversion: number, aversion: number, owner: bigint,
): number {
  if (typeof data === 'string') {
    if (path.startsWith(DIGEST_EXCLUDED_PREFIX)) return 0;
    const crc = data.length ? crc32Latin1(data, pathCrc(path)) : pathCrc(path);
    return statCrc(crc, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner);
  }
  return digestOfRange(path, data, 0, data === null ? 0 : data.length, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner);
}

/**
 * The columns a node store keeps its znodes in (NodeStore has them), indexed by node id: what
 * storedNodeDigest reads. Declared here so that this file stays free of the store itself.
 */
export interface StoredNodes {
  readonly czxid: Float64Array;
  readonly mzxid: Float64Array;
  readonly pzxid: Float64Array;
  readonly ctime: Float64Array;
  readonly mtime: Float64Array;
  readonly version: Int32Array;
  readonly cversion: Int32Array;
  readonly aversion: Int32Array;
  /** Data length in bytes (0 for null or empty data). */
  readonly dataLen: Int32Array;
  owner(id: number): bigint;
  /** The buffer holding the data and where it starts (only asked when dataLen > 0). */
  dataChunk(id: number): Uint8Array;
  dataStart(id: number): number;
}

/**
 * nodeDigest of node `id` of a store, read from its columns here: zxids and times passed as
 * arguments to a call that is not inlined become heap numbers (five per node, twice per write),
 * column reads do not.
 */
export function storedNodeDigest(path: string, nodes: StoredNodes, id: number): number {
  if (path.startsWith(DIGEST_EXCLUDED_PREFIX)) return 0;
  let crc = pathCrc(path);
  const len = nodes.dataLen[id]!;
  if (len > 0) {
    const at = nodes.dataStart(id);
    crc = crc32Range(nodes.dataChunk(id), at, at + len, crc);
  }
  putLong(0, nodes.czxid[id]!);
  putLong(8, nodes.mzxid[id]!);
  putLong(16, nodes.pzxid[id]!);
  putLong(24, nodes.ctime[id]!);
  putLong(32, nodes.mtime[id]!);
  return statCrcTail(crc, nodes.version[id]!, nodes.cversion[id]!, nodes.aversion[id]!, nodes.owner(id));
}

/** digestOf with the data as src[start, start + len) (a znode's bytes where the store keeps them). */
export function digestOfRange(
  path: string, src: Uint8Array | null, start: number, len: number, czxid: number, mzxid: number, pzxid: number,
  ctime: number, mtime: number, version: number, cversion: number, aversion: number, owner: bigint,
): number {
  if (path.startsWith(DIGEST_EXCLUDED_PREFIX)) return 0;
  let crc = pathCrc(path);
  if (src !== null && len > 0) crc = crc32Range(src, start, start + len, crc);
  return statCrc(crc, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner);
}

function pathCrc(path: string): number {
  if (path === '/' || path === '') return 0;
  // zlib hashes a string as its UTF-8 bytes, as Java's getBytes() on Linux does.
  return nativeCrc32 ? nativeCrc32(path, 0) >>> 0 : crc32(Buffer.from(path, 'utf8'), 0);
}

/** The CRC continued over the persisted Stat's 60 bytes. */
function statCrc(
  crc: number, czxid: number, mzxid: number, pzxid: number, ctime: number, mtime: number, version: number,
  cversion: number, aversion: number, owner: bigint,
): number {
  putLong(0, czxid);
  putLong(8, mzxid);
  putLong(16, pzxid);
  putLong(24, ctime);
  putLong(32, mtime);
  return statCrcTail(crc, version, cversion, aversion, owner);
}

/** The rest of statCrc, once the five longs are in place. */
function statCrcTail(crc: number, version: number, cversion: number, aversion: number, owner: bigint): number {
  statView.setInt32(40, version | 0);
  statView.setInt32(44, cversion | 0);
  statView.setInt32(48, aversion | 0);
  if (owner === 0n) {
    statView.setInt32(52, 0);
    statView.setInt32(56, 0);
  } else {
    // setBigInt64 wraps to 64 bits as Java's long holds it.
    statView.setBigInt64(52, owner);
  }
  return crc32(statBuf, crc);
}

let scratch = Buffer.alloc(4096);

/** CRC-32 of the bytes a latin1 string stands for (ZNode's stored form of small data). */
function crc32Latin1(s: string, crc: number): number {
  // zlib hashes a string as UTF-8, which equals latin1 when every char is ASCII: no copy then.
  if (nativeCrc32 && Buffer.byteLength(s, 'utf8') === s.length) return nativeCrc32(s, crc) >>> 0;
  if (scratch.length < s.length) scratch = Buffer.alloc(s.length);
  const n = scratch.write(s, 0, 'latin1');
  return crc32(scratch.subarray(0, n), crc);
}

// Converts between a bigint and two 32-bit halves without intermediate bigints.
const int64View = new DataView(new ArrayBuffer(8));

/**
 * A wrapping 64-bit sum of node digests, kept as two unsigned 32-bit halves in numbers: adding
 * or removing a node, and comparing with a txn's digest, cost no bigint at all; a bigint is
 * made only when the value is asked for.
 */
export class DigestSum {
  private hi = 0;
  private lo = 0;

  /** Add an unsigned 32-bit node digest. */
  add(d: number): void {
    let lo = this.lo + d;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      this.hi = (this.hi + 1) >>> 0;
    }
    this.lo = lo;
  }

  /** Take an unsigned 32-bit node digest out. */
  remove(d: number): void {
    let lo = this.lo - d;
    if (lo < 0) {
      lo += TWO_32;
      this.hi = (this.hi - 1) >>> 0;
    }
    this.lo = lo;
  }

  /** The sum as Java's long would hold it. */
  get value(): bigint {
    return joinInt64(this.hi, this.lo);
  }

  /** Whether the sum equals `v` (a signed 64-bit value), without making a bigint. */
  equals(v: bigint): boolean {
    int64View.setBigInt64(0, v);
    return int64View.getUint32(0) === this.hi && int64View.getUint32(4) === this.lo;
  }

  /** The high and low halves, for keeping the sum at a point without a bigint (see joinInt64). */
  get high(): number {
    return this.hi;
  }

  get low(): number {
    return this.lo;
  }

  clear(): void {
    this.hi = 0;
    this.lo = 0;
  }
}

/** The signed 64-bit value whose unsigned 32-bit halves are `hi` and `lo`. */
export function joinInt64(hi: number, lo: number): bigint {
  int64View.setUint32(0, hi);
  int64View.setUint32(4, lo);
  return int64View.getBigInt64(0);
}

/** `treeDigest - removed + added`, wrapped to a signed 64-bit value. */
export function adjustDigest(treeDigest: bigint, removed: number, added: number): bigint {
  return BigInt.asIntN(64, treeDigest - BigInt(removed) + BigInt(added));
}
