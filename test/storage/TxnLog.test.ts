import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn } from '../../src/protocol/txn.js';
import { FileTxnLog, encodeLogRecord } from '../../src/storage/TxnLog.js';
import { MemoryTxnLog } from '../../src/storage/MemoryTxnLog.js';
import { readLogFile, readLogs, type LogFileEnd, type LogRecord } from '../../src/storage/TxnLogReader.js';
import { adler32 } from '../../src/storage/Adler32.js';
import { adler32Combine } from './referenceSnapshot.js';
import { FaultyIO, RecordingLogger, VECTOR_DATA, createSessionTxn, createTxn, deleteTxn, setDataTxn, tmpDir, txn, plain } from './helpers.js';

function readAll(p: string, logger = new RecordingLogger()): { recs: LogRecord[]; end: LogFileEnd } {
  const it = readLogFile(p, { logger });
  const recs: LogRecord[] = [];
  for (;;) {
    const r = it.next();
    if (r.done) return { recs, end: r.value };
    recs.push(r.value);
  }
}

function sampleTxns(first: number, n: number): Txn[] {
  const out: Txn[] = [];
  for (let i = 0; i < n; i++) out.push(setDataTxn(first + i, '/n', `value-${first + i}`, i + 1));
  return out;
}

test('Adler-32 matches the recorded record checksum (auth-and-ids.md §3)', () => {
  const covered = Buffer.from(
    '01000067b4530001000000120000000000000017000001a2015ea7b700000005000000082f636f756e7465720000000131000000010000000200000009d5547eee',
    'hex',
  );
  assert.equal(adler32(covered), 0x19e40a09);
  // Running over pieces gives the same value as one pass.
  assert.equal(adler32(covered, adler32(covered, 1, 0, 20), 20), 0x19e40a09);
  assert.equal(adler32(Buffer.alloc(0)), 1);
  // Combining checksums of two pieces equals one pass over both (snapshot node section).
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  for (const cut of [0, 1, 5552, 65521, 100_000, 199_999]) {
    const a = big.subarray(0, cut), b = big.subarray(cut);
    assert.equal(adler32Combine(adler32(a), adler32(b), b.length), adler32(big), `cut ${cut}`);
  }
});

test('every record of the recorded logs re-encodes to the same bytes', () => {
  const index = JSON.parse(fs.readFileSync(path.join(VECTOR_DATA, '..', '..', 'log-index.json'), 'utf8'));
  let n = 0;
  for (const [name, info] of Object.entries<any>(index.files)) {
    const { recs, end } = readAll(path.join(VECTOR_DATA, name));
    assert.equal(end.end, 'eof', name);
    assert.equal(recs.length, info.records.length, name);
    recs.forEach((r, i) => {
      const want = info.records[i];
      assert.equal(r.offset, want.offset);
      assert.equal(r.txn.hdr.zxid, want.txnHeader.zxid);
      assert.equal(r.txn.hdr.type, want.txnHeader.type);
      assert.equal(encodeLogRecord(r.txn).toString('hex'), want.hex, `${name} zxid ${r.txn.hdr.zxid}`);
      n++;
    });
  }
  assert.equal(n, 52);
});

test('FileTxnLog writes ZooKeeper-format files: header, records, preallocation, names', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 64, forceSync: true });
  const txns = [createSessionTxn(1, 0x55n, 30000), createTxn(2, '/a', 'hello', 1), setDataTxn(3, '/a', 'bye', 1), deleteTxn(4, '/a')];
  await log.append(txns.slice(0, 2));
  await log.append(txns.slice(2));
  await log.close();
  const file = path.join(dir, 'log.1');
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(0, 16).toString('hex'), '5a4b4c4700000002' + '0000000000000000');
  assert.equal(bytes.length, 16 + 64 * 1024, 'first append pads the file to header + preAllocSize');
  const { recs, end } = readAll(file);
  assert.equal(end.end, 'padding');
  assert.deepEqual(recs.map((r) => plain(r.txn)), txns);
  // The padding is zeros all the way.
  assert.ok(bytes.subarray(end.validEnd).every((b) => b === 0));
});

