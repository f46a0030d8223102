import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig, type ServerConfig } from '../../src/config/ServerConfig.js';
import type { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { recover, type StorageSettings } from '../../src/storage/Recovery.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { readLogFile } from '../../src/storage/TxnLogReader.js';
import { purge } from '../../src/storage/Purge.js';
import { serializeSnapshotSync } from '../../src/storage/Snapshot.js';
import { writeSnapshotFile } from '../../src/storage/FileSnapshotStore.js';
import { CURRENT_EPOCH_FILE, ACCEPTED_EPOCH_FILE, loadEpochs, readEpochFile, writeEpochFile } from '../../src/storage/EpochFiles.js';
import {
  RecordingLogger, VECTOR_DIR, copyVectorDataDir, createSessionTxn, createTxn, setDataTxn, tmpDir,
} from './helpers.js';

const expected = JSON.parse(fs.readFileSync(path.join(VECTOR_DIR, 'expected-tree.json'), 'utf8'));

function config(dataDir: string, extra: Partial<ServerConfig> = {}, overrides: Partial<StorageSettings> = {}): StorageSettings {
  return storageSettings(defaultConfig({ dataDir, dataLogDir: dataDir, preAllocSizeKb: 64, ...extra }), overrides);
}

function assertExpectedTree(db: ZkDatabase): void {
  const seen: string[] = [];
  for (const [p, want] of Object.entries<any>(expected.nodes)) {
    const node = db.tree.get(p);
    assert.ok(node, `missing ${p}`);
    assert.equal(node.data === null ? null : node.data.toString('hex'), want.dataHex, `data of ${p}`);
    assert.deepEqual({ ...node.stat(), ephemeralOwner: Number(node.stat().ephemeralOwner) }, want.stat, `stat of ${p}`);
    assert.deepEqual(db.tree.aclOf(node).map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id })), want.acl, `acl of ${p}`);
    seen.push(p);
  }
  let count = 0;
  db.tree.walk(() => void count++);
  assert.equal(count, seen.length, 'no extra nodes');
}

test('the data directory written by ZooKeeper 3.8.0 recovers to the tree ZooKeeper serves', async () => {
  const dataDir = copyVectorDataDir();
  const logger = new RecordingLogger();
  const { db, log, report } = await recover(config(dataDir), { logger });
  assert.equal(db.lastProcessedZxid, expected.lastZxidInt);
  assert.equal(report.snapshot, path.join(dataDir, 'version-2', 'snapshot.31'));
  assert.equal(report.replayedTxns, 3);
  assertExpectedTree(db);
  // The open session survives (its ephemerals stay until it expires); closed ones are gone.
  assert.deepEqual([...db.sessions], [[0x1000067b4530000n, 40000]]);
  assert.deepEqual(report.orphanEphemerals, []);
  assert.equal(report.startupSnapshot, path.join(dataDir, 'version-2', 'snapshot.34'));
  await log.close();
});

test('a quorum member snapshots only a new directory at start, never its replayed log tail (it may have to truncate it)', async () => {
  const dataDir = copyVectorDataDir();
  const before = fs.readdirSync(path.join(dataDir, 'version-2')).filter((f) => f.startsWith('snapshot.')).sort();
  const { db, log, report } = await recover(config(dataDir, {}, { quorumMember: true }));
  assert.equal(report.replayedTxns, 3, 'txns after the newest snapshot were replayed');
  assert.equal(report.startupSnapshot, null);
  assert.deepEqual(fs.readdirSync(path.join(dataDir, 'version-2')).filter((f) => f.startsWith('snapshot.')).sort(), before);
  assertExpectedTree(db);
  await log.close();
  const fresh = tmpDir();
  const first = await recover(config(fresh, {}, { quorumMember: true }));
  assert.equal(first.report.startupSnapshot, path.join(fresh, 'version-2', 'snapshot.0'), 'a new member starts from snapshot.0');
  await first.log.close();
  // A quorum zoo.cfg (standalone false) sets it.
  assert.equal(storageSettings(defaultConfig({ dataDir: fresh, standalone: false })).quorumMember, true);
  assert.equal(storageSettings(defaultConfig({ dataDir: fresh })).quorumMember, false);
});

