// What storage does while a server is serving must not block the event loop on the disk (no
// synchronous fs call), and must not grow without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { recover } from '../../src/storage/Recovery.js';
import { purge, startAutopurge } from '../../src/storage/Purge.js';
import { writeEpochFile } from '../../src/storage/EpochFiles.js';
import { collectAsync, RecordingLogger, chainTxns, tmpDir } from './helpers.js';

const require = createRequire(import.meta.url);
const cjsFs = require('node:fs') as Record<string, unknown>;

/**
 * Runs `work` with every synchronous node:fs function wrapped, and returns the calls made from
 * compiled storage code (dist/src/storage), with the function name and the calling frame.
 */
async function syncFsCallsFromStorage(work: () => Promise<void>): Promise<string[]> {
  const calls: string[] = [];
  const saved = new Map<string, unknown>();
  for (const name of Object.keys(cjsFs)) {
    const fn = cjsFs[name];
    if (!name.endsWith('Sync') || typeof fn !== 'function') continue;
    saved.set(name, fn);
    cjsFs[name] = function (this: unknown, ...args: unknown[]) {
      const frame = (new Error().stack ?? '').split('\n').find((l) => l.includes(`${path.sep}src${path.sep}storage${path.sep}`));
      if (frame) calls.push(`${name} at ${frame.trim()}`);
      return (fn as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    for (const [name, fn] of saved) cjsFs[name] = fn;
    syncBuiltinESMExports();
  }
  return calls;
}

test('the probe sees synchronous fs calls made by storage code', async () => {
  // Startup code may block (it runs before serving): recover is the positive control.
  const calls = await syncFsCallsFromStorage(async () => {
    const r = await recover(storageSettings(defaultConfig({ dataDir: tmpDir(), preAllocSizeKb: 16 })), { logger: new RecordingLogger() });
    await r.log.close();
  });
  assert.ok(calls.some((c) => c.startsWith('readdirSync')), calls.join('\n'));
});

test('serving path: appends, rolls, background snapshots, autopurge, log reads, truncation and epoch writes use no synchronous fs call', async () => {
  const dataDir = tmpDir();
  const settings = storageSettings(defaultConfig({ dataDir, preAllocSizeKb: 16, snapCount: 10 }));
  const logger = new RecordingLogger();
  const r = await recover(settings, { logger, random: () => 0 });
  const v2 = settings.snapDir;
  // Old files for purge to find.
  for (const z of [0x1, 0x2, 0x3, 0x4]) fs.copyFileSync(path.join(v2, 'snapshot.0'), path.join(v2, `snapshot.${z}`));
  const calls = await syncFsCallsFromStorage(async () => {
    for (const t of chainTxns(40)) {
      await r.log.append([t]);
      r.db.applyTxn(t);
      r.snapshotter.afterApply(r.db);
      await r.snapshotter.idle();
    }
    assert.ok(r.snapshotter.snapshotsWritten >= 5);
    const deleted = await purge(v2, v2, 3, logger);
    assert.ok(deleted.length > 0);
    const task = startAutopurge({ snapDir: v2, logDir: v2, snapRetainCount: 3, purgeIntervalHours: 1 }, logger);
    await task!.running;
    task!.stop();
    assert.equal((await collectAsync(r.log.readTxnsAfter(30))).length, 10);
    assert.equal(await r.log.getLastLoggedZxid(), 40);
    await r.log.truncate(35);
    await writeEpochFile(v2, 'acceptedEpoch', 1);
    await r.snapshotter.close();
    await r.log.close();
  });
  assert.deepEqual(calls, []);
  assert.deepEqual(logger.warnings.filter((w) => /failed/.test(w)), []);
});

test('the snapshotter keeps no per-snapshot history: 60 snapshots later it holds what it held after one', async () => {
  const dataDir = tmpDir();
  const r = await recover(storageSettings(defaultConfig({ dataDir, preAllocSizeKb: 16 })), { logger: new RecordingLogger() });
  const sizeOf = (o: object) =>
    Object.values(o).reduce((n: number, v) => n + (Array.isArray(v) ? v.length : v instanceof Map || v instanceof Set ? v.size : 0), 0);
  await r.snapshotter.snapshotNow(r.db);
  const held = sizeOf(r.snapshotter);
  for (const t of chainTxns(60)) {
    r.db.applyTxn(t);
    await r.snapshotter.snapshotNow(r.db);
  }
  assert.equal(sizeOf(r.snapshotter), held);
  assert.equal(r.snapshotter.snapshotsWritten, 62);
  assert.equal(r.snapshotter.lastSnapshot, path.join(settings(dataDir), 'snapshot.3c'));
  await r.log.close();
});

function settings(dataDir: string): string {
  return path.join(dataDir, 'version-2');
}
