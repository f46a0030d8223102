// multi (14) and multiRead (22): operation descriptions, their wire encoding, and typed results.
import { Reader, Writer } from '../jute/archive.js';
import { Err, OpCode } from '../protocol/constants.js';
import {
  CheckVersionRequest,
  Create2Response,
  CreateRequest,
  CreateResponse,
  CreateTTLRequest,
  DeleteRequest,
  ErrorResponse,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  MultiHeader,
  SetDataRequest,
  SetDataResponse,
  type ACL,
  type Stat,
} from '../protocol/records.js';
import { ZooKeeperError } from './errors.js';
import { validatePath } from './paths.js';
import { createModeValue, Ids, isSequentialMode, isTtlMode, toBuffer, type CreateModeName, type CreateModeValue, type Data } from './types.js';

export interface CreateOptions {
  mode?: CreateModeName | CreateModeValue;
  acl?: ACL[];
  /** Milliseconds; required for the TTL modes. */
  ttl?: number;
}

export type Op =
  | { type: 'create'; path: string; data: Buffer | null; acl: ACL[]; mode: CreateModeValue; ttl?: number }
  | { type: 'delete'; path: string; version: number }
  | { type: 'setData'; path: string; data: Buffer | null; version: number }
  | { type: 'check'; path: string; version: number };

export type ReadOp = { type: 'getData'; path: string } | { type: 'getChildren'; path: string };

export type OpResult =
  | { type: 'create'; path: string; stat?: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'error'; code: number; error: ZooKeeperError };

export type ReadOpResult =
  | { type: 'getData'; data: Buffer | null; stat: Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; code: number; error: ZooKeeperError };

export type CreateOp = Extract<Op, { type: 'create' }>;

export function createOp(path: string, data: Data | undefined, opts: CreateOptions = {}): CreateOp {
  const mode = createModeValue(opts.mode);
  validatePath(path, isSequentialMode(mode));
  if (isTtlMode(mode) && !(opts.ttl !== undefined && opts.ttl > 0)) {
    throw new ZooKeeperError(Err.BadArguments, path, 'TTL modes need a positive ttl');
  }
  const op: CreateOp = { type: 'create', path, data: toBuffer(data), acl: opts.acl ?? Ids.OPEN_ACL_UNSAFE, mode };
  if (opts.ttl !== undefined) op.ttl = opts.ttl;
  return op;
}

/** Opcode a create uses: container and TTL creates have their own (19/21), others plain create (1). */
export function createOpcode(mode: number, withStat: boolean): number {
  if (mode === 4) return OpCode.createContainer;
  if (isTtlMode(mode)) return OpCode.createTTL;
  return withStat ? OpCode.create2 : OpCode.create;
}

export function writeCreateBody(w: Writer, opcode: number, path: string, op: Extract<Op, { type: 'create' }>): void {
  const base = { path, data: op.data, acl: op.acl, flags: op.mode };
  if (opcode === OpCode.createTTL) CreateTTLRequest.write(w, { ...base, ttl: op.ttl ?? -1 });
  else CreateRequest.write(w, base);
}

/** Encodes a MultiOperationRecord. `mapPath` applies the chroot. */
export function encodeMulti(ops: Op[], mapPath: (p: string) => string): Writer {
  const w = new Writer(64 + ops.length * 64);
  for (const op of ops) {
    const path = mapPath(op.path);
    switch (op.type) {
      case 'create': {
        const opcode = createOpcode(op.mode, false);
        MultiHeader.write(w, { type: opcode, done: false, err: -1 });
        writeCreateBody(w, opcode, path, op);
        break;
      }
      case 'delete':
        MultiHeader.write(w, { type: OpCode.delete, done: false, err: -1 });
        DeleteRequest.write(w, { path, version: op.version });
        break;
      case 'setData':
        MultiHeader.write(w, { type: OpCode.setData, done: false, err: -1 });
        SetDataRequest.write(w, { path, data: op.data, version: op.version });
        break;
      case 'check':
        MultiHeader.write(w, { type: OpCode.check, done: false, err: -1 });
        CheckVersionRequest.write(w, { path, version: op.version });
        break;
    }
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return w;
}

export function encodeMultiRead(ops: ReadOp[], mapPath: (p: string) => string): Writer {
  const w = new Writer(64 + ops.length * 32);
  for (const op of ops) {
    const type = op.type === 'getData' ? OpCode.getData : OpCode.getChildren;
    MultiHeader.write(w, { type, done: false, err: -1 });
    (op.type === 'getData' ? GetDataRequest : GetChildrenRequest).write(w, { path: mapPath(op.path), watch: false });
  }
  MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return w;
}

type AnyResult = OpResult | ReadOpResult;

/** Decodes a MultiResponse; paths of failed ops are taken from `ops` for the error objects. */
export function decodeMultiResponse(r: Reader, opPaths: string[], unmapPath: (p: string) => string): AnyResult[] {
  const out: AnyResult[] = [];
  for (let i = 0; ; i++) {
    const h = MultiHeader.read(r);
    if (h.done) break;
    switch (h.type) {
      case OpCode.create:
        out.push({ type: 'create', path: unmapPath(CreateResponse.read(r).path) });
        break;
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL: {
        const c = Create2Response.read(r);
        out.push({ type: 'create', path: unmapPath(c.path), stat: c.stat });
        break;
      }
      case OpCode.delete:
        out.push({ type: 'delete' });
        break;
      case OpCode.setData:
        out.push({ type: 'setData', stat: SetDataResponse.read(r).stat });
        break;
      case OpCode.check:
        out.push({ type: 'check' });
        break;
      case OpCode.getData: {
        const g = GetDataResponse.read(r);
        out.push({ type: 'getData', data: g.data, stat: g.stat });
        break;
      }
      case OpCode.getChildren:
        out.push({ type: 'getChildren', children: GetChildrenResponse.read(r).children });
        break;
      case OpCode.error: {
        const code = ErrorResponse.read(r).err;
        out.push({ type: 'error', code, error: new ZooKeeperError(code, opPaths[i]) });
        break;
      }
      default:
        throw new ZooKeeperError(Err.MarshallingError, undefined, `unexpected multi result type ${h.type}`);
    }
  }
  return out;
}

/** The first real failure of a failed multi (not the 0 / RuntimeInconsistency placeholders). */
export function multiFailure(results: AnyResult[]): ZooKeeperError | null {
  let fallback: ZooKeeperError | null = null;
  for (const res of results) {
    if (res.type !== 'error') continue;
    if (res.code !== Err.OK && res.code !== Err.RuntimeInconsistency) return res.error;
    if (res.code !== Err.OK) fallback ??= res.error;
  }
  return fallback;
}

/** Builder for an atomic multi: `await zk.transaction().create(...).setData(...).commit()`. */
export class Transaction {
  readonly ops: Op[] = [];

  constructor(private readonly run: (ops: Op[]) => Promise<OpResult[]>) {}

  create(path: string, data?: Data, opts?: CreateOptions): this {
    this.ops.push(createOp(path, data, opts));
    return this;
  }

  delete(path: string, version = -1): this {
    validatePath(path);
    this.ops.push({ type: 'delete', path, version });
    return this;
  }

  setData(path: string, data: Data, version = -1): this {
    validatePath(path);
    this.ops.push({ type: 'setData', path, data: toBuffer(data), version });
    return this;
  }

  check(path: string, version: number): this {
    validatePath(path);
    this.ops.push({ type: 'check', path, version });
    return this;
  }

  commit(): Promise<OpResult[]> {
    return this.run(this.ops);
  }
}