test('a corrupt newest snapshot falls back to an older one plus the logs', async () => {
  const dataDir = copyVectorDataDir();
  const v2 = path.join(dataDir, 'version-2');
  for (const n of ['snapshot.31', 'snapshot.28']) {
    const b = fs.readFileSync(path.join(v2, n));
    b[b.length >> 1]! ^= 0x5a;
    fs.writeFileSync(path.join(v2, n), b);
  }
  const logger = new RecordingLogger();
  const { db, log, report } = await recover(config(dataDir), { logger });
  assert.equal(report.snapshot, path.join(v2, 'snapshot.1e'));
  assert.ok(logger.warnings.some((w) => w.includes('snapshot.31')) && logger.warnings.some((w) => w.includes('snapshot.28')));
  assertExpectedTree(db);
  await log.close();
});

test('new directory: snapshot.0 is written, writes survive a restart, sessions included', async () => {
  const dataDir = path.join(tmpDir(), 'data'); // does not exist yet
  const logger = new RecordingLogger();
  let r = await recover(config(dataDir), { logger });
  assert.deepEqual(fs.readdirSync(path.join(dataDir, 'version-2')).sort(), ['acceptedEpoch', 'currentEpoch', 'snapshot.0']);
  const txns = [createSessionTxn(1, 0x99n, 12000), createTxn(2, '/a', 'A', 1), createTxn(3, '/a/e', 'E', 1, true), setDataTxn(4, '/a', 'A2', 1)];
  txns[2]!.hdr.clientId = 0x99n;
  for (const t of txns) {
    await r.log.append([t]);
    r.db.applyTxn(t);
  }
  await r.log.close();
  r = await recover(config(dataDir), { logger });
  assert.equal(r.db.lastProcessedZxid, 4);
  assert.equal(r.db.tree.get('/a')!.data!.toString(), 'A2');
  assert.equal(r.db.tree.get('/a')!.version, 1);
  assert.ok(r.db.tree.get('/a/e'), 'ephemeral of a live session is kept');
  assert.equal(r.db.sessions.get(0x99n), 12000);
  assert.equal(r.report.replayedTxns, 4);
  await r.log.close();
});

test('torn tail: recovery keeps the complete txns, truncates the tail, and the next append lands in a new file', async () => {
  const dataDir = tmpDir();
  const r0 = await recover(config(dataDir), { logger: new RecordingLogger() });
  for (let i = 1; i <= 5; i++) {
    const t = createTxn(i, `/n${i}`, 'x'.repeat(i * 10), i);
    await r0.log.append([t]);
    r0.db.applyTxn(t);
  }
  await r0.log.close();
  const logPath = path.join(dataDir, 'version-2', 'log.1');
  const it = readLogFile(logPath, { logger: new RecordingLogger() });
  const offsets: number[] = [];
  for (let x = it.next(); !x.done; x = it.next()) offsets.push(x.value.offset);
  const pristine = fs.readFileSync(logPath);
  const lastStart = offsets[4]!;
  // Cut inside the last record at a few representative points (every offset is covered in TxnLog.test).
  for (const at of [lastStart + 1, lastStart + 12, lastStart + 40, lastStart + 13 + 60]) {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'version-2'));
    fs.copyFileSync(path.join(dataDir, 'version-2', 'snapshot.0'), path.join(dir, 'version-2', 'snapshot.0'));
    fs.writeFileSync(path.join(dir, 'version-2', 'log.1'), pristine.subarray(0, at));
    const logger = new RecordingLogger();
    const r = await recover(config(dir), { logger });
    assert.equal(r.db.lastProcessedZxid, 4, `cut at ${at}`);
    assert.ok(!r.db.tree.get('/n5'));
    assert.deepEqual(r.report.truncated, [{ path: path.join(dir, 'version-2', 'log.1'), at: lastStart }]);
    assert.equal(fs.statSync(path.join(dir, 'version-2', 'log.1')).size, lastStart);
    const t5 = createTxn(5, '/n5', 'again', 5);
    await r.log.append([t5]);
    r.db.applyTxn(t5);
    await r.log.close();
    const again = await recover(config(dir), { logger });
    assert.equal(again.db.tree.get('/n5')!.data!.toString(), 'again');
    await again.log.close();
  }
});

