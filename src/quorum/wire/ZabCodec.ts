// Maps the Zab cores' messages (src/quorum/zab/messages.ts: plain objects, bigint zxids) to and
// from QuorumPacket bytes, 1:1 per packet type. A txn travels as its PROPOSAL/INFORM data bytes
// (the cores treat it as opaque); SNAP travels with its database stream, which on the wire is a
// separate frame right after the packet, so the decoder joins the two.
import { Writer } from '../../jute/archive.js';
import type { SnapshotBody } from '../../storage/Snapshot.js';
import { PacketType as ZabPacketType, type PacketTypeName, type ZabMessage } from '../zab/messages.js';
import {
  Advance, AckEpochData, DesignatedLeader, ForwardedRequestHead, LeaderInfoData, LearnerInfo, PacketType, QuorumPacket, QuorumStreamReader, QuorumWireError,
  RevalidateReply, RevalidateRequest, decodeAckEpoch, decodeCommitAndActivate, decodeForwardedRequest, decodeInformAndActivate,
  decodeLeaderInfo, decodeLearnerInfo, decodeNewLeaderConfig, decodePingSessions, decodeRevalidateReply, decodeRevalidateRequest,
  encodeForwardedRequest, encodePingSessions, encodeSnapStream, packetTypeName, writeInt64, type QuorumReaderOptions,
} from './QuorumPacket.js';

/** The message shape this codec produces: txns as their wire bytes, snapshots decoded. */
export type WireZabMessage = ZabMessage<Buffer, SnapshotBody>;

const toNum = (z: bigint): number => Number(z);
/** sessionId (8), cxid (4), type (4) before a forwarded request's body. */
const FORWARDED_HEAD_BYTES = 16;
const toBig = (z: number): bigint => BigInt(z);

function pkt(type: number, zxid: bigint, data: Buffer | null = null, authinfo: QuorumPacket['authinfo'] = null): QuorumPacket {
  return { type, zxid: toNum(zxid), data, authinfo };
}

/** The packet for a message (for SNAP, only the packet: the stream follows, see encodeZabMessage). */
export function zabToPacket(m: WireZabMessage): QuorumPacket {
  switch (m.type) {
    case 'REQUEST':
      return pkt(PacketType.REQUEST, m.zxid, encodeForwardedRequest({ sessionId: m.sessionId, cxid: m.cxid, type: m.opType, body: Buffer.from(m.body) }), m.authinfo);
    case 'PROPOSAL':
      return pkt(PacketType.PROPOSAL, m.zxid, m.txn);
    case 'INFORM':
      return pkt(PacketType.INFORM, m.zxid, m.txn);
    case 'INFORMANDACTIVATE': {
      const w = new Writer(8 + m.txn.length);
      DesignatedLeader.write(w, { designatedLeader: m.designatedLeader });
      w.raw(m.txn);
      return pkt(PacketType.INFORMANDACTIVATE, m.zxid, w.toBuffer());
    }
    case 'COMMITANDACTIVATE':
      return pkt(PacketType.COMMITANDACTIVATE, m.zxid, DesignatedLeader.encode({ designatedLeader: m.designatedLeader }));
    case 'PING':
      // The leader's PING has no data; a learner's reply must have some, even empty.
      return pkt(PacketType.PING, m.zxid, m.sessions === null ? null : encodePingSessions(m.sessions));
    case 'REVALIDATE':
      if (m.valid !== undefined) return pkt(PacketType.REVALIDATE, m.zxid, RevalidateReply.encode({ sessionId: m.sessionId, valid: m.valid }));
      if (m.timeout === undefined) throw new QuorumWireError('REVALIDATE needs a timeout (request) or valid (reply)');
      return pkt(PacketType.REVALIDATE, m.zxid, RevalidateRequest.encode({ sessionId: m.sessionId, timeout: m.timeout }));
    case 'NEWLEADER':
      return pkt(PacketType.NEWLEADER, m.zxid, Buffer.from(m.config, 'utf8'));
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return pkt(PacketType[m.type], m.zxid, LearnerInfo.encode({ serverid: m.sid, protocolVersion: m.protocolVersion, configVersion: m.configVersion }));
    case 'LEADERINFO':
      return pkt(PacketType.LEADERINFO, m.zxid, LeaderInfoData.encode({ protocolVersion: m.protocolVersion }));
    case 'ACKEPOCH':
      return pkt(PacketType.ACKEPOCH, m.zxid, AckEpochData.encode({ currentEpoch: m.currentEpoch }));
    case 'ACK':
    case 'COMMIT':
    case 'SYNC':
    case 'UPTODATE':
    case 'DIFF':
    case 'TRUNC':
    case 'SNAP':
      return pkt(PacketType[m.type], m.zxid);
  }
}

/**
 * A QuorumPacket with no authinfo, written field by field (type, zxid, data, authinfo = null):
 * the same bytes as QuorumPacket.write, without building a packet object. The broadcast packets
 * (PROPOSAL, ACK, COMMIT, INFORM) take this path, several per write on a leader.
 */
