// Transaction records (zookeeper.jute "txn" module): what the pipeline produces, the
// DataTree applies, the TxnLog persists and the quorum replicates.
import { Reader, Writer, JuteError } from '../jute/archive.js';
import { bool, buffer, int, list, long, longNum, record, str, type RecordOf } from '../jute/codec.js';
import { ACLList } from './records.js';
import { OpCode } from './constants.js';

export const TxnHeader = record({ clientId: long, cxid: int, zxid: longNum, time: longNum, type: int });
export type TxnHeader = RecordOf<typeof TxnHeader.fields>;

export const CreateTxn = record({ path: str, data: buffer, acl: ACLList, ephemeral: bool, parentCVersion: int });
export const CreateContainerTxn = record({ path: str, data: buffer, acl: ACLList, parentCVersion: int });
export const CreateTTLTxn = record({ path: str, data: buffer, acl: ACLList, parentCVersion: int, ttl: longNum });
export const DeleteTxn = record({ path: str });
export const SetDataTxn = record({ path: str, data: buffer, version: int });
export const SetACLTxn = record({ path: str, acl: ACLList, version: int });
export const CheckVersionTxn = record({ path: str, version: int });
export const CreateSessionTxn = record({ timeOut: int });
export const CloseSessionTxn = record({ paths2Delete: list(str) });
export const ErrorTxn = record({ err: int });
export const SubTxn = record({ type: int, data: buffer });
export const MultiTxnRecord = record({ txns: list(SubTxn) });
export const TxnDigest = record({ version: int, treeDigest: long });

export type CreateTxnBody = { type: 1 | 15 } & RecordOf<typeof CreateTxn.fields>;
export type CreateContainerTxnBody = { type: 19 } & RecordOf<typeof CreateContainerTxn.fields>;
export type CreateTTLTxnBody = { type: 21 } & RecordOf<typeof CreateTTLTxn.fields>;
export type DeleteTxnBody = { type: 2 | 20 } & RecordOf<typeof DeleteTxn.fields>;
export type SetDataTxnBody = { type: 5 | 16 } & RecordOf<typeof SetDataTxn.fields>;
export type SetACLTxnBody = { type: 7 } & RecordOf<typeof SetACLTxn.fields>;
export type CheckTxnBody = { type: 13 } & RecordOf<typeof CheckVersionTxn.fields>;
export type CreateSessionTxnBody = { type: -10 } & RecordOf<typeof CreateSessionTxn.fields>;
export type CloseSessionTxnBody = { type: -11 } & RecordOf<typeof CloseSessionTxn.fields>;
export type ErrorTxnBody = { type: -1 } & RecordOf<typeof ErrorTxn.fields>;
export type MultiTxnBody = { type: 14; txns: TxnBody[] };

export type TxnBody =
  | CreateTxnBody
  | CreateContainerTxnBody
  | CreateTTLTxnBody
  | DeleteTxnBody
  | SetDataTxnBody
  | SetACLTxnBody
  | CheckTxnBody
  | CreateSessionTxnBody
  | CloseSessionTxnBody
  | ErrorTxnBody
  | MultiTxnBody;

export interface Txn {
  hdr: TxnHeader;
  body: TxnBody;
  /** Optional tree digest (TxnDigest) carried after the record in logs. */
  digest?: { version: number; treeDigest: bigint } | undefined;
}

/** The record codec for a txn type; single source of truth for body layouts. */
function codecFor(type: number) {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
      return CreateTxn;
    case OpCode.createContainer:
      return CreateContainerTxn;
    case OpCode.createTTL:
      return CreateTTLTxn;
    case OpCode.delete:
    case OpCode.deleteContainer:
      return DeleteTxn;
    case OpCode.setData:
    case OpCode.reconfig:
      return SetDataTxn;
    case OpCode.setACL:
      return SetACLTxn;
    case OpCode.check:
      return CheckVersionTxn;
    case OpCode.createSession:
      return CreateSessionTxn;
    case OpCode.closeSession:
      return CloseSessionTxn;
    case OpCode.error:
      return ErrorTxn;
    default:
      return null;
  }
}

/**
 * Where each op of a multi is written before it is copied out after its length, instead of a new
 * writer per op. A multi inside a multi (never prepared, but decodable) gets a writer of its own,
 * so this one is never in use twice at once.
 */
const subScratch = new Writer(256);

export function writeTxnBody(w: Writer, body: TxnBody): void {
  if (body.type === OpCode.multi) {
    w.int(body.txns.length);
    for (const sub of body.txns) {
      w.int(sub.type);
      const inner = sub.type === OpCode.multi ? new Writer(64) : subScratch;
      inner.reset();
      writeTxnBody(inner, sub);
      w.buffer(inner.view());
    }
    return;
  }
  const c = codecFor(body.type);
  if (!c) throw new JuteError(`cannot encode txn type ${body.type}`);
  c.write(w, body as never);
}

/** A sub-record's reader: it takes the views setting of the reader its bytes came from. */
function subReader(r: Reader, data: Buffer | null): Reader {
  const sub = new Reader(data ?? EMPTY);
  sub.views = r.views;
  return sub;
}

