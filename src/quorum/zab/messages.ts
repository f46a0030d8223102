// Zab's learner-protocol messages as plain objects, one per QuorumPacket type of Apache ZooKeeper 3.8
// (same names, same numbers), so that a wire codec can map each one to and from a QuorumPacket 1:1.
// The protocol cores never see bytes: a txn travels as an opaque value of type T (the codec's
// choice: the PROPOSAL/INFORM data bytes, or a decoded Txn), a snapshot as an opaque value of type S.
// Zxids are 64-bit and carried as bigint.

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

/** The Zab protocol version every 3.8 peer announces (LearnerInfo and LEADERINFO). */
export const ZAB_PROTOCOL_VERSION = 0x10000;

export interface SessionTouch {
  sessionId: bigint;
  timeout: number;
}

export interface AuthId {
  scheme: string;
  id: string;
}

export type ZabMessage<T = Uint8Array, S = unknown> =
  | { type: 'REQUEST'; zxid: bigint; sessionId: bigint; cxid: number; opType: number; body: Uint8Array; authinfo: AuthId[] | null }
  | { type: 'PROPOSAL'; zxid: bigint; txn: T }
  | { type: 'ACK'; zxid: bigint }
  | { type: 'COMMIT'; zxid: bigint }
  /** From the leader `sessions` is null; a learner's reply lists the sessions touched since its last reply. */
  | { type: 'PING'; zxid: bigint; sessions: SessionTouch[] | null }
  | { type: 'REVALIDATE'; zxid: bigint; sessionId: bigint; timeout?: number; valid?: boolean }
  | { type: 'SYNC'; zxid: bigint }
  | { type: 'INFORM'; zxid: bigint; txn: T }
  | { type: 'COMMITANDACTIVATE'; zxid: bigint; designatedLeader: bigint }
  | { type: 'NEWLEADER'; zxid: bigint; config: string }
  | { type: 'FOLLOWERINFO'; zxid: bigint; sid: bigint; protocolVersion: number; configVersion: bigint }
  | { type: 'UPTODATE'; zxid: bigint }
  | { type: 'DIFF'; zxid: bigint }
  | { type: 'TRUNC'; zxid: bigint }
  /** The snapshot stream that follows SNAP on the wire travels in `snapshot`. */
  | { type: 'SNAP'; zxid: bigint; snapshot: S }
  | { type: 'OBSERVERINFO'; zxid: bigint; sid: bigint; protocolVersion: number; configVersion: bigint }
  | { type: 'LEADERINFO'; zxid: bigint; protocolVersion: number }
  /** `currentEpoch` is -1 when the learner had already accepted this epoch (it then does not count). */
  | { type: 'ACKEPOCH'; zxid: bigint; currentEpoch: number }
  | { type: 'INFORMANDACTIVATE'; zxid: bigint; designatedLeader: bigint; txn: T };

export type ZabMessageOf<K extends PacketTypeName, T = Uint8Array, S = unknown> = Extract<ZabMessage<T, S>, { type: K }>;

const MASK32 = 0xffffffffn;

export function epochOf(zxid: bigint): number {
  return Number((zxid >> 32n) & MASK32);
}

export function counterOf(zxid: bigint): number {
  return Number(zxid & MASK32);
}

export function makeZxid(epoch: number, counter: number): bigint {
  return (BigInt(epoch) << 32n) | BigInt(counter >>> 0);
}

export function zxidHex(zxid: bigint): string {
  return zxid < 0n ? zxid.toString() : '0x' + zxid.toString(16);
}

/** A txn with its zxid, as the committed log and the txn log hold them. */
export interface Proposal<T> {
  zxid: bigint;
  txn: T;
}
