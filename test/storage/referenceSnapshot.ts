// The snapshot serializer as it was before snapshots were streamed: the whole file built in
// memory (node section first, then the header it needs, checksums combined). Kept only as an
// independent oracle: the streaming serializer must produce exactly these bytes.
import type { ACL } from '../../src/protocol/records.js';
import type { DataTree } from '../../src/tree/DataTree.js';
import type { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { Writer } from '../../src/jute/archive.js';
import { childPath } from '../../src/tree/paths.js';
import { OPEN_ACL_INDEX } from '../../src/tree/ACLCache.js';
import { adler32 } from '../../src/storage/Adler32.js';
import { ACLMapEntry, DataNodeRecord, FileHeader, SessionEntry, ZxidDigest } from '../../src/storage/PersistenceRecords.js';
import { trailerDigest, SLASH_MARKER, SNAP_DBID, SNAP_MAGIC, SNAP_VERSION } from '../../src/storage/Snapshot.js';


const CHUNK_BYTES = 1 << 20;

interface SerializeOptions {
  /** Yield to the event loop after this many nodes (fuzzy, non-blocking snapshots). */
  nodesPerSlice?: number;
  /** The trailer digest; null writes none; by default the tree's, as the real serializer does. */
  digest?: ZxidDigest | null;
}

interface SerializedSnapshot {
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
  const digest = opts.digest !== undefined ? opts.digest : trailerDigest(db.tree);
  if (digest) {
    ZxidDigest.write(trailer, digest);
    sum.update(trailer.view());
    trailer.longNum(sum.value);
    trailer.raw(SLASH_MARKER);
  }
  chunks.push(trailer.toBuffer());

  result.zxid = zxid;
  result.chunks = chunks;
  result.bytes = headBytes.length + nodes.bytes + chunks[chunks.length - 1]!.length;
  result.nodeCount = nodes.count;
}

/** Serialize in one go (startup, tests, SNAP). */
export function referenceSerializeSnapshot(db: ZkDatabase, opts: SerializeOptions = {}): SerializedSnapshot {
  const result: SerializedSnapshot = { zxid: 0, chunks: [], bytes: 0, nodeCount: 0 };
  const it = snapshotGenerator(db, { ...opts, nodesPerSlice: Number.MAX_SAFE_INTEGER }, result);
  while (!it.next().done);
  return result;
}

// The whole-file serializer checksummed its node section on its own and combined it with the
// header's checksum afterwards; these helpers lived in src/storage/Adler32.ts until then.
const MOD = 65521;

/** A running checksum fed piece by piece (snapshots are checksummed as one stream). */
class RunningAdler32 {
  value = 1;

  update(buf: Uint8Array, from = 0, to = buf.length): void {
    this.value = adler32(buf, this.value, from, to);
  }
}

/**
 * Checksum of A followed by B from the checksums of A and B and B's length (zlib's
 * adler32_combine): lets a snapshot checksum its node section as it is produced, before the
 * header that precedes it in the file is known.
 */
export function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const rem = lengthB % MOD;
  let sum1 = adlerA & 0xffff;
  let sum2 = (rem * sum1) % MOD;
  sum1 += (adlerB & 0xffff) + MOD - 1;
  sum2 += ((adlerA >>> 16) & 0xffff) + ((adlerB >>> 16) & 0xffff) + MOD - rem;
  if (sum1 >= MOD) sum1 -= MOD;
  if (sum1 >= MOD) sum1 -= MOD;
  if (sum2 >= MOD * 2) sum2 -= MOD * 2;
  if (sum2 >= MOD) sum2 -= MOD;
  return ((sum2 << 16) | sum1) >>> 0;
}
