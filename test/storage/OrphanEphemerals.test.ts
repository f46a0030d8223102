// Ephemerals whose session is missing from the loaded state are removed through the log (a
// closeSession txn, as an expiry would), never by a silent tree change a replica would not see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../src/protocol/constants.js';
import { defaultConfig, type ServerConfig } from '../../src/config/ServerConfig.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { ZkServer } from '../../src/server/ZkServer.js';
import { recover } from '../../src/storage/Recovery.js';
import { readLogs } from '../../src/storage/TxnLogReader.js';
import { ZooKeeper } from '../../src/client/index.js';
import { RecordingLogger, createSessionTxn, createTxn, plain, tmpDir, treeImage } from './helpers.js';

const LIVE = 0x99n;
const GONE = 0x1234n;

function serverConfig(dataDir: string): ServerConfig {
  return defaultConfig({ dataDir, dataLogDir: dataDir, clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200, preAllocSizeKb: 16 });
}

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an ephemeral of a session missing from the snapshot: closed through the log at start, and a restart agrees', async () => {
  const dataDir = tmpDir();
  const settings = storageSettings(serverConfig(dataDir));
  // The snapshot holds /ghost, owned by a session it does not list (it closed in history the
  // snapshot did not see), and /live, owned by a listed session.
  const r = await recover(settings, { logger: new RecordingLogger() });
  const ghost = createTxn(1, '/ghost', 'g', 1, true);
  ghost.hdr.clientId = GONE;
  const live = createTxn(3, '/live', 'l', 2, true);
  live.hdr.clientId = LIVE;
  for (const t of [ghost, createSessionTxn(2, LIVE, 30000), live]) r.db.applyTxn(t);
  const snap = await r.snapshotter.snapshotNow(r.db);
  await r.snapshotter.close();
  await r.log.close();
  assert.match(snap, /snapshot\.3$/);

  // The server's own default storage (recover(storageSettings(config))).
  let server = new ZkServer(serverConfig(dataDir));
  await server.start();
  try {
    await waitFor(() => !server.tree.get('/ghost'), '/ghost to go');
    const zk = await ZooKeeper.connect(`127.0.0.1:${server.port}`, { sessionTimeout: 10000 });
    try {
      assert.equal(await zk.exists('/ghost'), null);
      assert.ok(await zk.exists('/live'), 'the live session keeps its ephemeral');
    } finally {
      await zk.close();
    }
  } finally {
    await server.stop();
  }
  // The deletion is a logged closeSession of the orphan's session, listing its ephemeral.
  const logged = [...readLogs(settings.logDir, 4, { logger: new RecordingLogger() })].map(plain);
  const closes = logged.filter((t) => t.hdr.type === OpCode.closeSession && t.hdr.clientId === GONE);
  assert.equal(closes.length, 1);
  assert.equal(closes[0]!.hdr.zxid, 4, 'the first txn after the loaded state');
  assert.deepEqual(closes[0]!.body, { type: OpCode.closeSession, paths2Delete: ['/ghost'] });

  // A restart replays that txn: same tree, and nothing left to close.
  const { db: loaded, report } = (await import('../../src/storage/Recovery.js')).loadDatabase(settings, { logger: new RecordingLogger() });
  assert.deepEqual(report.orphanSessions, []);
  const before = treeImage(loaded);
  server = new ZkServer(serverConfig(dataDir), () => recover(settings, { logger: new RecordingLogger() }));
  await server.start();
  try {
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(treeImage(server.db), before);
    assert.ok(!server.tree.get('/ghost'));
    assert.ok(server.tree.get('/live'));
  } finally {
    await server.stop();
  }
  const after = [...readLogs(settings.logDir, 4, { logger: new RecordingLogger() })].filter((t) => t.hdr.type === OpCode.closeSession && t.hdr.clientId === GONE);
  assert.equal(after.length, 1, 'no second closeSession after the restart');
});
