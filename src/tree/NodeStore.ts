// Every znode's fields in columns (typed arrays indexed by a node id), its data and name in byte
// arenas, and the tree's shape as links between ids. A znode then costs ~120 bytes besides its
// data and name, none of it on the garbage-collected heap: a million znodes are ~40 typed arrays
// rather than millions of objects, Map entries and path strings (see issue 10: 829 B per znode
// with objects, Apache ZooKeeper ~600 B). Paths are not stored: a path is found by walking its
// names from the root through one open-addressing table keyed by (parent id, name).
import { ByteArena, CHUNK, localOffset } from './ByteArena.js';
import { kindOfOwner, type NodeKind } from './NodeKind.js';

/** Id 0 stands for "none"; the root is always id 1. */
export const NIL = 0;
export const ROOT = 1;

// flags column
const KIND_MASK = 3;
export const KIND_PERSISTENT = 0;
export const KIND_EPHEMERAL = 1;
export const KIND_CONTAINER = 2;
export const KIND_TTL = 3;
/** The name is stored as UTF-16LE (some char above 0xff); otherwise one byte per char. */
const NAME_WIDE = 8;
/** The data is null (not empty): snapshots and replies tell the two apart. */
const DATA_NULL = 16;

const KIND_NAMES: NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];
const KIND_CODES: Record<NodeKind, number> = { persistent: KIND_PERSISTENT, ephemeral: KIND_EPHEMERAL, container: KIND_CONTAINER, ttl: KIND_TTL };

const INITIAL_CAPACITY = 1024;

function grow<T extends Float64Array | Int32Array | Uint32Array | Uint8Array | BigInt64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

export class NodeStore {
  private cap = INITIAL_CAPACITY;
  /** Ids in use are below this. */
  private hwm = 2;
  /** Freed ids, chained through nextSibling. */
  private freeHead = NIL;
  /** Live nodes. */
  count = 0;
  /** Arena chunks evacuated so far (compaction passes). */
  evacuations = 0;
  /** Nodes removed so far: a walk paused while this moved must check the ids it holds. */
  removals = 0;

  czxid = new Float64Array(this.cap);
  mzxid = new Float64Array(this.cap);
  pzxid = new Float64Array(this.cap);
  ctime = new Float64Array(this.cap);
  mtime = new Float64Array(this.cap);
  version = new Int32Array(this.cap);
  /** Stored cversion (child creations), not the client-visible value. */
  cversion = new Int32Array(this.cap);
  aversion = new Int32Array(this.cap);
  aclIndex = new Int32Array(this.cap);
  /** ephemeralOwner as an index into `owners` (0: none): a few thousand sessions own nodes, not a million. */
  private ownerIdx = new Int32Array(this.cap);
  private readonly owners: bigint[] = [0n];
  private readonly ownerRefs: number[] = [0];
  private readonly ownerIndex = new Map<bigint, number>();
  private readonly freeOwners: number[] = [];
  flags = new Uint8Array(this.cap);
  parent = new Int32Array(this.cap);
  firstChild = new Int32Array(this.cap);
  nextSibling = new Int32Array(this.cap);
  /** The previous sibling; the first child's is the last child (children form a ring this way). */
  prevSibling = new Int32Array(this.cap);
  numChildren = new Int32Array(this.cap);
  private nameOff = new Uint32Array(this.cap);
  /** Name length in chars. */
  private nameLen = new Int32Array(this.cap);
  private dataOff = new Float64Array(this.cap);
  /** Data length in bytes (0 for null data, which DATA_NULL marks). */
  dataLen = new Int32Array(this.cap);

  private readonly names = new ByteArena();
  private readonly data = new ByteArena();

  /** Open addressing, linear probing: ids by hash of (parent, name); 0 = empty. */
  private table = new Int32Array(INITIAL_CAPACITY * 2);
  private tableMask = INITIAL_CAPACITY * 2 - 1;

  constructor() {
    this.hwm = ROOT + 1;
  }

  // ------------------------------------------------------------------ ids

  private takeId(): number {
    let id = this.freeHead;
    if (id !== NIL) {
      this.freeHead = this.nextSibling[id]!;
    } else {
      if (this.hwm === this.cap) this.growColumns();
      id = this.hwm++;
    }
    this.count++;
    return id;
  }