test('a log file holding only a header (crash right after creating it) is removed so its name can be reused', async () => {
  const dataDir = tmpDir();
  const r0 = await recover(config(dataDir), { logger: new RecordingLogger() });
  await r0.log.close();
  const stray = path.join(dataDir, 'version-2', 'log.1');
  fs.writeFileSync(stray, Buffer.concat([Buffer.from('5a4b4c470000000200000000000000', 'hex'), Buffer.alloc(1)]));
  const r = await recover(config(dataDir), { logger: new RecordingLogger() });
  assert.deepEqual(r.report.removedEmptyLogs, [stray]);
  await r.log.append([createTxn(1, '/x', 'y', 1)]);
  await r.log.close();
  assert.ok(fs.existsSync(stray));
});

test('ephemerals of sessions missing from the session map are reported after load, not deleted', async () => {
  const dataDir = tmpDir();
  const r0 = await recover(config(dataDir), { logger: new RecordingLogger() });
  // An ephemeral whose owner never had a createSession txn (e.g. the session closed in a
  // part of history only the snapshot saw).
  const t = createTxn(1, '/ghost', 'g', 1, true);
  t.hdr.clientId = 0x1234n;
  await r0.log.append([t]);
  await r0.log.close();
  const r = await recover(config(dataDir), { logger: new RecordingLogger() });
  assert.deepEqual(r.report.orphanSessions, [0x1234n]);
  assert.deepEqual(r.report.orphanEphemerals, ['/ghost']);
  // Deleting them here would be a change no other replica sees: the server logs a closeSession.
  assert.ok(r.db.tree.get('/ghost'));
  await r.log.close();
});

test('startup errors name the directory or file and the problem', async () => {
  const base = tmpDir();
  const notDir = path.join(base, 'file');
  fs.writeFileSync(notDir, 'x');
  await assert.rejects(recover(config(notDir)), (e: Error) => e.message.includes(notDir) && /not a directory/.test(e.message));
  // Missing directories are created by default (zookeeper.datadir.autocreate).
  const created = await recover(config(path.join(base, 'nope')), { logger: new RecordingLogger() });
  assert.ok(fs.existsSync(path.join(base, 'nope', 'version-2', 'snapshot.0')));
  await created.log.close();
  await assert.rejects(recover(config(path.join(base, 'nope2'), {}, { autocreate: false })), (e: Error) => e.message.includes('nope2') && /does not exist/.test(e.message));
  // A log that is not a log.
  const d = tmpDir();
  fs.mkdirSync(path.join(d, 'version-2'));
  fs.writeFileSync(path.join(d, 'version-2', 'log.1'), Buffer.alloc(100, 7));
  await assert.rejects(recover(config(d), { logger: new RecordingLogger() }), (e: Error) => e.message.includes('log.1') && /ZKLG/.test(e.message));
  // Snapshot files present but none valid.
  const s = tmpDir();
  fs.mkdirSync(path.join(s, 'version-2'));
  fs.writeFileSync(path.join(s, 'version-2', 'snapshot.9'), Buffer.alloc(50, 1));
  await assert.rejects(recover(config(s), { logger: new RecordingLogger() }), (e: Error) => e.message.includes('snapshot.9') && /valid snapshots/.test(e.message));
  // dataLogDir holding snapshots.
  const a = tmpDir(), b = tmpDir();
  fs.mkdirSync(path.join(b, 'version-2'));
  fs.copyFileSync(path.join(VECTOR_DIR, 'data', 'version-2', 'snapshot.0'), path.join(b, 'version-2', 'snapshot.0'));
  await assert.rejects(recover(config(a, { dataLogDir: b }), { logger: new RecordingLogger() }), /contains snapshot files/);
});

