// The quorum port (leader <-> learners) as Apache ZooKeeper 3.8 writes it: each direction is a
// bare concatenation of jute QuorumPacket records with no outer length prefix, except that a
// SNAP packet is followed inline by the database stream (sessions, ACL map, nodes, "/") and the
// "BenWasHere" signature. Packet payloads are declared here once; the stream reader finds frame
// boundaries without trusting any length beyond configured maxima.
import { Reader, Writer, JuteError } from '../../jute/archive.js';
import { bool, buffer, int, long, longNum, record, str, vector, type RecordOf } from '../../jute/codec.js';
import { Id } from '../../protocol/records.js';
import { decodeTxn, txnBytes, type Txn } from '../../protocol/txn.js';
import { ACLMapEntry, DataNodeRecord, SessionEntry } from '../../storage/PersistenceRecords.js';
import type { SnapshotBody } from '../../storage/Snapshot.js';

export class QuorumWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuorumWireError';
  }
}

/** Packet types with Apache's numbers (Leader.java constants). */
export const PacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
} as const;
export type PacketTypeName = keyof typeof PacketType;
export type PacketTypeValue = (typeof PacketType)[PacketTypeName];

const NAMES = new Map<number, PacketTypeName>(Object.entries(PacketType).map(([k, v]) => [v, k as PacketTypeName]));

export function packetTypeName(type: number): PacketTypeName | undefined {
  return NAMES.get(type);
}

/** Zab protocol version a 3.4+ learner/leader announces (LearnerInfo, LEADERINFO). */
export const ZAB_PROTOCOL_VERSION = 0x10000;
/** What follows a SNAP packet's database stream. */
export const SNAP_SIGNATURE = 'BenWasHere';
/** Apache's default jute.maxbuffer (0xfffff) plus its 1024-byte allowance for record overhead. */
export const DEFAULT_MAX_PACKET_DATA = 0xfffff + 1024;

// ----------------------------------------------------------------------------- 64-bit fields

// A bigint goes in and out of a buffer through one scratch DataView: setBigInt64 takes the low 64
// bits without allocating, where Buffer.writeBigInt64BE (after Writer.long's BigInt.asIntN) builds
// several intermediate bigints, and readBigInt64BE four; getBigInt64 allocates only the result.
// The broadcast path has one such field per forwarded request (its session id).
const scratch64 = new DataView(new ArrayBuffer(8));
const scratch64Bytes = new Uint8Array(scratch64.buffer);

/**
 * Copies src[from, from + dst.length) into dst. Buffer.copy from an offset first makes a
 * Uint8Array view of the source range (Node 20), an object per packet on the receive path; a
 * loop over a packet's few hundred bytes costs less than that allocation's share of a scavenge.
 */
function copyBytes(src: Buffer, from: number, dst: Buffer): void {
  const n = dst.length;
  if (n > 1024) src.copy(dst, 0, from, from + n);
  else for (let i = 0; i < n; i++) dst[i] = src[from + i]!;
}

/** The jute long at buf[at..at+8), as Reader.long reads it. */
export function readInt64BE(buf: Uint8Array, at: number): bigint {
  for (let i = 0; i < 8; i++) scratch64Bytes[i] = buf[at + i]!;
  return scratch64.getBigInt64(0);
}

/** Appends `v` as a jute long, the same bytes as Writer.long. */
export function writeInt64(w: Writer, v: bigint): void {
  // Reserve the 8 bytes (growing the buffer if need be), then fill them in place.
  w.int(0).int(0);
  scratch64.setBigInt64(0, v);
  w.buf.set(scratch64Bytes, w.pos - 8);
}

// ----------------------------------------------------------------------------- records

export const QuorumPacket = record({ type: int, zxid: longNum, data: buffer, authinfo: vector(Id) });
export type QuorumPacket = RecordOf<typeof QuorumPacket.fields>;

