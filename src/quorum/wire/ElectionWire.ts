// The election port as Apache ZooKeeper 3.8 speaks it (QuorumCnxManager + FastLeaderElection):
// the connecting member sends one unframed initial message (protocol version, sid, its election
// address); after that both directions carry `int32 length` + message, every message being a
// Notification. Older layouts that Apache still accepts are decoded too.
import { Reader, Writer } from '../../jute/archive.js';
import { int, long, longNum, record, str, type RecordOf } from '../../jute/codec.js';

export class ElectionWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElectionWireError';
  }
}

/** Initial-message protocol versions: V1 is what 3.8 sends; V2 only with multiAddress.enabled. */
export const ELECTION_PROTOCOL_V1 = -65536n;
export const ELECTION_PROTOCOL_V2 = -65535n;
/** Apache refuses an advertised address longer than this (InitialMessage). */
export const MAX_INITIAL_ADDRESS_BYTES = 2048;
/** Apache drops the connection on a message length outside 1..this (QuorumCnxManager.PACKETMAXSIZE). */
export const MAX_ELECTION_MESSAGE_BYTES = 512 * 1024;
/** Notification format version written by 3.5+ (carries the config text). */
export const NOTIFICATION_VERSION = 2;
/** A non-voter's proposal: leader = zxid = peerEpoch = Long.MIN_VALUE (exact as a double). */
export const NON_VOTER_PROPOSAL = -(2 ** 63);
/** The sid an observer without an id announces (Long.MAX_VALUE); receivers give it a local id. */
export const OBSERVER_ANONYMOUS_SID = 0x7fffffffffffffffn;

export const ServerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const;
export type ServerStateName = keyof typeof ServerState;
const STATE_NAMES = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'] as const;

export function serverStateName(state: number): ServerStateName | undefined {
  return STATE_NAMES[state];
}

// ----------------------------------------------------------------------------- initial message

export const InitialMessageRecord = record({ protocolVersion: long, sid: long, addr: str });

export interface InitialMessage {
  /** V1, V2, or for a pre-3.5 peer the bare sid form (`legacy`). */
  protocolVersion: bigint;
  sid: bigint;
  /** host:port entries; empty for the pre-3.5 form, several only for V2. */
  addrs: string[];
  legacy: boolean;
}

export function encodeInitialMessage(sid: bigint, addrs: string[], protocolVersion = ELECTION_PROTOCOL_V1): Buffer {
  if (protocolVersion === ELECTION_PROTOCOL_V1 && addrs.length !== 1) throw new ElectionWireError('a V1 initial message carries exactly one address');
  return InitialMessageRecord.encode({ protocolVersion, sid, addr: addrs.join('|') });
}

/** The pre-3.5 form: just the sid as a long. */
export function encodeLegacyInitialMessage(sid: bigint): Buffer {
  return new Writer(8).long(sid).toBuffer();
}

/** Validates one advertised host:port the way Apache's InitialMessage does. */
function checkAddress(a: string): void {
  const cut = a.lastIndexOf(':');
  if (cut <= 0) throw new ElectionWireError(`badly formed address "${a}"`);
  const port = a.slice(cut + 1);
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new ElectionWireError(`bad port in address "${a}"`);
}

/**
 * Length of the initial message at b's start, -1 if incomplete, and the decoding once complete.
 * Throws on anything Apache would refuse.
 */
export function scanInitialMessage(b: Buffer): { length: number; msg: InitialMessage } | null {
  if (b.length < 8) return null;
  const version = b.readBigInt64BE(0);
  if (version >= 0n) return { length: 8, msg: { protocolVersion: version, sid: version, addrs: [], legacy: true } };
  if (version !== ELECTION_PROTOCOL_V1 && version !== ELECTION_PROTOCOL_V2) {
    throw new ElectionWireError(`unrecognized election protocol version ${version}`);
  }
  if (b.length < 20) return null;
  const addrLen = b.readInt32BE(16);
  if (addrLen <= 0 || addrLen > MAX_INITIAL_ADDRESS_BYTES) throw new ElectionWireError(`unreasonable initial-message address length ${addrLen}`);
  if (b.length < 20 + addrLen) return null;
  const rec = InitialMessageRecord.decode(b.subarray(0, 20 + addrLen));
  const addrs = rec.addr.split('|');
  for (const a of addrs) checkAddress(a);
  return { length: 20 + addrLen, msg: { protocolVersion: rec.protocolVersion, sid: rec.sid, addrs, legacy: false } };
}

