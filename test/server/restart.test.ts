// A clean restart on the same data directory: the tree, and sessions that can resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('data and sessions survive a restart; a resumed session keeps its ephemerals', async () => {
  const first = await startServer({ tickTime: 500 });
  const c = await RawClient.connect(first.port, { timeout: 10000 });
  await c.request(OpCode.create, R.CreateRequest, { path: '/keep', data: Buffer.from('v'), acl: OPEN, flags: 0 });
  await c.request(OpCode.setData, R.SetDataRequest, { path: '/keep', data: Buffer.from('w'), version: 0 });
  await c.request(OpCode.create, R.CreateRequest, { path: '/keep/e', data: null, acl: OPEN, flags: 1 });
  const last = await c.request(OpCode.exists, R.ExistsRequest, { path: '/keep', watch: false });
  c.close();
  await first.stop();

  const second = await startServer({ tickTime: 500, dataDir: first.dataDir, dataLogDir: first.dataDir });
  try {
    const again = await RawClient.connect(second.port, { sessionId: c.sessionId, passwd: c.passwd, lastZxid: last.zxid, timeout: 10000 });
    assert.equal(again.sessionId, c.sessionId, 'the session was restored from disk and resumes');
    const d = await again.request(OpCode.getData, R.GetDataRequest, { path: '/keep', watch: false });
    const got = R.GetDataResponse.read(d.body);
    assert.equal(got.data!.toString(), 'w');
    assert.equal(got.stat.version, 1);
    assert.equal((await again.request(OpCode.exists, R.ExistsRequest, { path: '/keep/e', watch: false })).err, 0);
    // A new write continues the zxid sequence.
    const w = await again.request(OpCode.create, R.CreateRequest, { path: '/next', data: null, acl: OPEN, flags: 0 });
    assert.equal(w.zxid, last.zxid + 1);
    await again.request(OpCode.closeSession);
    const probe = await RawClient.connect(second.port);
    assert.equal((await probe.request(OpCode.exists, R.ExistsRequest, { path: '/keep/e', watch: false })).err, Err.NoNode);
    probe.close();
  } finally {
    await second.stop();
  }
});

test('a session that does not come back after a restart expires and loses its ephemerals', async () => {
  const first = await startServer({ tickTime: 100 });
  const gone = await RawClient.connect(first.port, { timeout: 600 });
  await gone.request(OpCode.create, R.CreateRequest, { path: '/orphan', data: null, acl: OPEN, flags: 1 });
  gone.close();
  await first.stop();
  const second = await startServer({ tickTime: 100, dataDir: first.dataDir, dataLogDir: first.dataDir });
  try {
    const c = await RawClient.connect(second.port);
    // Restored from disk, the session gets its full timeout again before it expires.
    assert.equal((await c.request(OpCode.exists, R.ExistsRequest, { path: '/orphan', watch: true })).err, 0);
    const events = await c.waitEvents(1, 5000);
    assert.deepEqual(events.map((e) => [e.type, e.path]), [[2, '/orphan']]);
    assert.equal((await c.request(OpCode.exists, R.ExistsRequest, { path: '/orphan', watch: false })).err, Err.NoNode);
    c.close();
  } finally {
    await second.stop();
  }
});
