// The txn codec's allocation-lean paths against the plain ones: 64-bit longs through a DataView
// against Buffer's bigint methods, decoding with views (a txn that keeps its own bytes) against
// decoding with copies, and encoding through the shared scratch writer, over the txns Apache
// ZooKeeper 3.8 recorded in its logs (shared/vectors/disk) and over every body type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Reader, Writer, readInt64, writeInt64 } from '../../src/jute/archive.js';
import { decodeTxn, encodeTxn, txnBytes, writeTxn, type Txn, type TxnBody } from '../../src/protocol/txn.js';
import { OpCode } from '../../src/protocol/constants.js';
import { readLogs } from '../../src/storage/TxnLogReader.js';

const CANDIDATES = [path.resolve(process.cwd(), '../shared/vectors/disk'), '/work/shared/vectors/disk'];
const DISK = CANDIDATES.find((d) => fs.existsSync(path.join(d, 'log-index.json'))) ?? CANDIDATES[1]!;
const DATA = path.join(DISK, 'data', 'version-2');
const skip = !fs.existsSync(DATA) && 'recorded vectors not found';

const INT64_CASES = [
  0n, 1n, -1n, 255n, 256n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, -0x100000000n,
  0x0123456789abcdefn, -0x0123456789abcdefn, 2n ** 63n - 1n, -(2n ** 63n), 0x100000abcdn, 0x8000000000000000n - 5n,
];

test('readInt64/writeInt64 agree with Buffer readBigInt64BE/writeBigInt64BE, wrapping as BigInt.asIntN(64)', () => {
  const cases = [...INT64_CASES, 2n ** 63n, 2n ** 64n + 7n, -(2n ** 63n) - 1n, 2n ** 70n + 3n];
  for (const v of cases) {
    const ours = Buffer.alloc(11, 0xee);
    writeInt64(ours, 2, v);
    const ref = Buffer.alloc(11, 0xee);
    ref.writeBigInt64BE(BigInt.asIntN(64, v), 2);
    assert.deepEqual(ours, ref, `bytes of ${v}`);
    assert.equal(readInt64(ours, 2), BigInt.asIntN(64, v), `read back ${v}`);
    assert.equal(readInt64(ref, 2), ref.readBigInt64BE(2));
  }
  // Writer.long / Reader.long use them, with the same bounds checks as before.
  const w = new Writer(4);
  for (const v of INT64_CASES) w.long(v);
  const r = new Reader(w.view());
  for (const v of INT64_CASES) assert.equal(r.long(), v);
  assert.throws(() => r.long(), /truncated record/);
  assert.throws(() => new Writer().long(5 as unknown as bigint), TypeError);
});

test('Writer.toBuffer is an exact copy that later writes do not touch', () => {
  const w = new Writer(8);
  w.int(7).ustring('abc').long(-2n);
  const out = w.toBuffer();
  assert.equal(out.length, w.pos);
  assert.deepEqual(out, Buffer.from(w.view()));
  w.reset();
  w.int(-1).int(-1).int(-1).int(-1);
  assert.equal(out.readInt32BE(0), 7);
});

test('Reader.buffer: copies by default, views of the read buffer when views is set', () => {
  const w = new Writer();
  w.buffer(Buffer.from('hello')).buffer(null).buffer(Buffer.alloc(0));
  const bytes = w.toBuffer();
  for (const views of [false, true]) {
    const r = new Reader(bytes);
    r.views = views;
    const a = r.buffer()!;
    assert.equal(a.toString(), 'hello');
    assert.equal(within(a, bytes), views, views ? 'a view shares the bytes' : 'a copy does not');
    assert.equal(r.buffer(), null);
    assert.equal(r.buffer()!.length, 0);
    assert.equal(r.remaining(), 0);
  }
});

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const HDR = { clientId: 0x1000abcdef0012n, cxid: 42, zxid: 0x500000123, time: 1700000000123, type: 0 };