  private growColumns(): void {
    const n = this.cap * 2;
    this.czxid = grow(this.czxid, n);
    this.mzxid = grow(this.mzxid, n);
    this.pzxid = grow(this.pzxid, n);
    this.ctime = grow(this.ctime, n);
    this.mtime = grow(this.mtime, n);
    this.version = grow(this.version, n);
    this.cversion = grow(this.cversion, n);
    this.aversion = grow(this.aversion, n);
    this.aclIndex = grow(this.aclIndex, n);
    this.ownerIdx = grow(this.ownerIdx, n);
    this.flags = grow(this.flags, n);
    this.parent = grow(this.parent, n);
    this.firstChild = grow(this.firstChild, n);
    this.nextSibling = grow(this.nextSibling, n);
    this.prevSibling = grow(this.prevSibling, n);
    this.numChildren = grow(this.numChildren, n);
    this.nameOff = grow(this.nameOff, n);
    this.nameLen = grow(this.nameLen, n);
    this.dataOff = grow(this.dataOff, n);
    this.dataLen = grow(this.dataLen, n);
    this.cap = n;
  }

  /** Whether `id` names a live node (ids of deleted nodes are reused). */
  exists(id: number): boolean {
    return id > NIL && id < this.hwm && (id === ROOT || this.parent[id] !== NIL);
  }

  // ------------------------------------------------------------------ names and lookup

  private static hashName(parent: number, s: string, start: number, end: number): number {
    // FNV-1a over the chars, seeded with the parent id.
    let h = (0x811c9dc5 ^ Math.imul(parent, 0x9e3779b1)) | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h | 0;
  }

  /** hashName of a stored node's (parent, name), from the name's bytes. */
  private storedHash(id: number): number {
    let h = (0x811c9dc5 ^ Math.imul(this.parent[id]!, 0x9e3779b1)) | 0;
    const off = this.nameOff[id]!;
    const buf = this.names.chunkOf(off);
    const at = localOffset(off);
    const len = this.nameLen[id]!;
    if ((this.flags[id]! & NAME_WIDE) === 0) {
      for (let i = at; i < at + len; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    } else {
      for (let i = at; i < at + 2 * len; i += 2) h = Math.imul(h ^ (buf[i]! | (buf[i + 1]! << 8)), 0x01000193);
    }
    return h | 0;
  }

  private nameEquals(id: number, s: string, start: number, end: number): boolean {
    const len = end - start;
    if (this.nameLen[id] !== len) return false;
    const off = this.nameOff[id]!;
    const buf = this.names.chunkOf(off);
    let at = localOffset(off);
    if ((this.flags[id]! & NAME_WIDE) === 0) {
      for (let i = start; i < end; i++) if (buf[at++] !== s.charCodeAt(i)) return false;
    } else {
      for (let i = start; i < end; i++, at += 2) if ((buf[at]! | (buf[at + 1]! << 8)) !== s.charCodeAt(i)) return false;
    }
    return true;
  }

  /** The child of `parent` named s[start, end), or NIL. */
  childNamed(parent: number, s: string, start = 0, end = s.length): number {
    const h = NodeStore.hashName(parent, s, start, end);
    const t = this.table;
    const mask = this.tableMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = t[i]!;
      if (id === NIL) return NIL;
      if (this.parent[id] === parent && this.nameEquals(id, s, start, end)) return id;
    }
  }

  /** The node at an absolute path ("/" or "" is the root), or NIL. */
  lookup(path: string): number {
    const n = path.length;
    if (this.count === 0) return NIL;
    if (n <= 1) return n === 0 || path === '/' ? ROOT : NIL;
    if (path.charCodeAt(0) !== 0x2f) return NIL;
    let id = ROOT;
    let start = 1;
    for (;;) {
      let end = path.indexOf('/', start);
      if (end < 0) end = n;
      id = this.childNamed(id, path, start, end);
      if (id === NIL || end === n) return id;
      start = end + 1;
    }
  }

  name(id: number): string {
    if (id === ROOT) return '';
    const off = this.nameOff[id]!;
    const at = localOffset(off);
    const buf = this.names.chunkOf(off);
    const len = this.nameLen[id]!;
    return (this.flags[id]! & NAME_WIDE) === 0 ? buf.toString('latin1', at, at + len) : buf.toString('utf16le', at, at + 2 * len);
  }