test('snapshotter: randomised trigger rolls the log and writes a snapshot recovery can use', async () => {
  const dataDir = tmpDir();
  const logger = new RecordingLogger();
  // random() = 0 -> threshold snapCount/2 = 5: the 6th txn triggers.
  const r = await recover(config(dataDir, { snapCount: 10 }), { logger, random: () => 0 });
  assert.equal(r.snapshotter.threshold, 5);
  for (let i = 1; i <= 14; i++) {
    const t = createTxn(i, `/s${i}`, String(i), i);
    await r.log.append([t]);
    r.db.applyTxn(t);
    r.snapshotter.afterApply(r.db);
    await r.snapshotter.idle();
  }
  await r.log.close();
  const v2 = path.join(dataDir, 'version-2');
  const names = fs.readdirSync(v2).sort();
  assert.deepEqual(names.filter((n) => n.startsWith('snapshot')), ['snapshot.0', 'snapshot.6', 'snapshot.c']);
  assert.deepEqual(names.filter((n) => n.startsWith('log')), ['log.1', 'log.7', 'log.d']);
  const again = await recover(config(dataDir), { logger });
  assert.equal(again.report.snapshot, path.join(v2, 'snapshot.c'));
  assert.equal(again.report.replayedTxns, 2);
  assert.equal(again.db.tree.get('/s14')!.data!.toString(), '14');
  await again.log.close();
  // With random() near 1 the threshold approaches snapCount.
  const r2 = await recover(config(tmpDir(), { snapCount: 10 }), { logger, random: () => 0.99 });
  assert.equal(r2.snapshotter.threshold, 9);
  await r2.log.close();
});

test('purge keeps the newest N valid snapshots and the logs needed from the oldest of them', async () => {
  const dir = tmpDir();
  const r = await recover(config(dir), { logger: new RecordingLogger() });
  await r.log.close();
  const v2 = path.join(dir, 'version-2');
  for (const z of [0x5, 0xa, 0xf, 0x14]) {
    r.db.lastProcessedZxid = z;
    await writeSnapshotFile(v2, serializeSnapshotSync(r.db));
  }
  fs.writeFileSync(path.join(v2, 'snapshot.20'), 'torn'); // invalid: not counted, newer so not deleted
  for (const z of [0x1, 0x3, 0x6, 0xb, 0x10, 0x15]) fs.writeFileSync(path.join(v2, `log.${z.toString(16)}`), 'x');
  fs.writeFileSync(path.join(v2, 'acceptedEpoch'), '0');
  const deleted = (await purge(v2, v2, 3, new RecordingLogger())).map((p) => path.basename(p)).sort();
  assert.deepEqual(deleted, ['log.1', 'log.3', 'snapshot.0', 'snapshot.5']);
  assert.deepEqual(fs.readdirSync(v2).sort(), ['acceptedEpoch', 'currentEpoch', 'log.10', 'log.15', 'log.6', 'log.b', 'snapshot.14', 'snapshot.20', 'snapshot.a', 'snapshot.f']);
  // Retain counts below 3 are raised to 3.
  assert.deepEqual(await purge(v2, v2, 1, new RecordingLogger()), []);
});

test('epoch files: decimal text without newline, atomic replace, startup checks', async () => {
  const dir = tmpDir();
  assert.equal(readEpochFile(dir, CURRENT_EPOCH_FILE), null);
  await writeEpochFile(dir, CURRENT_EPOCH_FILE, 7);
  assert.equal(fs.readFileSync(path.join(dir, CURRENT_EPOCH_FILE), 'utf8'), '7');
  assert.equal(readEpochFile(dir, CURRENT_EPOCH_FILE), 7);
  assert.ok(!fs.existsSync(path.join(dir, CURRENT_EPOCH_FILE + '.tmp')));
  // Missing acceptedEpoch is created from the last zxid's epoch.
  assert.deepEqual(await loadEpochs(dir, 7 * 2 ** 32 + 5), { currentEpoch: 7, acceptedEpoch: 7 });
  assert.equal(fs.readFileSync(path.join(dir, ACCEPTED_EPOCH_FILE), 'utf8'), '7');
  // Log ahead of currentEpoch without a .tmp to adopt: refuse, naming the file.
  await assert.rejects(loadEpochs(dir, 9 * 2 ** 32), (e: Error) => e.message.includes(CURRENT_EPOCH_FILE) && /older/.test(e.message));
  fs.writeFileSync(path.join(dir, CURRENT_EPOCH_FILE + '.tmp'), '9');
  await writeEpochFile(dir, ACCEPTED_EPOCH_FILE, 9);
  assert.deepEqual(await loadEpochs(dir, 9 * 2 ** 32), { currentEpoch: 9, acceptedEpoch: 9 });
  await writeEpochFile(dir, ACCEPTED_EPOCH_FILE, 8);
  await assert.rejects(loadEpochs(dir, 9 * 2 ** 32), /accepted epoch 8 is less than the current epoch 9/);
  fs.writeFileSync(path.join(dir, ACCEPTED_EPOCH_FILE), 'garbage');
  assert.throws(() => readEpochFile(dir, ACCEPTED_EPOCH_FILE), (e: Error) => e.message.includes(ACCEPTED_EPOCH_FILE));
});