test('roll starts a new file named after the next zxid; readLogs crosses files from any zxid', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 0, forceSync: false });
  await log.append(sampleTxns(1, 5));
  log.roll();
  await log.append(sampleTxns(6, 5));
  log.roll();
  log.roll();
  await log.append(sampleTxns(11, 20));
  await log.close();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.6', 'log.b']);
  assert.equal(fs.statSync(path.join(dir, 'log.1')).size, 16 + 5 * encodeLogRecord(sampleTxns(1, 1)[0]!).length, 'no padding when preAllocSizeKb=0');
  for (const from of [1, 3, 6, 7, 11, 29, 30, 31]) {
    const got = [...readLogs(dir, from)].map((t) => t.hdr.zxid);
    const want = Array.from({ length: Math.max(0, 30 - from + 1) }, (_, i) => from + i);
    assert.deepEqual(got, want, `from ${from}`);
  }
});

test('group commit: many concurrent appends share few fsyncs and resolve in call order', async () => {
  const dir = tmpDir();
  const io = new FaultyIO();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 1024, forceSync: true, io });
  const order: number[] = [];
  const N = 2000;
  const ps: Promise<void>[] = [];
  for (let i = 1; i <= N; i++) {
    ps.push(log.append([setDataTxn(i, '/x', 'v' + i, i)]).then(() => void order.push(i)));
    // Spread the calls over several ticks so batches form while fsyncs are in flight.
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(ps);
  await log.close();
  assert.deepEqual(order, Array.from({ length: N }, (_, i) => i + 1));
  assert.ok(io.datasyncs >= 1 && io.datasyncs <= N / 10, `expected far fewer fsyncs than ${N} appends, got ${io.datasyncs}`);
  assert.equal(log.stats.fsyncs, io.datasyncs);
  assert.equal(log.stats.txns, N);
  assert.deepEqual([...readLogs(dir, 1)].map((t) => t.hdr.zxid), Array.from({ length: N }, (_, i) => i + 1));
});

test('forceSync=false never fsyncs', async () => {
  const dir = tmpDir();
  const io = new FaultyIO();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 64, forceSync: false, io });
  await Promise.all([log.append(sampleTxns(1, 3)), log.append(sampleTxns(4, 3))]);
  await log.close();
  assert.equal(io.datasyncs, 0);
  assert.equal([...readLogs(dir, 1)].length, 6);
});

test('ENOSPC: the failing append and all later ones reject naming file and errno; acknowledged data stays readable', async () => {
  const dir = tmpDir();
  const io = new FaultyIO();
  const logger = new RecordingLogger();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 0, forceSync: true, io, logger });
  await log.append(sampleTxns(1, 10));
  io.spaceLeft = io.bytesWritten + 100; // room for one record and a half
  const results = await Promise.allSettled([log.append(sampleTxns(11, 1)), log.append(sampleTxns(12, 1)), log.append(sampleTxns(13, 1))]);
  const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  assert.ok(rejected.length >= 1);
  for (const r of rejected) {
    assert.match(r.reason.message, /log\.1/);
    assert.match(r.reason.message, /ENOSPC/);
  }
  // Sticky: nothing more is accepted, even after space comes back.
  io.spaceLeft = Infinity;
  await assert.rejects(log.append(sampleTxns(20, 1)), /ENOSPC/);
  assert.ok(log.failed);
  assert.ok(logger.warnings.some((w) => /stopped accepting writes/.test(w)));
  await log.close();
  // Every acknowledged txn is on disk; a half-written record is just a torn tail.
  const acked = results.flatMap((r, i) => (r.status === 'fulfilled' ? [11 + i] : []));
  const onDisk = [...readLogs(dir, 1, { logger: new RecordingLogger() })].map((t) => t.hdr.zxid);
  for (const z of [...Array.from({ length: 10 }, (_, i) => i + 1), ...acked]) assert.ok(onDisk.includes(z), `acked ${z} missing`);
});

