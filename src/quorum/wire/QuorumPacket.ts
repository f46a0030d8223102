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

/** A packet with null data and null authinfo: type, zxid, -1, -1. */
const BARE_PACKET_BYTES = 20;

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
  const data = requireData(p, packetTypeName(p.type) ?? String(p.type));
  let txn: Txn;
  try {
    // The data buffer is the packet's own copy (Reader.buffer), so the txn may keep it as its bytes.
    txn = decodeTxn(data, true);
  } catch (e) {
    throw new QuorumWireError(`${packetTypeName(p.type)} 0x${p.zxid.toString(16)}: ${(e as Error).message}`);
  }
  if (txn.hdr.zxid !== p.zxid) {
    throw new QuorumWireError(`${packetTypeName(p.type)} zxid 0x${p.zxid.toString(16)} but txn header zxid 0x${txn.hdr.zxid.toString(16)}`);
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

/**
 * Splits one direction of a quorum connection into frames. Frame boundaries come from a scan of
 * the jute lengths, checked against the maxima before anything is allocated, so garbage or an
 * absurd length fails at once instead of waiting forever for bytes that will never come.
 */
export class QuorumStreamReader {
  private buf: Buffer = Buffer.alloc(0);
  private snap: SnapStreamScanner | null = null;
  /** SNAP stream bytes already parsed and dropped from buf (kept only with keepSnapshotBytes). */
  private snapDone: Buffer[] = [];
  private snapDoneBytes = 0;
  private readonly maxData: number;
  private readonly maxAuth: number;
  private readonly maxSnap: number;
  private readonly keepSnap: boolean;

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
    return this.buf.length + this.heldBytes + (this.snap ? this.snapDoneBytes : 0);
  }

  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Total bytes the packet in progress needs before parsing can make progress. */
  private wanted = 0;

  /** Join held chunks into buf once they can complete what is wanted (or always, in a SNAP stream). */
  private gather(): void {
    if (this.heldBytes === 0) return;
    if (!this.snap && this.buf.length + this.heldBytes < this.wanted) return;
    this.buf = this.buf.length === 0 && this.held.length === 1 ? this.held[0]! : Buffer.concat([this.buf, ...this.held]);
    this.held = [];
    this.heldBytes = 0;
  }

  /** True while a SNAP packet's stream is being received. */
  inSnapshot(): boolean {
    return this.snap !== null;
  }

  /** The next complete frame, or null until more bytes arrive. Throws QuorumWireError on bad input. */
  next(): QuorumFrame | null {
    this.gather();
    if (this.snap) return this.nextSnapshot(this.snap);
    const len = this.frameLength();
    if (len < 0) return null;
    this.wanted = 0;
    // Decoded in place: the packet's data is copied out by the decode (Reader.buffer), so nothing
    // retained points into the received chunk except this frame's own `bytes` view.
    const bytes = this.buf.subarray(0, len);
    this.buf = this.buf.subarray(len);
    // Null data and null authinfo (ACK, COMMIT, UPTODATE, ...: most packets a leader receives):
    // type and zxid are the whole of it, read without a Reader.
    const bare = len === BARE_PACKET_BYTES && bytes.readInt32BE(12) === -1 && bytes.readInt32BE(16) === -1;
    const p = bare ? packet(bytes.readInt32BE(0), bytes.readInt32BE(4) * 2 ** 32 + bytes.readUInt32BE(8)) : QuorumPacket.decode(bytes);
    if (p.type === PacketType.SNAP) {
      this.snap = new SnapStreamScanner(this.maxData);
      this.snapDone = [];
      this.snapDoneBytes = 0;
    }
    return { kind: 'packet', packet: p, bytes };
  }

  /**
   * A database stream can be far larger than any packet, so parsed elements are dropped from the
   * buffer as they complete: each arriving chunk is joined only to the unfinished element's bytes.
   */
  private nextSnapshot(scan: SnapStreamScanner): QuorumFrame | null {
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
      return null;
    }
    const tail = this.take(end);
    const length = this.snapDoneBytes + end;
    const bytes = this.keepSnap ? Buffer.concat([...this.snapDone, tail]) : null;
    this.snap = null;
    this.snapDone = [];
    this.snapDoneBytes = 0;
    if (length > this.maxSnap) throw new QuorumWireError(`SNAP stream exceeds ${this.maxSnap} bytes`);
    return { kind: 'snapshot', snapshot: scan.body(), bytes, length };
  }

  private take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Length of the QuorumPacket at the buffer's start, -1 if incomplete. */
  private frameLength(): number {
    const b = this.buf;
    const short = (n: number): boolean => {
      if (b.length >= n) return false;
      this.wanted = n;
      return true;
    };
    if (short(4)) return -1;
    const type = b.readInt32BE(0);
    if (!NAMES.has(type)) throw new QuorumWireError(`unknown quorum packet type ${type}`);
    if (short(16)) return -1;
    const dataLen = b.readInt32BE(12);
    if (dataLen < -1 || dataLen > this.maxData) {
      throw new QuorumWireError(`${NAMES.get(type)} packet data length ${dataLen} outside -1..${this.maxData}`);
    }
    let pos = 16 + Math.max(dataLen, 0);
    if (short(pos + 4)) return -1;
    const count = b.readInt32BE(pos);
    pos += 4;
    if (count < -1 || count > this.maxAuth) throw new QuorumWireError(`${NAMES.get(type)} packet authinfo count ${count} outside -1..${this.maxAuth}`);
    for (let i = 0; i < count * 2; i++) {
      if (short(pos + 4)) return -1;
      const sl = b.readInt32BE(pos);
      if (sl < -1 || sl > this.maxData) throw new QuorumWireError(`${NAMES.get(type)} packet authinfo string length ${sl}`);
      pos += 4 + Math.max(sl, 0);
    }
    return short(pos) ? -1 : pos;
  }
}
