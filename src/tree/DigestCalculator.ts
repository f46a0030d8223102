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

const statBuf = Buffer.alloc(STAT_BYTES);

const TWO_32 = 0x100000000;

function writeLong(b: Buffer, v: number, at: number): void {
  // Zxids and times are exact integers in doubles; the usual non-negative ones skip BigInt.
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    b.writeUInt32BE(Math.floor(v / TWO_32), at);
    b.writeUInt32BE(v % TWO_32, at + 4);
  } else {
    b.writeBigInt64BE(BigInt.asIntN(64, BigInt(v)), at);
  }
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
  if (path.startsWith(DIGEST_EXCLUDED_PREFIX)) return 0;
  const b = statBuf;
  writeLong(b, czxid, 0);
  writeLong(b, mzxid, 8);
  writeLong(b, pzxid, 16);
  writeLong(b, ctime, 24);
  writeLong(b, mtime, 32);
  b.writeInt32BE(version | 0, 40);
  b.writeInt32BE(cversion | 0, 44);
  b.writeInt32BE(aversion | 0, 48);
  if (owner === 0n) {
    b.writeInt32BE(0, 52);
    b.writeInt32BE(0, 56);
  } else {
    b.writeBigInt64BE(BigInt.asIntN(64, owner), 52);
  }
  let crc = 0;
  if (path !== '/' && path !== '') {
    // zlib hashes a string as its UTF-8 bytes, as Java's getBytes() on Linux does.
    crc = nativeCrc32 ? nativeCrc32(path, crc) >>> 0 : crc32(Buffer.from(path, 'utf8'), crc);
  }
  if (data && data.length) crc = typeof data === 'string' ? crc32Latin1(data, crc) : crc32(data, crc);
  return crc32(b, crc);
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

/**
 * A wrapping 64-bit sum of node digests, kept mostly in a double (exact below 2^53) and folded
 * into a bigint now and then, so that adding a node costs no bigint arithmetic.
 */
export class DigestSum {
  private base = 0n;
  private acc = 0;

  add(d: number): void {
    this.acc += d;
    if (this.acc > 2 ** 52 || this.acc < -(2 ** 52)) this.fold();
  }

  remove(d: number): void {
    this.acc -= d;
    if (this.acc > 2 ** 52 || this.acc < -(2 ** 52)) this.fold();
  }

  private fold(): void {
    this.base = BigInt.asIntN(64, this.base + BigInt(this.acc));
    this.acc = 0;
  }

  /** The sum as Java's long would hold it. */
  get value(): bigint {
    return BigInt.asIntN(64, this.base + BigInt(this.acc));
  }

  clear(): void {
    this.base = 0n;
    this.acc = 0;
  }
}

/** `treeDigest - removed + added`, wrapped to a signed 64-bit value. */
export function adjustDigest(treeDigest: bigint, removed: number, added: number): bigint {
  return BigInt.asIntN(64, treeDigest - BigInt(removed) + BigInt(added));
}