test('fsync failure (EIO) rejects the batch and poisons the log', async () => {
  const dir = tmpDir();
  const io = new FaultyIO();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 64, forceSync: true, io, logger: new RecordingLogger() });
  await log.append(sampleTxns(1, 2));
  io.failDatasyncWith = 'EIO';
  await assert.rejects(log.append(sampleTxns(3, 1)), (e: Error) => /log\.1/.test(e.message) && /EIO/.test(e.message) && /fsync/.test(e.message));
  io.failDatasyncWith = null;
  await assert.rejects(log.append(sampleTxns(4, 1)), /EIO/);
  await log.close();
});

test('read-only or vanished directory: creating the log file fails with the path and errno', async () => {
  const io = new FaultyIO();
  io.failCreateWith = 'EROFS';
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 64, forceSync: true, io, logger: new RecordingLogger() });
  await assert.rejects(log.append(sampleTxns(7, 1)), (e: Error) => e.message.includes(path.join(dir, 'log.7')) && /EROFS/.test(e.message));
  const gone = path.join(tmpDir(), 'missing', 'version-2');
  const log2 = new FileTxnLog({ dir: gone, preAllocSizeKb: 64, forceSync: true, logger: new RecordingLogger() });
  await assert.rejects(log2.append(sampleTxns(1, 1)), (e: Error) => e.message.includes(gone) && /ENOENT/.test(e.message));
});

test('torn tail: a log cut at every offset inside its last record keeps exactly the earlier records', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 0, forceSync: false });
  const txns = [createTxn(1, '/a', 'x'.repeat(40), 1), createTxn(2, '/b', null, 2), setDataTxn(3, '/a', 'last one', 1)];
  await log.append(txns);
  await log.close();
  const full = fs.readFileSync(path.join(dir, 'log.1'));
  const { recs } = readAll(path.join(dir, 'log.1'));
  const last = recs[2]!;
  const cut = path.join(tmpDir(), 'log.1');
  for (let at = last.offset; at < last.endOffset; at++) {
    for (const zeroFill of [false, true]) {
      // zeroFill: the cut-off part is zeros, as in a preallocated file that lost the write.
      const bytes = zeroFill ? Buffer.concat([full.subarray(0, at), Buffer.alloc(full.length - at + 64)]) : full.subarray(0, at);
      fs.writeFileSync(cut, bytes);
      const got = readAll(cut);
      assert.deepEqual(got.recs.map((r) => r.txn.hdr.zxid), [1, 2], `cut at ${at}, zeroFill=${zeroFill}`);
      assert.equal(got.end.validEnd, last.offset);
    }
  }
});

test('checksum mismatch mid-file ends the valid data with a warning; a gap after it is refused', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 0, forceSync: false });
  await log.append(sampleTxns(1, 5));
  log.roll();
  await log.append(sampleTxns(6, 5));
  await log.close();
  const f1 = path.join(dir, 'log.1');
  const { recs } = readAll(f1);
  const bytes = fs.readFileSync(f1);
  bytes[recs[2]!.offset + 20]! ^= 0xff; // inside record 3's payload
  fs.writeFileSync(f1, bytes);
  const logger = new RecordingLogger();
  const got = readAll(f1, logger);
  assert.deepEqual(got.recs.map((r) => r.txn.hdr.zxid), [1, 2]);
  assert.equal(got.end.end, 'crc-mismatch');
  assert.ok(logger.warnings.some((w) => /checksum mismatch/.test(w) && w.includes(f1)));
  // log.6 continues at 6, but 3..5 are gone: replaying around that would lose acknowledged writes.
  assert.throws(() => [...readLogs(dir, 1, { logger })], (e: Error) => /missing/.test(e.message) && e.message.includes(f1));
  // Starting after the damage (e.g. from a snapshot at 5) is fine.
  assert.deepEqual([...readLogs(dir, 6, { logger })].map((t) => t.hdr.zxid), [6, 7, 8, 9, 10]);
});