function bodies(): TxnBody[] {
  const data = Buffer.from('some data');
  return [
    { type: OpCode.create, path: '/a', data, acl: ACL, ephemeral: true, parentCVersion: 3 },
    { type: OpCode.create2, path: '/a/b', data: null, acl: ACL, ephemeral: false, parentCVersion: -1 },
    { type: OpCode.createContainer, path: '/c', data: Buffer.alloc(0), acl: ACL, parentCVersion: 1 },
    { type: OpCode.createTTL, path: '/t', data, acl: ACL, parentCVersion: 2, ttl: 60000 },
    { type: OpCode.delete, path: '/a' },
    { type: OpCode.setData, path: '/a', data: Buffer.alloc(300, 7), version: 5 },
    { type: OpCode.setACL, path: '/a', acl: ACL, version: 2 },
    { type: OpCode.check, path: '/a', version: 1 },
    { type: OpCode.createSession, timeOut: 30000 },
    { type: OpCode.closeSession, paths2Delete: ['/e1', '/e2'] },
    { type: OpCode.error, err: -101 },
    {
      type: OpCode.multi,
      txns: [
        { type: OpCode.create, path: '/m', data, acl: ACL, ephemeral: false, parentCVersion: 4 },
        { type: OpCode.setData, path: '/m', data: Buffer.from('x'), version: 1 },
        { type: OpCode.delete, path: '/m' },
      ],
    },
  ];
}

/** Whether `part` lies inside `whole`'s memory (small buffers share Node's pool, so .buffer alone says little). */
function within(part: Buffer, whole: Buffer): boolean {
  return part.buffer === whole.buffer && part.byteOffset >= whole.byteOffset && part.byteOffset + part.length <= whole.byteOffset + whole.length;
}

/** Every Buffer reachable from a decoded body (data fields, a multi's sub-ops' data). */
function buffersOf(v: unknown, out: Buffer[] = []): Buffer[] {
  if (Buffer.isBuffer(v)) out.push(v);
  else if (Array.isArray(v)) for (const e of v) buffersOf(e, out);
  else if (v && typeof v === 'object') for (const e of Object.values(v)) buffersOf(e, out);
  return out;
}

function checkRoundTrip(txn: Txn, bytes: Buffer, label: string): void {
  const copied = decodeTxn(bytes);
  const own = Buffer.from(bytes);
  const viewed = decodeTxn(own, true);
  assert.deepEqual(viewed, copied, `${label}: views decode the same fields as copies`);
  assert.deepEqual(copied, txn, `${label}: the decoded txn is the one encoded`);
  for (const b of buffersOf(copied.body)) if (b.length) assert.ok(!within(b, bytes), `${label}: copies own their bytes`);
  for (const b of buffersOf(viewed.body)) if (b.length) assert.ok(within(b, own), `${label}: views share the txn's bytes`);
  // The txn keeps its own bytes: nothing is encoded again, and they are the very bytes.
  assert.equal(txnBytes(viewed), own);
  assert.deepEqual(encodeTxn(viewed), bytes, `${label}: re-encoding gives the same bytes`);
  const w = new Writer(1);
  writeTxn(w, viewed);
  assert.deepEqual(Buffer.from(w.view()), bytes, `${label}: writeTxn into a caller's writer`);
}

test('every txn body type decodes the same with views as with copies, and re-encodes byte for byte', () => {
  for (const body of bodies()) {
    for (const digest of [undefined, { version: 2, treeDigest: -0x123456789abcn }]) {
      const txn: Txn = { hdr: { ...HDR, type: body.type }, body, digest };
      const bytes = encodeTxn(txn);
      checkRoundTrip(txn, bytes, `type ${body.type}${digest ? ' with digest' : ''}`);
    }
  }
});

test('encodeTxn returns a fresh buffer each time although it writes into one scratch writer', () => {
  const [a, b] = bodies();
  const ba = encodeTxn({ hdr: { ...HDR, type: a!.type }, body: a! });
  const copyA = Buffer.from(ba);
  const bb = encodeTxn({ hdr: { ...HDR, type: b!.type }, body: b! });
  assert.notEqual(ba.buffer === bb.buffer && ba.byteOffset === bb.byteOffset, true);
  assert.deepEqual(ba, copyA, 'the first result is untouched by the second encode');
});

test('the txns Apache ZooKeeper 3.8 logged decode the same with views, and re-encode to the logged bytes', { skip }, () => {
  let n = 0;
  const types = new Set<number>();
  for (const txn of readLogs(DATA, 1)) {
    const bytes = encodeTxn(txn);
    checkRoundTrip(txn, bytes, `zxid 0x${txn.hdr.zxid.toString(16)}`);
    types.add(txn.hdr.type);
    n++;
  }
  assert.ok(n >= 0x30, `replayed ${n} recorded txns`);
  for (const t of [OpCode.create, OpCode.setData, OpCode.delete, OpCode.multi, OpCode.createSession]) {
    assert.ok(types.has(t), `the recorded logs hold a txn of type ${t}`);
  }
});