// ----------------------------------------------------------------------------- notification

/** Current (version 2) layout; config is the membership text, jute-style int length + UTF-8. */
export const NotificationRecord = record({
  state: int,
  leader: longNum,
  zxid: longNum,
  electionEpoch: longNum,
  peerEpoch: longNum,
  version: int,
  config: str,
});
/** Version 1 without config: on the wire it is the 40-byte layout, which Apache reads as version 0. */
export const NotificationV1Record = record({ state: int, leader: longNum, zxid: longNum, electionEpoch: longNum, peerEpoch: longNum, version: int });
/** The 40-byte layout: its last int is not read as a version (Apache: "Backward compatibility mode"). */
export const Notification40Record = record({ state: int, leader: longNum, zxid: longNum, electionEpoch: longNum, peerEpoch: longNum, unused: int });
/** The 28-byte layout (before peerEpoch existed). */
export const Notification28Record = record({ state: int, leader: longNum, zxid: longNum, electionEpoch: longNum });

export interface Notification {
  /** Sender's state; values beyond OBSERVING are passed through for the caller to ignore. */
  state: number;
  leader: number;
  zxid: number;
  electionEpoch: number;
  peerEpoch: number;
  /** 0 for the 28/40-byte layouts. */
  version: number;
  /** Sender's membership text; null below version 2. */
  config: string | null;
  /** Which layout the bytes used, so a decoded legacy message re-encodes to the same bytes. */
  layout: 'current' | 'v40' | 'v28';
  /** v40 only: the int Apache does not read (3.4.x wrote its notification version, 1, there). */
  v40Trailer?: number;
}

export function voteNotification(
  state: number, leader: number, zxid: number, electionEpoch: number, peerEpoch: number, config: string,
): Notification {
  return { state, leader, zxid, electionEpoch, peerEpoch, version: NOTIFICATION_VERSION, config, layout: 'current' };
}

/** The message body (without its length prefix). */
export function encodeNotification(n: Notification): Buffer {
  switch (n.layout) {
    case 'v28':
      return Notification28Record.encode(n);
    case 'v40':
      return Notification40Record.encode({ ...n, unused: n.v40Trailer ?? 1 });
    case 'current':
      if (n.version > 1) return NotificationRecord.encode({ ...n, config: n.config ?? '' });
      return NotificationV1Record.encode(n); // 40 bytes: decodes back as layout v40
  }
}

/**
 * Decode a message body by its length, as FastLeaderElection's receiver does: under 28 bytes is
 * refused; 28 has no peerEpoch (taken from the zxid's epoch); 40 has peerEpoch and 4 ignored
 * bytes; otherwise a version follows and, above 1, the config text. Bytes after it are ignored.
 */
export function decodeNotification(body: Buffer): Notification {
  const len = body.length;
  if (len < 28) throw new ElectionWireError(`notification of ${len} bytes is shorter than 28`);
  try {
    if (len === 28) {
      const v = Notification28Record.decode(body);
      return { ...v, peerEpoch: Math.floor(v.zxid / 2 ** 32), version: 0, config: null, layout: 'v28' };
    }
    if (len === 40) {
      const { unused, ...v } = Notification40Record.decode(body);
      return { ...v, version: 0, config: null, layout: 'v40', v40Trailer: unused };
    }
    const r = new Reader(body, 0, len, len);
    const head = NotificationV1Record.read(r);
    let config: string | null = null;
    if (head.version > 1) {
      const configLength = r.int();
      if (configLength < 0 || configLength > len) throw new ElectionWireError(`config length ${configLength} in a ${len}-byte notification`);
      r.pos -= 4;
      config = str.read(r);
    }
    return { ...head, config, layout: 'current' };
  } catch (e) {
    if (e instanceof ElectionWireError) throw e;
    throw new ElectionWireError(`malformed ${len}-byte notification: ${(e as Error).message}`);
  }
}

