// DIFF from disk: reading the committed txns after a zxid from real log files, across file
// boundaries, without holding the event loop; and the last logged zxid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn } from '../../src/protocol/txn.js';
import { FileTxnLog } from '../../src/storage/TxnLog.js';
import { MemoryTxnLog } from '../../src/storage/MemoryTxnLog.js';
import { encodeLogFileHeader } from '../../src/storage/TxnLog.js';
import { getLastLoggedZxid, readLogs, readTxnsAfter } from '../../src/storage/TxnLogReader.js';
import { RecordingLogger, chainTxns, collectAsync, plain, tmpDir, txn, writeLogFiles } from './helpers.js';

const quiet = new RecordingLogger();

test('readTxnsAfter yields exactly the txns after z, from any z, across four files', async () => {
  const dir = tmpDir();
  const txns = chainTxns(60);
  await writeLogFiles(dir, txns, 15);
  for (const z of [-1, 0, 1, 14, 15, 16, 17, 30, 31, 45, 46, 59, 60, 61, 1000]) {
    const got = await collectAsync(readTxnsAfter(dir, z, { logger: quiet }));
    assert.deepEqual(got.map(plain), txns.filter((t) => t.hdr.zxid > z), `after ${z}`);
    // The same as the synchronous reader used at startup.
    assert.deepEqual(got.map(plain), [...readLogs(dir, z + 1, { logger: quiet })].map(plain), `sync reader, after ${z}`);
  }
  // A stop point: a reader of a live log stays within what is durable.
  const upTo = await collectAsync(readTxnsAfter(dir, 10, { logger: quiet, untilZxid: 33 }));
  assert.deepEqual(upTo.map((t) => t.hdr.zxid), Array.from({ length: 23 }, (_, i) => 11 + i));
});

test('mustCover: refused when the log no longer reaches back to z (purged), accepted when it provably does', async () => {
  const dir = tmpDir();
  await writeLogFiles(dir, chainTxns(60), 15);
  fs.rmSync(path.join(dir, 'log.1')); // purged: 1..15 are gone
  await assert.rejects(
    collectAsync(readTxnsAfter(dir, 5, { logger: quiet, mustCover: true })),
    (e: Error & { code?: string }) => e.code === 'ENOTCOVERED' && e.message.includes(dir) && /0x10/.test(e.message),
  );
  // Without the check the caller would see 16.. and could not tell 6..15 are missing.
  assert.equal((await collectAsync(readTxnsAfter(dir, 5, { logger: quiet })))[0]!.hdr.zxid, 16);
  // The log starts right after z: nothing missing.
  assert.equal((await collectAsync(readTxnsAfter(dir, 15, { logger: quiet, mustCover: true }))).length, 45);
  assert.equal((await collectAsync(readTxnsAfter(dir, 20, { logger: quiet, mustCover: true }))).length, 40);
  // A new epoch's first txn does not prove contiguity with the old epoch's last.
  const e = tmpDir();
  await writeLogFiles(e, chainTxns(3, 0x200000001), 10);
  await assert.rejects(collectAsync(readTxnsAfter(e, 0x100000007, { logger: quiet, mustCover: true })), /not all there/);
  // The in-memory twin applies the same rule.
  const mem = new MemoryTxnLog();
  await mem.append(chainTxns(10, 16));
  await assert.rejects(collectAsync(mem.readTxnsAfter(5, { mustCover: true })), (err: Error & { code?: string }) => err.code === 'ENOTCOVERED');
  assert.equal((await collectAsync(mem.readTxnsAfter(15, { mustCover: true }))).length, 10);
});

test('the event loop keeps running while 50k txns are read from disk', async (t) => {
  const dir = tmpDir();
  const data = Buffer.alloc(100, 0x61);
  const txns: Txn[] = [];
  for (let z = 1; z <= 50_000; z++) txns.push(txn(z, { type: OpCode.setData, path: '/bench/node', data, version: z }));
  await writeLogFiles(dir, txns, 12_500, 4096);
  assert.equal(fs.readdirSync(dir).length, 4);

  // Two probes: a timer (wall-clock gaps, machine-dependent, reported) and an immediate that
  // re-arms itself once per event-loop turn, which counts how many txns were read in one turn.
  let ticks = 0;
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 2);
  let count = 0;
  let turns = 0;
  let atLastTurn = 0;
  let maxPerTurn = 0;
  let probing = true;
  const probe = () => {
    maxPerTurn = Math.max(maxPerTurn, count - atLastTurn);
    atLastTurn = count;
    turns++;
    if (probing) setImmediate(probe);
  };
  setImmediate(probe);
  let expect = 1;
  const t0 = performance.now();
  try {
    last = performance.now();
    for await (const x of readTxnsAfter(dir, 0, { logger: quiet })) {
      assert.equal(x.hdr.zxid, expect++);
      count++;
    }
  } finally {
    clearInterval(timer);
    probing = false;
  }
  probe();
  const asyncMs = performance.now() - t0;
  // For scale: the synchronous reader holds the loop for the whole read.
  const t1 = performance.now();
  const syncCount = [...readLogs(dir, 1, { logger: quiet })].length;
  const syncMs = performance.now() - t1;
  t.diagnostic(
    `async read ${count} txns in ${asyncMs.toFixed(0)} ms over ${turns} event-loop turns (at most ${maxPerTurn} txns in one); ` +
      `timer ticked ${ticks} times, longest gap ${maxGapMs.toFixed(1)} ms; sync read ${syncCount} in ${syncMs.toFixed(0)} ms`,
  );
  assert.equal(count, 50_000);
  assert.ok(maxPerTurn <= 2000, `${maxPerTurn} txns read in one event-loop turn`);
  assert.ok(turns >= 25, `only ${turns} event-loop turns during the read`);
  assert.ok(ticks >= 5, `the timer ticked only ${ticks} times in ${asyncMs.toFixed(0)} ms`);
});

