// TRUNC: cutting real log files (several of them, preallocated, fsynced) back to a zxid, and
// loading the database again from what is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { FileTxnLog } from '../../src/storage/TxnLog.js';
import { MemoryTxnLog } from '../../src/storage/MemoryTxnLog.js';
import type { TxnLog } from '../../src/storage/TxnLog.js';
import { truncateLog } from '../../src/storage/LogTruncation.js';
import { readLogFile, readLogs } from '../../src/storage/TxnLogReader.js';
import { loadDatabase, openStorage, recover, repairStorage, truncateTo } from '../../src/storage/Recovery.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { FaultyIO, RecordingLogger, chainTxns, collectAsync, plain, tmpDir, treeImage, writeLogFiles } from './helpers.js';

const quiet = new RecordingLogger();
const zxids = (dir: string) => [...readLogs(dir, 0, { logger: quiet })].map((t) => t.hdr.zxid);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** 60 txns in log.1, log.10, log.1f, log.2e (15 each), each file preallocated to 16 KiB. */
async function fourFiles(): Promise<string> {
  const dir = tmpDir('zk-trunc-');
  await writeLogFiles(dir, chainTxns(60), 15);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.10', 'log.1f', 'log.2e']);
  return dir;
}

function recordEnd(file: string, zxid: number): number {
  const it = readLogFile(file, { logger: quiet });
  for (let r = it.next(); !r.done; r = it.next()) if (r.value.txn.hdr.zxid === zxid) return r.value.endOffset;
  throw new Error(`no ${zxid} in ${file}`);
}

test('truncateLog cuts the file holding the zxid right after it and deletes the later files', async () => {
  const dir = await fourFiles();
  const f3 = path.join(dir, 'log.1f');
  const end37 = recordEnd(f3, 37);
  const io = new FaultyIO();
  const res = await truncateLog(dir, 37, { io, logger: quiet });
  assert.deepEqual(res, { cut: { path: f3, at: end37 }, deleted: [path.join(dir, 'log.2e')], lastZxid: 37 });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.10', 'log.1f']);
  assert.equal(fs.statSync(f3).size, end37, 'cut exactly after record 37, padding and all later records gone');
  assert.ok(io.datasyncs >= 1, 'the cut is fsynced');
  assert.deepEqual(zxids(dir), range(1, 37));
  // Earlier files are untouched.
  assert.equal(fs.statSync(path.join(dir, 'log.1')).size, 16 + 16 * 1024);
});

test('truncateLog at file boundaries, before the first txn and past the last', async () => {
  // The last txn of a file: the next file goes whole, this one only loses its padding.
  let dir = await fourFiles();
  let res = await truncateLog(dir, 30, { logger: quiet });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.10']);
  assert.equal(res.cut?.at, fs.statSync(path.join(dir, 'log.10')).size);
  assert.deepEqual(zxids(dir), range(1, 30));
  // The first txn of a file: that file keeps one record.
  dir = await fourFiles();
  await truncateLog(dir, 31, { logger: quiet });
  assert.deepEqual(zxids(dir), range(1, 31));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.10', 'log.1f']);
  // Before every txn: nothing is left.
  dir = await fourFiles();
  res = await truncateLog(dir, 0, { logger: quiet });
  assert.equal(res.lastZxid, -1);
  assert.deepEqual(fs.readdirSync(dir), []);
  // At or past the last txn: nothing is lost.
  dir = await fourFiles();
  res = await truncateLog(dir, 99, { logger: quiet });
  assert.deepEqual(res.deleted, []);
  assert.equal(res.lastZxid, 60);
  assert.deepEqual(zxids(dir), range(1, 60));
  // No log at all is an error naming the directory (Apache: "No log files found to truncate").
  const empty = tmpDir();
  await assert.rejects(truncateLog(empty, 5, { logger: quiet }), (e: Error & { code?: string }) => e.code === 'ENOLOG' && e.message.includes(empty));
});

test('a zxid in a gap (or an epoch change) keeps nothing after it', async () => {
  const dir = tmpDir();
  const e1 = 0x100000000;
  const txns = [...chainTxns(5), ...chainTxns(3, 10), ...chainTxns(3, e1 + 1)];
  await writeLogFiles(dir, txns, 4);
  await truncateLog(dir, 7, { logger: quiet });
  assert.deepEqual(zxids(dir), [1, 2, 3, 4, 5]);
  const dir2 = tmpDir();
  await writeLogFiles(dir2, txns, 4);
  await truncateLog(dir2, 12, { logger: quiet });
  assert.deepEqual(zxids(dir2), [1, 2, 3, 4, 5, 10, 11, 12]);
});