/** Java's Long.toHexString: two's complement, no sign. */
function javaHex(v: number): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16);
}

/**
 * A received notification in the wording of Apache's election log line, so operators (and the
 * tests) can read our logs and Apache's side by side. The config version is that of the
 * sender's membership text, 0 when it sent none.
 */
export function describeNotification(n: Notification, senderSid: number | bigint, myState: number, configVersion = 0n): string {
  const state = (s: number) => serverStateName(s) ?? String(s);
  return `Notification: my state:${state(myState)}; n.sid:${senderSid}, n.state:${state(n.state)}, n.leader:${BigInt(n.leader)}, ` +
    `n.round:0x${javaHex(n.electionEpoch)}, n.peerEpoch:0x${javaHex(n.peerEpoch)}, n.zxid:0x${javaHex(n.zxid)}, ` +
    `message format version:0x${n.version.toString(16)}, n.config version:0x${BigInt.asUintN(64, configVersion).toString(16)}`;
}

/** Length prefix + body, as written on the socket. */
export function frameElectionMessage(body: Buffer): Buffer {
  const w = new Writer(body.length + 4);
  w.int(body.length).raw(body);
  return w.toBuffer();
}

export function encodeNotificationFrame(n: Notification): Buffer {
  return frameElectionMessage(encodeNotification(n));
}

// ----------------------------------------------------------------------------- stream reader

export type ElectionFrame =
  | { kind: 'initial'; msg: InitialMessage; bytes: Buffer }
  | { kind: 'message'; body: Buffer; bytes: Buffer };

/**
 * Splits one direction of an election connection into frames. The accepting side reads the
 * initial message first (`expectInitial`); the dialling side only ever receives messages.
 */
export class ElectionStreamReader {
  private buf: Buffer = Buffer.alloc(0);
  private needInitial: boolean;

  constructor(opts: { expectInitial: boolean; maxMessageBytes?: number }) {
    this.needInitial = opts.expectInitial;
    this.maxMessage = opts.maxMessageBytes ?? MAX_ELECTION_MESSAGE_BYTES;
  }

  private readonly maxMessage: number;

  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes the message in progress needs in total (its length prefix included). */
  private wanted = 0;

  push(chunk: Buffer): void {
    // Chunks wait in a list until the message in progress can be complete: one copy per message.
    this.held.push(chunk);
    this.heldBytes += chunk.length;
  }

  pending(): number {
    return this.buf.length + this.heldBytes;
  }

  next(): ElectionFrame | null {
    if (this.heldBytes > 0 && this.buf.length + this.heldBytes >= this.wanted) {
      this.buf = Buffer.concat([this.buf, ...this.held]);
      this.held = [];
      this.heldBytes = 0;
    }
    if (this.needInitial) {
      const got = scanInitialMessage(this.buf);
      if (!got) return null;
      this.needInitial = false;
      return { kind: 'initial', msg: got.msg, bytes: this.take(got.length) };
    }
    if (this.buf.length < 4) return null;
    const len = this.buf.readInt32BE(0);
    if (len <= 0 || len > this.maxMessage) throw new ElectionWireError(`received packet with invalid length ${len} (allowed 1..${this.maxMessage})`);
    if (this.buf.length < 4 + len) {
      this.wanted = 4 + len;
      return null;
    }
    this.wanted = 0;
    const bytes = this.take(4 + len);
    return { kind: 'message', body: bytes.subarray(4), bytes };
  }

  private take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }
}

export type InitialMessageFields = RecordOf<typeof InitialMessageRecord.fields>;
