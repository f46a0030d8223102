// A backup taken from our running server under write load starts Apache ZooKeeper 3.8: restored
// with zk-server restore into Apache's dataDir, Apache serves the tree at the backup's zxid (as
// the ledger of acknowledged writes defines it) and finds no digest mismatch while loading it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { loadZooCfg } from '../../src/config/ZooCfg.js';
import { APACHE_ZK_CLASSPATH, apacheZkAvailable, startApacheZk } from '../support/ApacheZk.js';
import { fourLetterWord, freePort, makeTempDir } from '../support/ServerProcess.js';
import { Ledger, populate, readTree, runCli, startLoad, takeFuzzyBackup, treeDiff, writeCfg } from '../support/backupLoad.js';

test('a backup of our server under load restores into Apache ZooKeeper 3.8 at the backup zxid', { skip: !apacheZkAvailable() && 'Apache ZooKeeper not installed' }, async () => {
  const dir = makeTempDir('zk-backup-apache-');
  const cfg = await writeCfg(dir, 'snapCount=2000\n');
  const server = new ZkServer(loadZooCfg(cfg), undefined, { logger: { warn: () => {}, error: (m) => console.error(m) } });
  await server.start();
  const ledger = new Ledger();
  const count = 12000;
  let zxid: number;
  let backupDir: string;
  try {
    await populate(server.port, ledger, count);
    const load = startLoad(server.port, ledger, count, { clients: 3, window: 16 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const taken = await takeFuzzyBackup(cfg, dir);
      assert.ok(taken.zxid > taken.snapshotZxid, `writes landed while the snapshot was streamed (${taken.attempts} attempts)`);
      ({ zxid, dir: backupDir } = taken);
    } finally {
      await load.stop();
    }
  } finally {
    await server.stop();
  }

  // zk-server restore into the directory Apache will use as its dataDir.
  const apacheData = path.join(makeTempDir('zk-backup-apache-data-'), 'data');
  const restoreCfg = path.join(dir, 'apache-target.cfg');
  fs.writeFileSync(restoreCfg, `tickTime=2000\ndataDir=${apacheData}\nclientPort=2181\n`);
  const r = await runCli(['restore', backupDir, restoreCfg]);
  assert.equal(r.code, 0, r.stderr);

  const apache = await startApacheZk({ dataDir: apacheData, startTimeoutMs: 60000 });
  try {
    const srvr = await fourLetterWord(apache.host, apache.port, 'srvr');
    assert.match(srvr, new RegExp(`Zxid: 0x${zxid.toString(16)}\\n`), srvr);
    const expected = ledger.treeAt(zxid);
    const actual = await readTree(apache.port);
    assert.ok(expected.size > count / 2);
    assert.deepEqual(treeDiff(expected, actual), []);
    const mntr = await fourLetterWord(apache.host, apache.port, 'mntr');
    assert.match(mntr, /zk_digest_mismatches_count\t0\n/, mntr);
    assert.doesNotMatch(fs.readFileSync(apache.logFile, 'utf8'), /mismatch|inconsistent/i);
  } finally {
    await apache.stop({ keepDataDir: false });
  }
});

test('zk-server backup pointed at Apache ZooKeeper 3.8 (no snapshot command) says so and leaves no files; its ruok body is ours', { skip: !apacheZkAvailable() && 'Apache ZooKeeper not installed' }, async () => {
  const adminPort = await freePort();
  // Jetty needs the servlet API, which the harness's class path leaves out; a later -cp wins.
  const apache = await startApacheZk({
    extraConfig: { 'admin.enableServer': true, 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': adminPort },
    jvmFlags: ['-cp', `${APACHE_ZK_CLASSPATH}:/usr/share/java/servlet-api.jar`],
    startTimeoutMs: 60000,
  });
  try {
    // The ruok body our AdminServer keeps is Apache's own.
    const ruok = await fetch(`http://127.0.0.1:${adminPort}/commands/ruok`);
    assert.equal(ruok.status, 200);
    assert.deepEqual(await ruok.json(), { command: 'ruok', error: null });
    const dir = makeTempDir('zk-backup-from-apache-');
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}/data\nclientPort=${apache.port}\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=${adminPort}\n`);
    const r = await runCli(['backup', path.join(dir, 'b'), cfg]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HTTP 200: Unknown command: snapshot \(is this an AdminServer of zookeeper-ts\? Apache ZooKeeper 3\.8 has no snapshot command\)/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'b', 'version-2')), []);
  } finally {
    await apache.stop();
  }
});