export function writeBarePacket(w: Writer, type: number, zxid: bigint, data: Buffer | null): void {
  w.int(type);
  // Straight from the bigint: Number(zxid) of a zxid past 2^31 is a heap number, one per packet.
  writeInt64(w, zxid);
  w.buffer(data);
  w.int(-1);
}

/** Appends the bytes a peer writes for a message to `w`; SNAP is followed by its database stream. */
export function writeZabMessage(w: Writer, m: WireZabMessage): void {
  switch (m.type) {
    case 'PROPOSAL':
    case 'INFORM':
      writeBarePacket(w, PacketType[m.type], m.zxid, m.txn);
      return;
    case 'ACK':
    case 'COMMIT':
      writeBarePacket(w, PacketType[m.type], m.zxid, null);
      return;
    case 'REQUEST': {
      // A learner forwards every write its clients send: the ForwardedRequest data is written in
      // place (head, then the client's body) instead of being built and copied into the packet.
      const body = Buffer.isBuffer(m.body) ? m.body : Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      w.int(PacketType.REQUEST);
      w.longNum(Number(m.zxid));
      w.int(FORWARDED_HEAD_BYTES + body.length);
      // ForwardedRequestHead's fields (sessionId, cxid, type), without a record object to write from.
      writeInt64(w, m.sessionId);
      w.int(m.cxid);
      w.int(m.opType);
      w.raw(body);
      QuorumPacket.fields.authinfo.write(w, m.authinfo);
      return;
    }
  }
  QuorumPacket.write(w, zabToPacket(m));
  if (m.type === 'SNAP') encodeSnapStream(m.snapshot, w);
}

/** The bytes a peer writes for a message; SNAP is followed by its database stream. */
export function encodeZabMessage(m: WireZabMessage): Buffer {
  const w = new Writer(64);
  writeZabMessage(w, m);
  return w.toBuffer();
}

/**
 * The message for a packet. `fromLeader` tells the two REVALIDATE layouts apart (request from a
 * learner, reply from the leader). SNAP needs its stream: pass it, or use ZabStreamDecoder.
 */
export function packetToZab(p: QuorumPacket, fromLeader: boolean, snapshot?: SnapshotBody): WireZabMessage {
  const name = packetTypeName(p.type);
  if (!name || ZabPacketType[name as PacketTypeName] !== p.type) throw new QuorumWireError(`unknown quorum packet type ${p.type}`);
  const zxid = toBig(p.zxid);
  switch (name) {
    // The broadcast packets first: they are nearly all of the traffic.
    case 'ACK':
    case 'COMMIT':
      return { type: name, zxid };
    case 'REQUEST': {
      const r = decodeForwardedRequest(dataOf(p, name));
      return { type: 'REQUEST', zxid, sessionId: r.sessionId, cxid: r.cxid, opType: r.type, body: r.body, authinfo: p.authinfo };
    }
    case 'PROPOSAL':
    case 'INFORM':
      return { type: name, zxid, txn: dataOf(p, name) };
    case 'INFORMANDACTIVATE': {
      const { designatedLeader, txnBytes } = decodeInformAndActivate(p);
      return { type: 'INFORMANDACTIVATE', zxid, designatedLeader, txn: txnBytes };
    }
    case 'COMMITANDACTIVATE':
      return { type: 'COMMITANDACTIVATE', zxid, designatedLeader: decodeCommitAndActivate(p) };
    case 'PING':
      return { type: 'PING', zxid, sessions: p.data == null ? null : decodePingSessions(p.data) };
    case 'REVALIDATE':
      if (fromLeader) {
        const r = decodeRevalidateReply(p);
        return { type: 'REVALIDATE', zxid, sessionId: r.sessionId, valid: r.valid };
      } else {
        const r = decodeRevalidateRequest(p);
        return { type: 'REVALIDATE', zxid, sessionId: r.sessionId, timeout: r.timeout };
      }
    case 'NEWLEADER':
      return { type: 'NEWLEADER', zxid, config: decodeNewLeaderConfig(p) ?? '' };
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO': {
      const li = decodeLearnerInfo(p.data);
      if (li.serverid === null) throw new QuorumWireError(`${name} without a server id (a pre-Zab-1.0 learner)`);
      return { type: name, zxid, sid: li.serverid, protocolVersion: li.protocolVersion, configVersion: li.configVersion ?? 0n };
    }
    case 'LEADERINFO':
      return { type: 'LEADERINFO', zxid, protocolVersion: decodeLeaderInfo(p).protocolVersion };
    case 'ACKEPOCH':
      return { type: 'ACKEPOCH', zxid, currentEpoch: decodeAckEpoch(p).currentEpoch };
    case 'SNAP':
      if (!snapshot) throw new QuorumWireError('SNAP without its database stream');
      return { type: 'SNAP', zxid, snapshot };
    case 'SYNC':
    case 'UPTODATE':
    case 'DIFF':
    case 'TRUNC':
      return { type: name, zxid };
  }
}