export const LearnerInfo = record({ serverid: long, protocolVersion: int, configVersion: long });
export type LearnerInfo = RecordOf<typeof LearnerInfo.fields>;
export const LeaderInfoData = record({ protocolVersion: int });
export const AckEpochData = record({ currentEpoch: int });
export const SessionTouch = record({ sessionId: long, timeout: int });
export type SessionTouch = RecordOf<typeof SessionTouch.fields>;
export const RevalidateRequest = record({ sessionId: long, timeout: int });
export type RevalidateRequest = RecordOf<typeof RevalidateRequest.fields>;
export const RevalidateReply = record({ sessionId: long, valid: bool });
export type RevalidateReply = RecordOf<typeof RevalidateReply.fields>;
/** The fixed head of a forwarded client request; the client's request body follows unframed. */
export const ForwardedRequestHead = record({ sessionId: long, cxid: int, type: int });
export const DesignatedLeader = record({ designatedLeader: long });

export function packet(type: number, zxid: number, data: Buffer | null = null, authinfo: Id[] | null = null): QuorumPacket {
  return { type, zxid, data, authinfo };
}

export function encodePacket(p: QuorumPacket, w = new Writer(64)): Buffer {
  QuorumPacket.write(w, p);
  return w.toBuffer();
}

// ----------------------------------------------------------------------------- payloads

function requireData(p: QuorumPacket, what: string): Buffer {
  if (p.data == null) throw new QuorumWireError(`${what} packet has no data`);
  return p.data;
}

/** Decode a whole fixed-size payload; leftover bytes mean the peer speaks something else. */
function exact<T>(codec: { read(r: Reader): T }, data: Buffer, what: string): T {
  const r = new Reader(data);
  let v: T;
  try {
    v = codec.read(r);
  } catch (e) {
    throw new QuorumWireError(`${what}: ${(e as Error).message}`);
  }
  if (r.remaining() !== 0) throw new QuorumWireError(`${what}: ${r.remaining()} unexpected trailing bytes`);
  return v;
}

/** What a leader assumes of a learner that did not state its protocol version (pre-Zab-1.0). */
export const PRE_ZAB10_PROTOCOL_VERSION = 0x1;

export interface DecodedLearnerInfo {
  /** null when the packet had no data: Apache's leader then gives the learner an anonymous negative id. */
  serverid: bigint | null;
  protocolVersion: number;
  /** null when the learner did not send one (shorter layouts). */
  configVersion: bigint | null;
}

/**
 * FOLLOWERINFO/OBSERVERINFO payload, read as Apache's leader reads it: whatever prefix is
 * present (8 bytes sid, 12 adds protocolVersion, 20 adds configVersion); bytes after 20 ignored.
 */
export function decodeLearnerInfo(data: Buffer | null): DecodedLearnerInfo {
  if (data == null) return { serverid: null, protocolVersion: PRE_ZAB10_PROTOCOL_VERSION, configVersion: null };
  if (data.length >= 20) return LearnerInfo.read(new Reader(data));
  if (data.length < 8) throw new QuorumWireError(`LearnerInfo of ${data.length} bytes has no server id (needs 8, 12 or 20)`);
  const r = new Reader(data);
  const serverid = r.long();
  return { serverid, protocolVersion: data.length >= 12 ? r.int() : PRE_ZAB10_PROTOCOL_VERSION, configVersion: null };
}

export function learnerInfoPacket(type: typeof PacketType.FOLLOWERINFO | typeof PacketType.OBSERVERINFO, acceptedEpoch: number, info: LearnerInfo): QuorumPacket {
  return packet(type, acceptedEpoch * 2 ** 32, LearnerInfo.encode(info));
}

export function leaderInfoPacket(newEpoch: number, protocolVersion = ZAB_PROTOCOL_VERSION): QuorumPacket {
  return packet(PacketType.LEADERINFO, newEpoch * 2 ** 32, LeaderInfoData.encode({ protocolVersion }));
}

