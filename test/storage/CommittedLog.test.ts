// The in-memory window of committed txns (ZKDatabase.committedLog) a leader DIFFs learners from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { CommittedLog, DEFAULT_COMMIT_LOG_COUNT } from '../../src/tree/CommittedLog.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { recover } from '../../src/storage/Recovery.js';
import { RecordingLogger, chainTxns, tmpDir } from './helpers.js';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

test('window: Apache keeps up to commitLogCount + 1 txns; min/max follow; values below 500 are raised', () => {
  assert.equal(new CommittedLog(10).capacity, DEFAULT_COMMIT_LOG_COUNT);
  const w = new CommittedLog(600);
  assert.equal(w.capacity, 600);
  assert.deepEqual([w.size, w.minZxid, w.maxZxid], [0, 0, 0]);
  assert.equal(w.txnsAfter(0), null, 'an empty window covers nothing');
  for (const t of chainTxns(1000)) w.add(t);
  assert.equal(w.size, 601);
  assert.deepEqual([w.minZxid, w.maxZxid], [400, 1000]);
  w.clear();
  assert.deepEqual([w.size, w.minZxid, w.maxZxid], [0, 0, 0]);
});

test('txnsAfter: exactly the txns after z when the window reaches back to z, null otherwise', () => {
  const w = new CommittedLog(500);
  const e1 = 0x100000000;
  // A gap (zxids 6..9 never committed here) and an epoch change inside the window.
  for (const t of [...chainTxns(5), ...chainTxns(495, 10), ...chainTxns(3, e1 + 1)]) w.add(t);
  assert.equal(w.size, 501);
  assert.equal(w.minZxid, 3);
  assert.equal(w.txnsAfter(2), null, 'below the window');
  assert.equal(w.txnsAfter(e1 + 4), null, 'beyond the window');
  assert.deepEqual(w.txnsAfter(3)!.map((t) => t.hdr.zxid).slice(0, 4), [4, 5, 10, 11]);
  assert.deepEqual(w.txnsAfter(504)!.map((t) => t.hdr.zxid), [e1 + 1, e1 + 2, e1 + 3]);
  assert.deepEqual(w.txnsAfter(e1 + 3), []);
  // A peer at 7 has a txn this server never committed: the window still answers; has() tells.
  assert.deepEqual(w.txnsAfter(7)!.map((t) => t.hdr.zxid).slice(0, 2), [10, 11]);
  assert.equal(w.has(7), false);
  assert.equal(w.has(5), true);
  assert.equal(w.has(e1 + 2), true);
  assert.equal(w.has(2), false);
});

test('ZkDatabase fills the window on apply and at load (commitLogCount from zoo.cfg)', async () => {
  const db = new ZkDatabase();
  for (const t of chainTxns(3)) db.applyTxn(t);
  assert.deepEqual(db.committedLog.txnsAfter(1)!.map((t) => t.hdr.zxid), [2, 3]);

  const dataDir = tmpDir();
  const config = defaultConfig({ dataDir, dataLogDir: dataDir, preAllocSizeKb: 64 });
  config.systemProperties = new Map([['zookeeper.commitLogCount', '600']]);
  const settings = storageSettings(config);
  assert.equal(settings.commitLogCount, 600);
  const r = await recover(settings, { logger: new RecordingLogger() });
  assert.equal(r.db.committedLog.size, 0, 'nothing replayed on a new directory');
  for (const t of chainTxns(700)) {
    await r.log.append([t]);
    r.db.applyTxn(t);
  }
  assert.equal(r.db.committedLog.capacity, 600);
  await r.log.close();
  // Replay refills it: the last 601 txns of the log.
  const again = await recover(settings, { logger: new RecordingLogger() });
  assert.equal(again.report.replayedTxns, 700);
  assert.deepEqual([again.db.committedLog.minZxid, again.db.committedLog.maxZxid, again.db.committedLog.size], [100, 700, 601]);
  assert.deepEqual(again.db.committedLog.txnsAfter(690)!.map((t) => t.hdr.zxid), range(691, 700));
  await again.log.close();
});