const EMPTY = Buffer.alloc(0);

/**
 * A body object holding its type, for the record's fields to be read into after it: one object
 * (no spread copy). Built from `{}`, which has room for four fields inside the object, where a
 * `{ type }` literal has room for one and the rest would go to a separate property array.
 */
function typed(type: number): { type: number } {
  const o = {} as { type: number };
  o.type = type;
  return o;
}

export function readTxnBody(r: Reader, type: number): TxnBody {
  if (type === OpCode.multi) {
    const m = MultiTxnRecord.read(r);
    const txns: TxnBody[] = new Array(m.txns.length);
    for (let i = 0; i < txns.length; i++) {
      const s = m.txns[i]!;
      txns[i] = readTxnBody(subReader(r, s.data), s.type);
    }
    return { type: OpCode.multi, txns };
  }
  if (type === OpCode.closeSession && r.remaining() === 0) {
    return { type: OpCode.closeSession, paths2Delete: [] };
  }
  if (type === OpCode.create && r.remaining() > 0) {
    // CreateTxnV0 has no parentCVersion; detect it by trying the full layout first.
    const start = r.pos;
    try {
      return CreateTxn.readInto(r, typed(type)) as TxnBody;
    } catch (e) {
      r.pos = start;
      const path = str.read(r), data = buffer.read(r), acl = ACLList.read(r), ephemeral = bool.read(r);
      return { type: OpCode.create, path, data, acl, ephemeral, parentCVersion: -1 };
    }
  }
  const c = codecFor(type);
  if (!c) throw new JuteError(`unknown txn type ${type}`);
  return c.readInto(r, typed(type)) as TxnBody;
}

/** Write header + body (+ digest) the way the txn log and quorum PROPOSALs carry it. */
export function writeTxn(w: Writer, txn: Txn): void {
  TxnHeader.write(w, txn.hdr);
  writeTxnBody(w, txn.body);
  if (txn.digest) TxnDigest.write(w, txn.digest);
}

/** Where encodeTxn writes before copying out the exact bytes: one buffer for every txn. */
const txnScratch = new Writer(512);

export function encodeTxn(txn: Txn, w?: Writer): Buffer {
  if (w === undefined) {
    w = txnScratch;
    w.reset();
  }
  writeTxn(w, txn);
  return w.toBuffer();
}

/**
 * A txn's bytes, encoded once per Txn object: a leader's txn goes into its log and into a PROPOSAL
 * to every follower, and a follower logs the bytes the PROPOSAL brought. Txns are never changed
 * once prepared (the digest is set before the txn leaves the prep stage), so the bytes stay valid.
 */
const BYTES = Symbol('txnBytes');
type WithBytes = Txn & { [BYTES]?: Buffer };

/** Kept on the txn itself, not enumerable (records compare and copy as before): a WeakMap entry per txn cost lookups and GC work. */
function keepBytes(txn: Txn, b: Buffer): void {
  // One descriptor for every txn (defineProperty copies what it needs out of it).
  bytesDescriptor.value = b;
  Object.defineProperty(txn, BYTES, bytesDescriptor);
  bytesDescriptor.value = undefined;
}

const bytesDescriptor: PropertyDescriptor = { value: undefined, enumerable: false, writable: false, configurable: false };

export function txnBytes(txn: Txn): Buffer {
  let b = (txn as WithBytes)[BYTES];
  if (b === undefined) {
    b = encodeTxn(txn);
    keepBytes(txn, b);
  }
  return b;
}

/** writeTxn, copying the txn's bytes when they are already known. */
export function writeTxnCached(w: Writer, txn: Txn): void {
  const b = (txn as WithBytes)[BYTES];
  if (b !== undefined) w.raw(b);
  else writeTxn(w, txn);
}

/**
 * A decoded txn: a plain object (Object.prototype, equal to a literal under deepStrictEqual) from
 * a constructor of its own, so that V8 leaves room in it for the bytes keepBytes adds; a literal
 * would put that fourth property in a second allocation.
 */
const DecodedTxn = function (this: Txn, hdr: TxnHeader, body: TxnBody, digest: Txn['digest']) {
  this.hdr = hdr;
  this.body = body;
  this.digest = digest;
} as unknown as new (hdr: TxnHeader, body: TxnBody, digest: Txn['digest']) => Txn;
DecodedTxn.prototype = Object.prototype;

export function decodeTxn(b: Buffer, keepOwnBytes = false): Txn {
  const r = new Reader(b);
  // The txn keeps `b` anyway: its data fields can be views of it rather than copies.
  r.views = keepOwnBytes;
  const hdr = TxnHeader.read(r);
  const body = readTxnBody(r, hdr.type);
  let digest: Txn['digest'];
  if (r.remaining() >= 12) digest = TxnDigest.read(r);
  const txn = new DecodedTxn(hdr, body, digest);
  // `keepOwnBytes`: `b` is the txn's own buffer (a received PROPOSAL's data), not part of a larger one
  // that it would keep alive; its bytes become txnBytes(txn) when they are exactly the txn.
  if (keepOwnBytes && r.remaining() === 0) keepBytes(txn, b);
  return txn;
}
