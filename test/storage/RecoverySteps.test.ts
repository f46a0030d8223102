// The recovery steps on their own: load changes no file, repair fixes what a crash leaves,
// open writes the epoch files (atomically) and starts the writer; recover() does all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig, type ServerConfig } from '../../src/config/ServerConfig.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { loadDatabase, openStorage, recover, repairStorage, type StorageSettings } from '../../src/storage/Recovery.js';
import { ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE, writeEpochFile } from '../../src/storage/EpochFiles.js';
import { encodeLogFileHeader } from '../../src/storage/TxnLog.js';
import { readLogs } from '../../src/storage/TxnLogReader.js';
import { FaultyIO, RecordingLogger, chainTxns, createTxn, tmpDir, treeImage } from './helpers.js';

const quiet = new RecordingLogger();

function settingsFor(dataDir: string, extra: Partial<ServerConfig> = {}): StorageSettings {
  return storageSettings(defaultConfig({ dataDir, dataLogDir: dataDir, preAllocSizeKb: 16, ...extra }));
}

/** Name, size, mtime and content hash of every file: what "unchanged" means. */
function dirState(dir: string): string[] {
  return fs.readdirSync(dir).sort().map((f) => {
    const p = path.join(dir, f);
    const st = fs.statSync(p);
    return `${f} ${st.size} ${st.mtimeMs} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
  });
}

/** A directory as a crash leaves it: torn last record, an empty newer log, a half-written snapshot. */
async function crashedDir(): Promise<{ settings: StorageSettings; v2: string }> {
  const dataDir = tmpDir();
  const settings = settingsFor(dataDir);
  const r = await recover(settings, { logger: quiet });
  for (const t of chainTxns(12)) {
    await r.log.append([t]);
    r.db.applyTxn(t);
  }
  await r.log.close();
  const v2 = settings.snapDir;
  const log1 = path.join(v2, 'log.1');
  const bytes = fs.readFileSync(log1);
  const end = bytes.indexOf(Buffer.alloc(64), 16);
  fs.writeFileSync(log1, Buffer.concat([bytes.subarray(0, end - 10), Buffer.alloc(500)])); // record 12 torn, zeros after
  fs.writeFileSync(path.join(v2, 'log.c'), encodeLogFileHeader());
  fs.writeFileSync(path.join(v2, 'snapshot.b.tmp'), Buffer.alloc(100, 1));
  return { settings, v2 };
}

test('loadDatabase reads and changes nothing; repairStorage then fixes the tail, the empty log and the temporary', async () => {
  const { settings, v2 } = await crashedDir();
  const before = dirState(v2);
  const { db, report } = loadDatabase(settings, { logger: quiet });
  assert.equal(db.lastProcessedZxid, 11);
  assert.equal(report.replayedTxns, 11);
  assert.equal(report.logFiles.at(-1)!.records, 0);
  assert.deepEqual(dirState(v2), before, 'load touched no file');

  const io = new FaultyIO();
  // What the load saw of each log file stands in for reading them again (sizes unchanged).
  const rep = await repairStorage(settings, { logger: quiet, io, known: report.logFiles });
  assert.equal(rep.lastLoggedZxid, 11);
  assert.deepEqual(rep.removedEmptyLogs, [path.join(v2, 'log.c')]);
  assert.deepEqual(rep.removedTemporaries, [path.join(v2, 'snapshot.b.tmp')]);
  assert.equal(rep.truncated.length, 1);
  assert.equal(rep.truncated[0]!.path, path.join(v2, 'log.1'));
  assert.equal(fs.statSync(path.join(v2, 'log.1')).size, rep.truncated[0]!.at);
  assert.ok(io.datasyncs >= 1, 'the cut is fsynced');
  // Repair is idempotent.
  assert.deepEqual(await repairStorage(settings, { logger: quiet }), { truncated: [], removedEmptyLogs: [], removedTemporaries: [], lastLoggedZxid: 11 });
  // A file that changed size since the load is read again, not taken from what the load saw.
  const log1 = path.join(v2, 'log.1');
  const stale = report.logFiles.map((f) => (f.path === log1 ? { ...f, lastZxid: 999 } : f));
  assert.equal((await repairStorage(settings, { logger: quiet, known: stale })).lastLoggedZxid, 11);

  const opened = await openStorage(settings, db, { logger: quiet, loaded: report });
  assert.equal(await opened.log.getLastLoggedZxid(), 11);
  const t12 = createTxn(12, '/again', 'x', 12);
  await opened.log.append([t12]);
  db.applyTxn(t12);
  await opened.snapshotter.close();
  await opened.log.close();
  assert.deepEqual([...readLogs(settings.logDir, 1, { logger: quiet })].map((t) => t.hdr.zxid), chainTxns(12).map((t) => t.hdr.zxid));
  const again = loadDatabase(settings, { logger: quiet });
  assert.deepEqual(treeImage(again.db), treeImage(db));
});

test('loadDatabase on a missing directory fails without creating it', () => {
  const dataDir = path.join(tmpDir(), 'absent');
  assert.throws(() => loadDatabase(settingsFor(dataDir), { logger: quiet }), (e: Error) => e.message.includes(dataDir) && /ENOENT/.test(e.message));
  assert.equal(fs.existsSync(dataDir), false);
});

test('epoch files: created from the last zxid when missing, kept when present, checked, exposed in the result', async () => {
  const dataDir = tmpDir();
  const settings = settingsFor(dataDir);
  const v2 = settings.snapDir;
  const r0 = await recover(settings, { logger: quiet });
  assert.deepEqual(r0.report.epochs, { currentEpoch: 0, acceptedEpoch: 0 });
  // Txns of epoch 3 (as a quorum member would have logged them).
  const e3 = 3 * 2 ** 32;
  for (const t of chainTxns(4)) {
    t.hdr.zxid += e3;
    await r0.log.append([t]);
  }
  await r0.log.close();
  fs.rmSync(path.join(v2, CURRENT_EPOCH_FILE));
  fs.rmSync(path.join(v2, ACCEPTED_EPOCH_FILE));
  const r1 = await recover(settings, { logger: quiet });
  assert.equal(r1.db.lastProcessedZxid, e3 + 4);
  assert.deepEqual(r1.report.epochs, { currentEpoch: 3, acceptedEpoch: 3 });
  assert.equal(fs.readFileSync(path.join(v2, CURRENT_EPOCH_FILE), 'utf8'), '3');
  assert.equal(fs.readFileSync(path.join(v2, ACCEPTED_EPOCH_FILE), 'utf8'), '3');
  assert.ok(!fs.readdirSync(v2).some((f) => f.endsWith('.tmp')));
  await r1.log.close();
  // Present files are read, not rewritten: an accepted epoch ahead of the current one is normal.
  await writeEpochFile(v2, ACCEPTED_EPOCH_FILE, 4);
  const r2 = await recover(settings, { logger: quiet });
  assert.deepEqual(r2.report.epochs, { currentEpoch: 3, acceptedEpoch: 4 });
  await r2.log.close();
  // A current epoch older than the log's, with no .tmp to adopt: refuse to start.
  fs.writeFileSync(path.join(v2, CURRENT_EPOCH_FILE), '2');
  await assert.rejects(recover(settings, { logger: quiet }), (e: Error) => e.message.includes(CURRENT_EPOCH_FILE) && /older than the last zxid/.test(e.message));
  // Crash between writing currentEpoch.tmp and renaming it: the .tmp is adopted.
  fs.writeFileSync(path.join(v2, CURRENT_EPOCH_FILE + '.tmp'), '3');
  const r3 = await recover(settings, { logger: quiet });
  assert.deepEqual(r3.report.epochs, { currentEpoch: 3, acceptedEpoch: 4 });
  assert.equal(fs.readFileSync(path.join(v2, CURRENT_EPOCH_FILE), 'utf8'), '3');
  await r3.log.close();
});

test('writeEpochFile is atomic: fsynced temporary, rename, directory fsync; a failed write leaves the old value', async () => {
  const dir = tmpDir();
  const io = new FaultyIO();
  await writeEpochFile(dir, CURRENT_EPOCH_FILE, 5, io);
  assert.equal(io.datasyncs, 1);
  assert.equal(fs.readFileSync(path.join(dir, CURRENT_EPOCH_FILE), 'utf8'), '5');
  io.failDatasyncWith = 'EIO';
  await assert.rejects(writeEpochFile(dir, CURRENT_EPOCH_FILE, 6, io), /EIO/);
  assert.equal(fs.readFileSync(path.join(dir, CURRENT_EPOCH_FILE), 'utf8'), '5');
});