function dataOf(p: QuorumPacket, name: string): Buffer {
  if (p.data == null) throw new QuorumWireError(`${name} packet has no data`);
  return p.data;
}

/**
 * Turns a PROPOSAL/INFORM's data into the txn form a decoder's user wants (the default keeps the
 * bytes). `data` is a fresh copy the result may keep; `type` is PROPOSAL for INFORMANDACTIVATE's txn.
 */
export type TxnDecoder<T> = (type: number, zxid: number, data: Buffer) => T;

const keepBytes: TxnDecoder<Buffer> = (_type, _zxid, data) => data;

// Each zxid crosses a connection more than once: a follower reads PROPOSAL then COMMIT for it, a
// leader reads an ACK for it from each follower. The bigint made for its first packet is reused
// for the next ones (bigints are immutable), from a small table indexed by the zxid's low bits.
const ZXID_SLOTS = 256;
const zxidNums = new Float64Array(ZXID_SLOTS).fill(NaN);
const zxidBigs: bigint[] = new Array<bigint>(ZXID_SLOTS).fill(0n);

function zxidOf(z: number): bigint {
  const slot = z & (ZXID_SLOTS - 1);
  if (zxidNums[slot] === z) return zxidBigs[slot]!;
  const big = BigInt(z);
  zxidNums[slot] = z;
  zxidBigs[slot] = big;
  return big;
}

/**
 * One direction of a quorum connection as Zab messages (SNAP delivered with its stream), txns
 * mapped by `txnOf`. The broadcast packets (PROPOSAL, COMMIT, ACK, INFORM, REQUEST) are read
 * straight from the received bytes into their message, with no packet record in between: they
 * are nearly all of the traffic, and each object per packet shows in a member's GC time.
 */
export class ZabStreamDecoder<T = Buffer> {
  private readonly reader: QuorumStreamReader;
  private snap: QuorumPacket | null = null;
  private readonly txnOf: TxnDecoder<T>;

  constructor(
    /** True when this side reads what the leader sends. */
    private readonly fromLeader: boolean,
    opts: QuorumReaderOptions = {},
    txnOf?: TxnDecoder<T>,
  ) {
    this.reader = new QuorumStreamReader(opts);
    this.txnOf = txnOf ?? (keepBytes as unknown as TxnDecoder<T>);
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  pending(): number {
    return this.reader.pending();
  }

  next(): ZabMessage<T, SnapshotBody> | null {
    const rd = this.reader;
    for (;;) {
      const found = rd.advance();
      if (found === Advance.None) return null;
      if (found === Advance.Snapshot) {
        const p = this.snap!;
        this.snap = null;
        return this.withTxn(packetToZab(p, this.fromLeader, rd.snapshotFrame().snapshot));
      }
      // Each fast path gives what packetToZab gives for the same bytes (ZabCodec.test checks so
      // on the recorded traffic); anything unusual (missing data, a short REQUEST) goes the
      // general way, which also words the errors.
      const type = rd.packetType;
      switch (type) {
        case PacketType.ACK:
          return { type: 'ACK', zxid: zxidOf(rd.packetZxid) };
        case PacketType.COMMIT:
          return { type: 'COMMIT', zxid: zxidOf(rd.packetZxid) };
        case PacketType.PROPOSAL:
        case PacketType.INFORM:
          if (rd.packetDataLength < 0) break;
          return {
            type: type === PacketType.PROPOSAL ? 'PROPOSAL' : 'INFORM',
            zxid: zxidOf(rd.packetZxid),
            txn: this.txnOf(type, rd.packetZxid, rd.data()!),
          };
        case PacketType.REQUEST:
          if (rd.packetDataLength < FORWARDED_HEAD_BYTES) break;
          // Only the client's body is copied out; the head's fields are read in place.
          return {
            type: 'REQUEST',
            zxid: zxidOf(rd.packetZxid),
            sessionId: rd.dataBigInt64(0),
            cxid: rd.dataInt32(8),
            opType: rd.dataInt32(12),
            body: rd.data(FORWARDED_HEAD_BYTES)!,
            authinfo: rd.authinfo(),
          };
        case PacketType.SNAP:
          this.snap = rd.packet();
          continue;
      }
      return this.withTxn(packetToZab(rd.packet(), this.fromLeader));
    }
  }

  /** A message of the general path with its txn bytes mapped by txnOf. */
  private withTxn(m: WireZabMessage): ZabMessage<T, SnapshotBody> {
    switch (m.type) {
      case 'PROPOSAL':
      case 'INFORM':
        return { ...m, txn: this.txnOf(PacketType[m.type], Number(m.zxid), m.txn) };
      case 'INFORMANDACTIVATE':
        return { ...m, txn: this.txnOf(PacketType.PROPOSAL, Number(m.zxid), m.txn) };
      default:
        // No txn in it: the same message for any T.
        return m as ZabMessage<never, SnapshotBody>;
    }
  }
}