export function decodeLeaderInfo(p: QuorumPacket): { newEpoch: number; protocolVersion: number } {
  const { protocolVersion } = exact(LeaderInfoData, requireData(p, 'LEADERINFO'), 'LEADERINFO');
  return { newEpoch: Math.floor(p.zxid / 2 ** 32), protocolVersion };
}

/** currentEpoch -1 tells the leader the learner already had this epoch accepted. */
export function ackEpochPacket(lastLoggedZxid: number, currentEpoch: number): QuorumPacket {
  return packet(PacketType.ACKEPOCH, lastLoggedZxid, AckEpochData.encode({ currentEpoch }));
}

export function decodeAckEpoch(p: QuorumPacket): { lastLoggedZxid: number; currentEpoch: number } {
  return { lastLoggedZxid: p.zxid, ...exact(AckEpochData, requireData(p, 'ACKEPOCH'), 'ACKEPOCH') };
}

/** NEWLEADER carries the leader's config text as raw UTF-8 (no inner length); pre-1.0 leaders sent none. */
export function newLeaderPacket(newEpoch: number, configText: string): QuorumPacket {
  return packet(PacketType.NEWLEADER, newEpoch * 2 ** 32, Buffer.from(configText, 'utf8'));
}

export function decodeNewLeaderConfig(p: QuorumPacket): string | null {
  return p.data == null || p.data.length === 0 ? null : p.data.toString('utf8');
}

/** A learner's PING reply: {sessionId, timeout}* to the end of the data, no count. */
export function encodePingSessions(sessions: SessionTouch[]): Buffer {
  const w = new Writer(12 * sessions.length + 4);
  for (const s of sessions) SessionTouch.write(w, s);
  return w.toBuffer();
}

export function decodePingSessions(data: Buffer | null): SessionTouch[] {
  if (data == null) return [];
  if (data.length % 12 !== 0) throw new QuorumWireError(`PING session list of ${data.length} bytes is not a multiple of 12`);
  const r = new Reader(data);
  const out: SessionTouch[] = [];
  while (r.remaining() > 0) out.push(SessionTouch.read(r));
  return out;
}

/** The learner's PING reply must carry non-null data even when empty. */
export function pingReplyPacket(leaderZxid: number, sessions: SessionTouch[], authinfo: Id[] | null = null): QuorumPacket {
  return packet(PacketType.PING, leaderZxid, encodePingSessions(sessions), authinfo);
}

export function decodeRevalidateRequest(p: QuorumPacket): RevalidateRequest {
  return exact(RevalidateRequest, requireData(p, 'REVALIDATE'), 'REVALIDATE request');
}

export function decodeRevalidateReply(p: QuorumPacket): RevalidateReply {
  return exact(RevalidateReply, requireData(p, 'REVALIDATE'), 'REVALIDATE reply');
}

export function revalidateRequestPacket(v: RevalidateRequest): QuorumPacket {
  return packet(PacketType.REVALIDATE, -1, RevalidateRequest.encode(v));
}

export function revalidateReplyPacket(v: RevalidateReply): QuorumPacket {
  return packet(PacketType.REVALIDATE, -1, RevalidateReply.encode(v));
}

export interface ForwardedRequest {
  sessionId: bigint;
  cxid: number;
  /** Client opcode. */
  type: number;
  /** The client's request body after its RequestHeader, as received (empty for closeSession). */
  body: Buffer;
}

export function encodeForwardedRequest(req: ForwardedRequest): Buffer {
  const w = new Writer(16 + req.body.length);
  ForwardedRequestHead.write(w, req);
  w.raw(req.body);
  return w.toBuffer();
}

export function decodeForwardedRequest(data: Buffer): ForwardedRequest {
  const r = new Reader(data);
  let head: RecordOf<typeof ForwardedRequestHead.fields>;
  try {
    head = ForwardedRequestHead.read(r);
  } catch (e) {
    throw new QuorumWireError(`REQUEST: ${(e as Error).message}`);
  }
  return { ...head, body: Buffer.from(data.subarray(r.pos)) };
}