test('getLastLoggedZxid: newest valid txn; an empty newest file defers to the one before; none is -1', async () => {
  const dir = tmpDir();
  assert.equal(await getLastLoggedZxid(dir), -1);
  await writeLogFiles(dir, chainTxns(40), 15);
  assert.equal(await getLastLoggedZxid(dir), 40);
  // A file created just before a crash, holding only its header.
  fs.writeFileSync(path.join(dir, 'log.29'), encodeLogFileHeader());
  assert.equal(await getLastLoggedZxid(dir, { logger: quiet }), 40);
  // A torn last record does not count.
  const f = path.join(dir, 'log.1f');
  const size = [...readLogs(dir, 40, { logger: quiet })].length;
  assert.equal(size, 1);
  const bytes = fs.readFileSync(f);
  const cut = bytes.indexOf(Buffer.alloc(64), 16); // start of the zero padding = end of data
  fs.writeFileSync(f, bytes.subarray(0, cut - 3));
  assert.equal(await getLastLoggedZxid(dir, { logger: quiet }), 39);
  // The writer knows its own last zxid, and scans for it when started on an existing log.
  const log = new FileTxnLog({ dir: tmpDir(), preAllocSizeKb: 16, forceSync: true, logger: quiet });
  assert.equal(await log.getLastLoggedZxid(), -1);
  await log.append(chainTxns(5));
  assert.equal(await log.getLastLoggedZxid(), 5);
  await log.close();
  const reopened = new FileTxnLog({ dir, preAllocSizeKb: 16, forceSync: true, logger: quiet });
  assert.equal(await reopened.getLastLoggedZxid(), 39);
  await reopened.close();
});

test('FileTxnLog.readTxnsAfter reads what is durable while appends go on', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 16, forceSync: true, logger: quiet });
  await log.append(chainTxns(100));
  log.roll();
  await log.append(chainTxns(100, 101));
  const reading = collectAsync(log.readTxnsAfter(50));
  const appending = log.append(chainTxns(100, 201));
  const got = await reading;
  await appending;
  // Everything durable when the read started, in order, and nothing torn.
  assert.deepEqual(got.slice(0, 150).map((t) => t.hdr.zxid), Array.from({ length: 150 }, (_, i) => 51 + i));
  assert.ok(got.every((t, i) => t.hdr.zxid === 51 + i));
  assert.equal(quiet.warnings.filter((w) => w.includes(dir)).length, 0);
  assert.equal((await collectAsync(log.readTxnsAfter(250))).length, 50);
  await log.close();
});

test('a live FileTxnLog answers readTxnsAfter for its newest txns from memory, the same as the files say, also after a truncate', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 16, forceSync: false, logger: quiet });
  const txns = chainTxns(40);
  await log.append(txns.slice(0, 10));
  log.roll();
  await Promise.all([log.append(txns.slice(10, 25)), log.append(txns.slice(25, 40))]);
  const fromFiles = async (z: number) => (await collectAsync(readTxnsAfter(dir, z, { logger: quiet }))).map(plain);
  for (const z of [-1, 0, 1, 9, 10, 11, 24, 25, 39, 40, 41]) {
    assert.deepEqual((await collectAsync(log.readTxnsAfter(z))).map(plain), await fromFiles(z), `after ${z}`);
    // (Before the first txn the log does not prove it holds everything: the files' rule, ENOTCOVERED.)
    if (z >= 1) assert.deepEqual((await collectAsync(log.readTxnsAfter(z, { mustCover: true }))).map(plain), await fromFiles(z), `mustCover, after ${z}`);
  }
  // A truncate drops the kept copy with the file contents: reads then follow the files again.
  await log.truncate(30);
  await log.append(chainTxns(5, 31).map((t) => ({ ...t, hdr: { ...t.hdr } })));
  for (const z of [0, 29, 30, 31, 34, 35]) {
    assert.deepEqual((await collectAsync(log.readTxnsAfter(z))).map(plain), await fromFiles(z), `after truncate, after ${z}`);
  }
  assert.equal((await collectAsync(log.readTxnsAfter(30))).length, 5);
  await log.close();
});