  /** Names of `id`'s children, oldest first. */
  childNames(id: number): string[] {
    const out: string[] = new Array(this.numChildren[id]!);
    let i = 0;
    for (let c = this.firstChild[id]!; c !== NIL; c = this.nextSibling[c]!) out[i++] = this.name(c);
    return out;
  }

  private tableInsert(id: number): void {
    const t = this.table;
    const mask = this.tableMask;
    let i = this.storedHash(id) & mask;
    while (t[i] !== NIL) i = (i + 1) & mask;
    t[i] = id;
  }

  private tableRemove(id: number): void {
    const t = this.table;
    const mask = this.tableMask;
    let i = this.storedHash(id) & mask;
    while (t[i] !== id) {
      if (t[i] === NIL) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull later members of the probe run into the hole, so lookups
    // never stop early at it and no tombstones pile up.
    let hole = i;
    for (let j = (i + 1) & mask; t[j] !== NIL; j = (j + 1) & mask) {
      const home = this.storedHash(t[j]!) & mask;
      // Movable when its home is not in (hole, j] going round the table.
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        t[hole] = t[j]!;
        hole = j;
      }
    }
    t[hole] = NIL;
  }

  private growTable(): void {
    const size = this.table.length * 2;
    this.table = new Int32Array(size);
    this.tableMask = size - 1;
    for (let id = ROOT + 1; id < this.hwm; id++) if (this.parent[id] !== NIL) this.tableInsert(id);
  }

  private storeName(id: number, s: string, start: number, end: number): void {
    const len = end - start;
    let wide = false;
    for (let i = start; i < end; i++) {
      if (s.charCodeAt(i) > 0xff) {
        wide = true;
        break;
      }
    }
    const bytes = wide ? 2 * len : len;
    const off = this.names.alloc(bytes);
    if (off >= 2 ** 32) throw new RangeError('znode names exceed 4 GB');
    const buf = this.names.chunkOf(off);
    const at = localOffset(off);
    if (len > 0) {
      const part = start === 0 && end === s.length ? s : s.substring(start, end);
      buf.write(part, at, bytes, wide ? 'utf16le' : 'latin1');
    }
    this.nameOff[id] = off;
    this.nameLen[id] = len;
    if (wide) this.flags[id]! |= NAME_WIDE;
  }

  private nameBytes(id: number): number {
    return (this.flags[id]! & NAME_WIDE) === 0 ? this.nameLen[id]! : 2 * this.nameLen[id]!;
  }

  // ------------------------------------------------------------------ create / remove

  /** The root, at id 1, with empty data and zeroed fields. */
  createRoot(): number {
    if (this.count !== 0) throw new Error('root created twice');
    this.count = 1;
    this.flags[ROOT] = 0;
    return ROOT;
  }

  /**
   * A new child of `parent` named s[start, end), linked last among its siblings, or NIL when
   * `parent` has a child of that name already. Fields are zero; data empty.
   */
  createChild(parent: number, s: string, start: number, end: number): number {
    // At 60 % load, not 50 %: the table then doubles away from the columns (which double at powers
    // of two), so the two copies never land on the same create (each is 20-40 ms at 512k nodes).
    if ((this.count + 1) * 5 > this.table.length * 3) this.growTable();
    // One probe finds both an existing child of that name and the free slot for a new one.
    const t = this.table;
    const mask = this.tableMask;
    let slot = NodeStore.hashName(parent, s, start, end) & mask;
    for (let other = t[slot]!; other !== NIL; other = t[slot]!) {
      if (this.parent[other] === parent && this.nameEquals(other, s, start, end)) return NIL;
      slot = (slot + 1) & mask;
    }
    const id = this.takeId();
    this.czxid[id] = 0;
    this.mzxid[id] = 0;
    this.pzxid[id] = 0;
    this.ctime[id] = 0;
    this.mtime[id] = 0;
    this.version[id] = 0;
    this.cversion[id] = 0;
    this.aversion[id] = 0;
    this.aclIndex[id] = 0;
    this.ownerIdx[id] = 0;
    this.flags[id] = 0;
    this.firstChild[id] = NIL;
    this.numChildren[id] = 0;
    this.dataOff[id] = 0;
    this.dataLen[id] = 0;
    this.parent[id] = parent;
    this.storeName(id, s, start, end);
    t[slot] = id;
    const first = this.firstChild[parent]!;
    this.nextSibling[id] = NIL;
    if (first === NIL) {
      this.firstChild[parent] = id;
      this.prevSibling[id] = id;
    } else {
      const last = this.prevSibling[first]!;
      this.nextSibling[last] = id;
      this.prevSibling[id] = last;
      this.prevSibling[first] = id;
    }
    this.numChildren[parent]!++;
    return id;
  }