export function requestPacket(req: ForwardedRequest, authinfo: Id[] | null): QuorumPacket {
  return packet(PacketType.REQUEST, -1, encodeForwardedRequest(req), authinfo);
}

/** PROPOSAL/INFORM data: the txn exactly as the log stores it (header, record, TxnDigest if any). */
export function proposalPacket(type: typeof PacketType.PROPOSAL | typeof PacketType.INFORM, txn: Txn): QuorumPacket {
  return packet(type, txn.hdr.zxid, txnBytes(txn));
}

export function decodeProposalTxn(p: QuorumPacket): Txn {
  return decodeProposalData(p.type, p.zxid, requireData(p, packetTypeName(p.type) ?? String(p.type)));
}

/** decodeProposalTxn on a packet's fields; `data` must be the caller's own copy (the txn keeps it as its bytes). */
export function decodeProposalData(type: number, zxid: number, data: Buffer): Txn {
  let txn: Txn;
  try {
    txn = decodeTxn(data, true);
  } catch (e) {
    throw new QuorumWireError(`${packetTypeName(type)} 0x${zxid.toString(16)}: ${(e as Error).message}`);
  }
  if (txn.hdr.zxid !== zxid) {
    throw new QuorumWireError(`${packetTypeName(type)} zxid 0x${zxid.toString(16)} but txn header zxid 0x${txn.hdr.zxid.toString(16)}`);
  }
  return txn;
}

/** INFORMANDACTIVATE: designated leader sid, then the proposal bytes. COMMITANDACTIVATE: the sid only. */
export function decodeInformAndActivate(p: QuorumPacket): { designatedLeader: bigint; txnBytes: Buffer } {
  const data = requireData(p, 'INFORMANDACTIVATE');
  if (data.length < 8) throw new QuorumWireError(`INFORMANDACTIVATE data of ${data.length} bytes`);
  return { designatedLeader: data.readBigInt64BE(0), txnBytes: Buffer.from(data.subarray(8)) };
}

export function decodeCommitAndActivate(p: QuorumPacket): bigint {
  return exact(DesignatedLeader, requireData(p, 'COMMITANDACTIVATE'), 'COMMITANDACTIVATE').designatedLeader;
}

// ----------------------------------------------------------------------------- SNAP stream

/**
 * The database as it follows SNAP: the snapshot file body without file header, checksums or
 * digest, then the signature. Written from a SnapshotBody so a test can rebuild recorded bytes.
 */
export function encodeSnapStream(body: SnapshotBody, w = new Writer(1024)): Buffer {
  w.int(body.sessions.size);
  for (const [id, timeOut] of body.sessions) SessionEntry.write(w, { id, timeOut });
  w.int(body.acls.length);
  for (const [index, acls] of body.acls) ACLMapEntry.write(w, { index, acls });
  for (const n of body.nodes) {
    str.write(w, n.path);
    DataNodeRecord.write(w, { data: n.data, acl: n.aclIndex, stat: n.stat });
  }
  str.write(w, '/');
  w.raw(snapSignatureBytes());
  return w.toBuffer();
}

/** The signature a leader writes after the database stream (a jute ustring). */
export function snapSignatureBytes(): Buffer {
  const w = new Writer(16);
  str.write(w, SNAP_SIGNATURE);
  return w.toBuffer();
}

export function decodeSnapStream(buf: Buffer, maxFieldBytes = DEFAULT_MAX_PACKET_DATA): SnapshotBody {
  const scan = new SnapStreamScanner(maxFieldBytes);
  const end = scan.scan(buf, 0, buf.length);
  if (end < 0) throw new QuorumWireError(`SNAP stream truncated after ${buf.length} bytes`);
  if (end !== buf.length) throw new QuorumWireError(`${buf.length - end} bytes after the SNAP stream's signature`);
  return scan.body();
}

