// Checks the test harness itself: a real Apache ZooKeeper starts, answers 4lw, and stops by PID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { apacheZkAvailable, startApacheZk } from './ApacheZk.js';
import { fourLetterWord } from './ServerProcess.js';

test('ApacheZk starts standalone, answers srvr/ruok, stops by PID', { skip: !apacheZkAvailable() && 'Apache ZooKeeper not installed' }, async () => {
  const zk = await startApacheZk();
  try {
    assert.equal(zk.host, '127.0.0.1');
    const srvr = await fourLetterWord(zk.host, zk.port, 'srvr');
    assert.match(srvr, /Mode: standalone/);
    assert.equal(await fourLetterWord(zk.host, zk.port, 'ruok'), 'imok');
    assert.ok(fs.existsSync(zk.dataDir));
  } finally {
    await zk.stop();
  }
  assert.throws(() => process.kill(zk.pid, 0));
  assert.equal(fs.existsSync(zk.dataDir), false);
});