/** The TxnLog contract around truncation, for the file log and its in-memory twin alike. */
async function truncateContract(log: TxnLog, reopen: () => Promise<number[]>): Promise<void> {
  const txns = chainTxns(40);
  await log.append(txns.slice(0, 10));
  log.roll();
  await log.append(txns.slice(10, 25));
  log.roll();
  await log.append(txns.slice(25, 40));
  assert.equal(await log.getLastLoggedZxid(), 40);
  const inFlight = log.append(chainTxns(1, 41));
  const cut = log.truncate(17);
  // Appends issued before truncate finish first; appends issued during it are refused.
  await assert.rejects(log.append(chainTxns(1, 42)), /truncated/);
  await inFlight;
  await cut;
  assert.equal(await log.getLastLoggedZxid(), 17);
  assert.deepEqual((await collectAsync(log.readTxnsAfter(10))).map((t) => t.hdr.zxid), range(11, 17));
  // The history goes on from 17 (another leader's 18..).
  const next = chainTxns(3, 18).map((t) => ({ ...t, body: { ...t.body, data: Buffer.from('new') } }) as typeof t);
  await log.append(next);
  assert.equal(await log.getLastLoggedZxid(), 20);
  const after = await collectAsync(log.readTxnsAfter(16));
  assert.deepEqual(after.map((t) => t.hdr.zxid), range(17, 20));
  assert.equal((after[1]!.body as { data: Buffer }).data.toString(), 'new');
  await log.close();
  assert.deepEqual(await reopen(), range(1, 20));
}

test('FileTxnLog.truncate: in-flight appends land first, the next append starts a new file, the log reads back', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 16, forceSync: true, logger: quiet });
  await truncateContract(log, async () => zxids(dir));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['log.1', 'log.12', 'log.b']);
});

test('MemoryTxnLog.truncate keeps the same contract', async () => {
  const log = new MemoryTxnLog();
  await truncateContract(log, async () => log.txns.map((t) => t.hdr.zxid));
  assert.deepEqual(log.segments.map((s) => s.firstZxid), [1, 11, 18]);
});

test('truncateTo + loadDatabase: the database is the state at the zxid, snapshots after it go, and the history continues', async () => {
  const dataDir = tmpDir();
  const settings = storageSettings(defaultConfig({ dataDir, dataLogDir: dataDir, preAllocSizeKb: 16 }));
  const txns = chainTxns(60);
  const r = await recover(settings, { logger: quiet });
  const reference = new ZkDatabase();
  for (let i = 0; i < txns.length; i++) {
    await r.log.append([txns[i]!]);
    r.db.applyTxn(txns[i]!);
    if (i < 37) reference.applyTxn(txns[i]!);
    if ((i + 1) % 15 === 0) r.log.roll();
    if (i + 1 === 40) await r.snapshotter.snapshotNow(r.db); // snapshot.28, after the TRUNC point
  }
  await r.snapshotter.close();
  await r.log.close();
  const v2 = settings.snapDir;
  assert.ok(fs.existsSync(path.join(v2, 'snapshot.28')));

  const rep = await truncateTo(settings, 37, { logger: quiet });
  assert.deepEqual(rep.removedSnapshots, [path.join(v2, 'snapshot.28')]);
  assert.equal(rep.log.lastZxid, 37);
  const { db, report } = loadDatabase(settings, { logger: quiet });
  assert.equal(db.lastProcessedZxid, 37);
  assert.equal(report.snapshot, path.join(v2, 'snapshot.0'));
  assert.deepEqual(treeImage(db), treeImage(reference));

  // The learner then opens the storage and logs what its leader sends next.
  await repairStorage(settings, { logger: quiet });
  const opened = await openStorage(settings, db, { logger: quiet, loaded: report });
  assert.equal(await opened.log.getLastLoggedZxid(), 37);
  const t38 = chainTxns(1, 38)[0]!;
  await opened.log.append([t38]);
  db.applyTxn(t38);
  await opened.snapshotter.close();
  await opened.log.close();
  const again = await recover(settings, { logger: quiet });
  assert.equal(again.db.lastProcessedZxid, 38);
  assert.ok(!again.db.tree.get('/n39'));
  assert.deepEqual(treeImage(again.db), treeImage(db));
  await again.log.close();
});

test('truncateTo refuses, changing nothing, when every snapshot is newer than the zxid', async () => {
  const dataDir = tmpDir();
  const settings = storageSettings(defaultConfig({ dataDir, dataLogDir: dataDir, preAllocSizeKb: 16 }));
  const r = await recover(settings, { logger: quiet });
  for (const t of chainTxns(20)) {
    await r.log.append([t]);
    r.db.applyTxn(t);
  }
  await r.snapshotter.snapshotNow(r.db);
  await r.log.close();
  fs.rmSync(path.join(settings.snapDir, 'snapshot.0'));
  const before = fs.readdirSync(settings.snapDir).sort().map((f) => [f, fs.statSync(path.join(settings.snapDir, f)).size]);
  await assert.rejects(truncateTo(settings, 10, { logger: quiet }), (e: Error & { code?: string }) => e.code === 'ENOSNAPSHOT' && /snapshot\.14/.test(e.message));
  assert.deepEqual(fs.readdirSync(settings.snapDir).sort().map((f) => [f, fs.statSync(path.join(settings.snapDir, f)).size]), before);
  assert.deepEqual(zxids(settings.logDir), range(1, 20));
  void plain;
});