/**
 * Resumable parser of the SNAP stream: each call continues from the last complete element, so a
 * large snapshot arriving in many chunks costs one pass. Returns the stream's end offset, or -1.
 */
class SnapStreamScanner {
  private phase: 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'signature' | 'done' = 'sessionCount';
  private left = 0;
  private done = 0; // bytes consumed by complete elements, relative to the stream start
  private readonly out: SnapshotBody = { sessions: new Map(), acls: [], nodes: [] };

  constructor(private readonly maxFieldBytes: number) {}

  body(): SnapshotBody {
    return this.out;
  }

  /** Bytes of the buffer start that hold complete elements (the caller may drop them, then rebase). */
  consumed(): number {
    return this.done;
  }

  /** The caller dropped n bytes from the front of the buffer it scans. */
  rebase(n: number): void {
    this.done -= n;
  }

  /** buf[start, end) holds the stream from its first byte. */
  scan(buf: Buffer, start: number, end: number): number {
    const r = new Reader(buf, start + this.done, end, this.maxFieldBytes);
    for (;;) {
      const at = r.pos;
      try {
        if (!this.step(r)) return at - start;
      } catch (e) {
        // Within a partial stream a vector count may exceed the bytes buffered so far; that is
        // "not yet" too. Garbage then fails on the maxima or the signature, or at maxSnapshotBytes.
        if (e instanceof JuteError && (e.message.startsWith('truncated') || e.message.includes('exceeds remaining'))) return -1;
        throw new QuorumWireError(`SNAP stream at byte ${at - start}: ${(e as Error).message}`);
      }
      this.done = r.pos - start;
    }
  }

  /** Parse one element; false once the signature has been read. */
  private step(r: Reader): boolean {
    switch (this.phase) {
      case 'sessionCount':
        this.left = r.int();
        if (this.left < 0) throw new QuorumWireError(`negative session count ${this.left}`);
        this.phase = 'sessions';
        return true;
      case 'sessions':
        if (this.left === 0) {
          this.phase = 'aclCount';
          return true;
        }
        {
          const s = SessionEntry.read(r);
          this.out.sessions.set(s.id, s.timeOut);
        }
        this.left--;
        return true;
      case 'aclCount':
        this.left = r.int();
        if (this.left < 0) throw new QuorumWireError(`negative ACL map size ${this.left}`);
        this.phase = 'acls';
        return true;
      case 'acls':
        if (this.left === 0) {
          this.phase = 'nodes';
          return true;
        }
        {
          const e = ACLMapEntry.read(r);
          this.out.acls.push([e.index, e.acls ?? []]);
        }
        this.left--;
        return true;
      case 'nodes': {
        const path = r.ustring();
        if (path === null) throw new QuorumWireError('null node path');
        if (path === '/') {
          this.phase = 'signature';
          return true;
        }
        const n = DataNodeRecord.read(r);
        this.out.nodes.push({ path, data: n.data, aclIndex: n.acl, stat: n.stat });
        return true;
      }
      case 'signature': {
        const sig = r.ustring();
        if (sig !== SNAP_SIGNATURE) throw new QuorumWireError(`missing signature: got ${JSON.stringify(sig)}, expected "${SNAP_SIGNATURE}"`);
        this.phase = 'done';
        return true;
      }
      case 'done':
        return false;
    }
  }
}

// ----------------------------------------------------------------------------- stream reader

export type QuorumFrame =
  | { kind: 'packet'; packet: QuorumPacket; bytes: Buffer }
  /** bytes: the whole stream when the reader keeps it (keepSnapshotBytes), else null. */
  | { kind: 'snapshot'; snapshot: SnapshotBody; bytes: Buffer | null; length: number };