  /** Remove a leaf (the caller has checked it has no children); its id may be reused. */
  remove(id: number): void {
    const parent = this.parent[id]!;
    this.tableRemove(id);
    const prev = this.prevSibling[id]!;
    const next = this.nextSibling[id]!;
    const first = this.firstChild[parent]!;
    if (id === first) {
      this.firstChild[parent] = next;
      if (next !== NIL) this.prevSibling[next] = prev;
    } else {
      this.nextSibling[prev] = next;
      // Removing the last child: the first child's ring link moves back one.
      if (next === NIL) this.prevSibling[first] = prev;
      else this.prevSibling[next] = prev;
    }
    this.numChildren[parent]!--;
    this.names.free(this.nameOff[id]!, this.nameBytes(id));
    this.freeData(id);
    this.releaseOwner(id);
    this.parent[id] = NIL;
    this.nextSibling[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
    this.removals++;
    this.compact();
  }

  // ------------------------------------------------------------------ kind

  /** ephemeralOwner: the session id, the container marker or the TTL bits, 0 for persistent. */
  owner(id: number): bigint {
    return this.owners[this.ownerIdx[id]!]!;
  }

  private releaseOwner(id: number): void {
    const i = this.ownerIdx[id]!;
    if (i === 0) return;
    this.ownerIdx[id] = 0;
    if (--this.ownerRefs[i]! === 0) {
      this.ownerIndex.delete(this.owners[i]!);
      this.owners[i] = 0n;
      this.freeOwners.push(i);
    }
  }

  kind(id: number): NodeKind {
    return KIND_NAMES[this.flags[id]! & KIND_MASK]!;
  }

  /** Set ephemeralOwner, and the kind it encodes. */
  setOwner(id: number, owner: bigint): void {
    this.releaseOwner(id);
    if (owner !== 0n) {
      let i = this.ownerIndex.get(owner);
      if (i === undefined) {
        i = this.freeOwners.length > 0 ? this.freeOwners.pop()! : this.owners.length;
        this.owners[i] = owner;
        this.ownerRefs[i] = 0;
        this.ownerIndex.set(owner, i);
      }
      this.ownerRefs[i]!++;
      this.ownerIdx[id] = i;
    }
    const k = owner === 0n ? KIND_PERSISTENT : KIND_CODES[kindOfOwner(owner)];
    this.flags[id] = (this.flags[id]! & ~KIND_MASK) | k;
  }

  // ------------------------------------------------------------------ data

  isDataNull(id: number): boolean {
    return (this.flags[id]! & DATA_NULL) !== 0;
  }

  private freeData(id: number): void {
    const len = this.dataLen[id]!;
    if (len > 0) this.data.free(this.dataOff[id]!, len);
    this.dataLen[id] = 0;
  }

  /** Set the data from src[start, start + len), or null data when len is -1. */
  setDataBytes(id: number, src: Uint8Array | null, start: number, len: number): void {
    if (len > 0 && len === this.dataLen[id]) {
      // Same size (counters, heartbeats, most rewrites): overwrite in place, nothing freed.
      const off = this.dataOff[id]!;
      copyInto(src!, start, len, this.data.chunkOf(off), localOffset(off));
      return;
    }
    this.freeData(id);
    if (len < 0) {
      this.flags[id]! |= DATA_NULL;
    } else {
      this.flags[id]! &= ~DATA_NULL;
      if (len > 0) {
        const off = this.data.alloc(len);
        copyInto(src!, start, len, this.data.chunkOf(off), localOffset(off));
        this.dataOff[id] = off;
        this.dataLen[id] = len;
      }
    }
    this.compact();
  }

  setData(id: number, data: Uint8Array | null): void {
    if (data === null) this.setDataBytes(id, null, 0, -1);
    else this.setDataBytes(id, data, 0, data.length);
  }

  /**
   * A view of the data (valid until the next change to the store: values move when chunks are
   * compacted), or null. Empty data is an empty view.
   */
  dataView(id: number): Buffer | null {
    const len = this.dataLen[id]!;
    if (len === 0) return (this.flags[id]! & DATA_NULL) !== 0 ? null : EMPTY;
    const off = this.dataOff[id]!;
    const at = localOffset(off);
    return this.data.chunkOf(off).subarray(at, at + len);
  }

  /**
   * The arena chunk holding the data, read at dataStart(id) for dataLen[id] bytes: the bytes
   * without a view object (hashing on the write path). Valid until the next change to the store.
   */
  dataChunk(id: number): Buffer {
    return this.data.chunkOf(this.dataOff[id]!);
  }

  dataStart(id: number): number {
    return localOffset(this.dataOff[id]!);
  }

  /** A copy of the data the caller may keep, or null. */
  dataCopy(id: number): Buffer | null {
    const len = this.dataLen[id]!;
    if (len === 0) return (this.flags[id]! & DATA_NULL) !== 0 ? null : Buffer.alloc(0);
    const off = this.dataOff[id]!;
    const at = localOffset(off);
    const out = Buffer.allocUnsafe(len);
    this.data.chunkOf(off).copy(out, 0, at, at + len);
    return out;
  }

  /** The data as UTF-8 text ('' for null or empty). */
  dataText(id: number): string {
    const len = this.dataLen[id]!;
    if (len === 0) return '';
    const off = this.dataOff[id]!;
    const at = localOffset(off);
    return this.data.chunkOf(off).toString('utf8', at, at + len);
  }

  // ------------------------------------------------------------------ compaction

  /**
   * Evacuate at most one chunk of each arena when garbage has piled up: the values in it are
   * copied to the arena's end and their offsets updated. One pass over the id columns finds them
   * (~1 ms at a million nodes); it runs once per MB of garbage reclaimed, at most.
   */
  private compact(): void {
    const dv = this.data.victim();
    if (dv >= 0) this.evacuate(this.data, this.dataOff, dv, true);
    const nv = this.names.victim();
    if (nv >= 0) this.evacuate(this.names, this.nameOff, nv, false);
  }

  private evacuate(arena: ByteArena, offs: Float64Array | Uint32Array, c: number, isData: boolean): void {
    this.evacuations++;
    const lo = c * CHUNK;
    const hi = lo + CHUNK;
    for (let id = ROOT; id < this.hwm; id++) {
      if (id !== ROOT && this.parent[id] === NIL) continue;
      const off = offs[id]!;
      if (off < lo || off >= hi) continue;
      const len = isData ? this.dataLen[id]! : this.nameBytes(id);
      if (len === 0) continue;
      const to = arena.alloc(len);
      const from = localOffset(off);
      arena.chunkOf(off).copy(arena.chunkOf(to), localOffset(to), from, from + len);
      offs[id] = to;
      arena.free(off, len);
    }
  }

  // ------------------------------------------------------------------ figures

  /** Bytes this store holds outside the JS heap (columns, table, arenas). */
  get reservedBytes(): number {
    const perNode = 5 * 8 + 4 * 4 + 4 + 1 + 5 * 4 + 4 + 4 + 8 + 4;
    return this.cap * perNode + this.table.length * 4 + this.names.reservedBytes + this.data.reservedBytes;
  }

  /** Garbage bytes in the data and name arenas (freed, not yet reclaimed). */
  get garbageBytes(): number {
    return this.data.garbageBytes + this.names.garbageBytes;
  }
}

const EMPTY = Buffer.alloc(0);

/** src[start, start + len) into dst at `at` (a Buffer's own copy needs no view object). */
function copyInto(src: Uint8Array, start: number, len: number, dst: Buffer, at: number): void {
  if (Buffer.isBuffer(src)) src.copy(dst, at, start, start + len);
  else dst.set(src.subarray(start, start + len), at);
}