test('a file shorter than its header is empty, not fatal; a wrong magic is an error naming the file', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'log.1'), Buffer.from('5a4b4c47', 'hex'));
  const logger = new RecordingLogger();
  assert.equal(readAll(path.join(dir, 'log.1'), logger).end.end, 'short-header');
  fs.writeFileSync(path.join(dir, 'log.2'), Buffer.alloc(64, 0x41));
  assert.throws(() => readAll(path.join(dir, 'log.2')), (e: Error) => e.message.includes('log.2') && /ZKLG/.test(e.message));
});

test('multi, error and closeSession txns survive the file round trip', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 4, forceSync: true });
  const txns: Txn[] = [
    txn(1, { type: OpCode.multi, txns: [
      { type: OpCode.create, path: '/m', data: Buffer.from('1'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral: false, parentCVersion: 1 },
      { type: OpCode.setData, path: '/m', data: Buffer.from('2'), version: 1 },
      { type: OpCode.check, path: '/m', version: 1 },
    ] }),
    txn(2, { type: OpCode.error, err: -101 }),
    txn(3, { type: OpCode.closeSession, paths2Delete: ['/e1', '/e2'] }),
  ];
  txns[0]!.digest = { version: 2, treeDigest: 123456789n };
  for (const t of txns) await log.append([t]);
  await log.close();
  assert.deepEqual([...readLogs(dir, 1)].map(plain), txns);
});

test('MemoryTxnLog keeps the contract: ordered, batched, rolls, sticky failure', async () => {
  const log = new MemoryTxnLog();
  const order: number[] = [];
  await Promise.all(sampleTxns(1, 50).map((t, i) => log.append([t]).then(() => void order.push(i))));
  assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
  assert.equal(log.fsyncs, 1);
  log.roll();
  await log.append(sampleTxns(51, 2));
  assert.deepEqual(log.segments.map((s) => s.firstZxid), [1, 51]);
  log.failNextWith = new Error('EIO: simulated');
  await assert.rejects(log.append(sampleTxns(53, 1)), /EIO/);
  await assert.rejects(log.append(sampleTxns(54, 1)), /EIO/);
  assert.equal(log.txns.length, 52);
});

test('replay from the in-memory recent txns gives exactly what reading the log files gives, large txns included', async () => {
  const { readTxnsAfter } = await import('../../src/storage/TxnLogReader.js');
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 64, forceSync: false, maxRecordBytes: 4 * 1024 * 1024 });
  const quiet = new RecordingLogger();
  const all: Txn[] = [];
  let zxid = 0;
  // Small txns in batches (more than the 1000 kept), then large ones (past the 8 MB bound), then small again.
  const sizes = [...Array.from({ length: 1300 }, (_, i) => 10 + (i % 90)), ...Array.from({ length: 10 }, () => 1024 * 1024), ...Array.from({ length: 50 }, () => 30)];
  for (let i = 0; i < sizes.length; ) {
    const batch: Txn[] = [];
    for (let k = 0; k < 7 && i < sizes.length; k++, i++) {
      zxid++;
      batch.push(txn(zxid, { type: OpCode.setData, path: `/n${i % 13}`, data: Buffer.alloc(sizes[i]!, i & 0xff), version: i }));
    }
    all.push(...batch);
    await log.append(batch);
  }
  const collect = async (it: AsyncIterable<Txn>) => {
    const out: Txn[] = [];
    for await (const t of it) out.push(plain(t));
    return out;
  };
  const last = all[all.length - 1]!.hdr.zxid;
  for (const after of [last - 1, last - 20, last - 55, last - 60, last - 400, last - 1200, 0]) {
    const fromWriter = await collect(log.readTxnsAfter(after));
    const fromFiles = await collect(readTxnsAfter(dir, after, { logger: quiet, maxRecordBytes: 4 * 1024 * 1024 }));
    assert.deepEqual(fromWriter, fromFiles, `after 0x${after.toString(16)}`);
    assert.deepEqual(fromWriter, all.filter((t) => t.hdr.zxid > after).map(plain));
  }
  await log.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