export interface QuorumReaderOptions {
  /** Largest `data` buffer accepted (Apache: jute.maxbuffer + 1024). */
  maxDataBytes?: number;
  /** Largest authinfo list accepted; Apache has no separate limit, the count is bounded by bytes. */
  maxAuthIds?: number;
  /** Largest SNAP stream accepted. */
  maxSnapshotBytes?: number;
  /** Keep the SNAP stream's raw bytes in its frame (tests); a learner needs only the decoding. */
  keepSnapshotBytes?: boolean;
}

/** What QuorumStreamReader.advance() found. */
export const enum Advance {
  /** Not yet: more bytes are needed. */
  None = 0,
  /** A packet: its fields are the reader's packet* members until the next advance(). */
  Packet = 1,
  /** A SNAP packet's database stream: see snapshotFrame(). */
  Snapshot = 2,
}

const EMPTY = Buffer.alloc(0);

/**
 * Splits one direction of a quorum connection into frames. Frame boundaries come from a scan of
 * the jute lengths, checked against the maxima before anything is allocated, so garbage or an
 * absurd length fails at once instead of waiting forever for bytes that will never come.
 *
 * Two ways to read: next() returns each frame as an object (tests, tools); advance() leaves a
 * packet's fields on the reader and lets the caller copy out only what it keeps. A member's
 * receive path takes the second: at tens of thousands of packets a second, the frame object, the
 * packet object and the views of the chunk were a tenth of a follower's allocation.
 */
export class QuorumStreamReader {
  /** Received bytes; those before `off` are consumed. */
  private buf: Buffer = EMPTY;
  private off = 0;
  private snap: SnapStreamScanner | null = null;
  /** SNAP stream bytes already parsed and dropped from buf (kept only with keepSnapshotBytes). */
  private snapDone: Buffer[] = [];
  private snapDoneBytes = 0;
  private lastSnapshot: { snapshot: SnapshotBody; bytes: Buffer | null; length: number } | null = null;
  private readonly maxData: number;
  private readonly maxAuth: number;
  private readonly maxSnap: number;
  private readonly keepSnap: boolean;

  // The packet advance() found last. Its bytes stay in `frame` (a received chunk, or the join of
  // several) from frameStart to frameEnd until the next advance(); nothing here copies them.
  /** Packet type (PacketType). */
  packetType = 0;
  /** The zxid, exact below 2^53 as QuorumPacket's longNum field. */
  packetZxid = 0;
  /** Length of the data field, -1 when null. */
  packetDataLength = -1;
  private frame: Buffer = EMPTY;
  private frameStart = 0;
  private frameEnd = 0;

  constructor(opts: QuorumReaderOptions = {}) {
    this.maxData = opts.maxDataBytes ?? DEFAULT_MAX_PACKET_DATA;
    this.maxAuth = opts.maxAuthIds ?? 1024;
    this.maxSnap = opts.maxSnapshotBytes ?? Number.MAX_SAFE_INTEGER;
    this.keepSnap = opts.keepSnapshotBytes ?? false;
  }

  push(chunk: Buffer): void {
    // Until the frame in progress can be complete, chunks wait in a list: a large packet trickling
    // in costs one copy, not one per chunk.
    this.held.push(chunk);
    this.heldBytes += chunk.length;
  }

  /** Bytes received but not yet returned as a frame. */
  pending(): number {
    return this.buf.length - this.off + this.heldBytes + (this.snap ? this.snapDoneBytes : 0);
  }

  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Total bytes the packet in progress needs before parsing can make progress. */
  private wanted = 0;

  /** Join held chunks into buf once they can complete what is wanted (or always, in a SNAP stream). */
  private gather(): void {
    if (this.heldBytes === 0) return;
    const left = this.buf.length - this.off;
    if (!this.snap && left + this.heldBytes < this.wanted) return;
    if (left === 0 && this.held.length === 1) {
      // The usual case: the previous chunk was used up and one new chunk came. It becomes buf as
      // it is (the frames' data are copied out of it, so nothing kept points into it).
      this.buf = this.held[0]!;
    } else {
      const joined = Buffer.allocUnsafe(left + this.heldBytes);
      let at = this.buf.copy(joined, 0, this.off);
      for (const c of this.held) at += c.copy(joined, at);
      this.buf = joined;
    }
    this.off = 0;
    // Emptied in place: the list is reused for the next chunks.
    this.held.length = 0;
    this.heldBytes = 0;
  }