test('a snapshot write failure is reported and does not disturb the log', async () => {
  const dataDir = tmpDir();
  const logger = new RecordingLogger();
  const r = await recover(config(dataDir, { snapCount: 2 }), { logger, random: () => 0 });
  // Make the snapshot temp path a directory so opening it fails even as root.
  fs.mkdirSync(path.join(dataDir, 'version-2', 'snapshot.2.tmp'));
  for (let i = 1; i <= 2; i++) {
    const t = createTxn(i, `/z${i}`, 'z', i);
    await r.log.append([t]);
    r.db.applyTxn(t);
    r.snapshotter.afterApply(r.db);
  }
  await r.snapshotter.idle();
  assert.match(r.snapshotter.lastError!.message, /snapshot\.2\.tmp/);
  assert.ok(logger.warnings.some((w) => /background snapshot failed/.test(w)));
  await r.log.append([createTxn(3, '/z3', 'z', 3)]);
  await r.log.close();
});

test('separate dataLogDir: logs and snapshots each go to their own version-2, and recover from there', async () => {
  const dataDir = tmpDir(), logDirBase = tmpDir();
  const cfg = config(dataDir, { dataLogDir: logDirBase });
  const r = await recover(cfg, { logger: new RecordingLogger() });
  const t = createTxn(1, '/sep', 'x', 1);
  await r.log.append([t]);
  r.db.applyTxn(t);
  await r.log.close();
  // Epoch files live with the snapshots.
  assert.deepEqual(fs.readdirSync(path.join(dataDir, 'version-2')).sort(), ['acceptedEpoch', 'currentEpoch', 'snapshot.0']);
  assert.deepEqual(fs.readdirSync(path.join(logDirBase, 'version-2')), ['log.1']);
  const again = await recover(cfg, { logger: new RecordingLogger() });
  assert.equal(again.db.tree.get('/sep')!.data!.toString(), 'x');
  await again.log.close();
  assert.deepEqual(fs.readdirSync(path.join(dataDir, 'version-2')).sort(), ['acceptedEpoch', 'currentEpoch', 'snapshot.0', 'snapshot.1']);
});

test('autopurge runs at startup when purgeInterval > 0 and stops with the snapshotter', async () => {
  const dataDir = tmpDir();
  const logger = new RecordingLogger();
  // Six restarts, each after one more write: each recovery leaves one more snapshot.
  for (let i = 1; i <= 6; i++) {
    const r = await recover(config(dataDir), { logger });
    const t = createTxn(i, `/p${i}`, 'x', i);
    await r.log.append([t]);
    r.db.applyTxn(t);
    await r.log.close();
  }
  const v2 = path.join(dataDir, 'version-2');
  assert.equal(fs.readdirSync(v2).filter((f) => f.startsWith('snapshot.')).length, 6);
  const r = await recover(config(dataDir, { autopurgePurgeInterval: 1, autopurgeSnapRetainCount: 3 }), { logger });
  const snaps = fs.readdirSync(v2).filter((f) => f.startsWith('snapshot.')).sort();
  // Snapshots 4, 5 and the startup one (6) remain; logs before log.4 are gone.
  assert.deepEqual(snaps, ['snapshot.4', 'snapshot.5', 'snapshot.6']);
  assert.deepEqual(fs.readdirSync(v2).filter((f) => f.startsWith('log.')).sort(), ['log.4', 'log.5', 'log.6']);
  assert.equal(r.db.lastProcessedZxid, 6);
  await r.snapshotter.close();
  await r.log.close();
});