  /** True while a SNAP packet's stream is being received. */
  inSnapshot(): boolean {
    return this.snap !== null;
  }

  /**
   * Moves to the next complete frame. For a packet, its type, zxid and data length are then in
   * packetType, packetZxid and packetDataLength, and data(), authinfo(), packet() and frameBytes()
   * read the rest, until the next call. Throws QuorumWireError on bad input.
   */
  advance(): Advance {
    this.gather();
    if (this.snap) return this.advanceSnapshot(this.snap);
    const len = this.frameLength();
    if (len < 0) return Advance.None;
    this.wanted = 0;
    const b = this.buf;
    const at = this.off;
    this.frame = b;
    this.frameStart = at;
    this.frameEnd = at + len;
    this.off = at + len;
    if (this.off === b.length) {
      // Let go of a used-up chunk now rather than at the next chunk (frame still holds it).
      this.buf = EMPTY;
      this.off = 0;
    }
    this.packetType = b.readInt32BE(at);
    this.packetZxid = b.readInt32BE(at + 4) * 2 ** 32 + b.readUInt32BE(at + 8);
    this.packetDataLength = b.readInt32BE(at + 12);
    if (this.packetType === PacketType.SNAP) {
      this.snap = new SnapStreamScanner(this.maxData);
      this.snapDone = [];
      this.snapDoneBytes = 0;
    }
    return Advance.Packet;
  }

  /** A copy of the current packet's data (null if the field is null), from `skip` (<= its length) bytes in. */
  data(skip = 0): Buffer | null {
    const n = this.packetDataLength;
    if (n < 0) return null;
    const out = Buffer.allocUnsafe(n - skip);
    copyBytes(this.frame, this.frameStart + 16 + skip, out);
    return out;
  }

  /** The big-endian int64 at `at` bytes into the current packet's data (the caller checked the length). */
  dataBigInt64(at: number): bigint {
    return readInt64BE(this.frame, this.frameStart + 16 + at);
  }

  /** The big-endian int32 at `at` bytes into the current packet's data (the caller checked the length). */
  dataInt32(at: number): number {
    return this.frame.readInt32BE(this.frameStart + 16 + at);
  }

  /**
   * The current packet's authinfo list, decoded. A learner forwards each client request with its
   * session's identities, which are nearly always those of the request before: while the bytes
   * are the same, the same (frozen) list is returned rather than decoded again.
   */
  authinfo(): Id[] | null {
    const start = this.frameStart + 16 + Math.max(this.packetDataLength, 0);
    if (this.frame.readInt32BE(start) === -1) return null;
    const len = this.frameEnd - start;
    const last = this.lastAuthBytes;
    if (last !== null && last.length === len && this.frame.compare(last, 0, len, start, this.frameEnd) === 0) return this.lastAuth;
    const ids = QuorumPacket.fields.authinfo.read(new Reader(this.frame, start, this.frameEnd));
    if (ids !== null) {
      for (const id of ids) Object.freeze(id);
      Object.freeze(ids);
    }
    this.lastAuthBytes = Buffer.from(this.frame.subarray(start, this.frameEnd));
    this.lastAuth = ids;
    return ids;
  }

  private lastAuthBytes: Buffer | null = null;
  private lastAuth: Id[] | null = null;

  /** The current packet as a record (its data and authinfo copied out of the received bytes). */
  packet(): QuorumPacket {
    return packet(this.packetType, this.packetZxid, this.data(), this.authinfo());
  }

  /** A view of the current packet's bytes in the received chunk. */
  frameBytes(): Buffer {
    return this.frame.subarray(this.frameStart, this.frameEnd);
  }

  /** The stream advance() returned Advance.Snapshot for; handed over once (the reader lets go of it). */
  snapshotFrame(): { snapshot: SnapshotBody; bytes: Buffer | null; length: number } {
    const f = this.lastSnapshot;
    if (!f) throw new Error('no snapshot frame');
    this.lastSnapshot = null;
    return f;
  }

  /** The next complete frame, or null until more bytes arrive. Throws QuorumWireError on bad input. */
  next(): QuorumFrame | null {
    switch (this.advance()) {
      case Advance.None:
        return null;
      case Advance.Packet:
        return { kind: 'packet', packet: this.packet(), bytes: this.frameBytes() };
      case Advance.Snapshot:
        return { kind: 'snapshot', ...this.snapshotFrame() };
    }
  }

  /**
   * A database stream can be far larger than any packet, so parsed elements are dropped from the
   * buffer as they complete: each arriving chunk is joined only to the unfinished element's bytes.
   */
  private advanceSnapshot(scan: SnapStreamScanner): Advance {
    if (this.off > 0) {
      this.buf = this.buf.subarray(this.off);
      this.off = 0;
    }
    const end = scan.scan(this.buf, 0, this.buf.length);
    if (end < 0) {
      const n = scan.consumed();
      if (n > 0) {
        if (this.keepSnap) this.snapDone.push(Buffer.from(this.buf.subarray(0, n)));
        this.snapDoneBytes += n;
        this.buf = this.buf.subarray(n);
        scan.rebase(n);
      }
      if (this.snapDoneBytes + this.buf.length > this.maxSnap) throw new QuorumWireError(`SNAP stream exceeds ${this.maxSnap} bytes`);
      return Advance.None;
    }
    const length = this.snapDoneBytes + end;
    const bytes = this.keepSnap ? Buffer.concat([...this.snapDone, this.buf.subarray(0, end)]) : null;
    this.buf = this.buf.subarray(end);
    this.snap = null;
    this.snapDone = [];
    this.snapDoneBytes = 0;
    if (length > this.maxSnap) throw new QuorumWireError(`SNAP stream exceeds ${this.maxSnap} bytes`);
    this.lastSnapshot = { snapshot: scan.body(), bytes, length };
    return Advance.Snapshot;
  }

  /** Length of the QuorumPacket at buf[off], -1 if incomplete (then `wanted` says how much is needed). */
  private frameLength(): number {
    const b = this.buf;
    const at = this.off;
    const have = b.length - at;
    if (have < 4) return this.short(4);
    const type = b.readInt32BE(at);
    if (!NAMES.has(type)) throw new QuorumWireError(`unknown quorum packet type ${type}`);
    if (have < 16) return this.short(16);
    const dataLen = b.readInt32BE(at + 12);
    if (dataLen < -1 || dataLen > this.maxData) {
      throw new QuorumWireError(`${NAMES.get(type)} packet data length ${dataLen} outside -1..${this.maxData}`);
    }
    let pos = 16 + Math.max(dataLen, 0);
    if (have < pos + 4) return this.short(pos + 4);
    const count = b.readInt32BE(at + pos);
    pos += 4;
    if (count < -1 || count > this.maxAuth) throw new QuorumWireError(`${NAMES.get(type)} packet authinfo count ${count} outside -1..${this.maxAuth}`);
    for (let i = 0; i < count * 2; i++) {
      if (have < pos + 4) return this.short(pos + 4);
      const sl = b.readInt32BE(at + pos);
      if (sl < -1 || sl > this.maxData) throw new QuorumWireError(`${NAMES.get(type)} packet authinfo string length ${sl}`);
      pos += 4 + Math.max(sl, 0);
    }
    return have < pos ? this.short(pos) : pos;
  }

  /** The frame needs `n` bytes from its start: wait for them. */
  private short(n: number): -1 {
    this.wanted = n;
    return -1;
  }
}
