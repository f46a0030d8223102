// A failing disk under a live server: the write that could not be persisted is refused with an
// error, nothing unpersisted becomes visible, later writes are refused, reads keep working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkServer } from '../../src/server/ZkServer.js';
import { ZkDatabase } from '../../src/server/ZkDatabase.js';
import { MemoryTxnLog } from '../../src/storage/MemoryTxnLog.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('a txn log failure refuses writes and never shows unpersisted data', async () => {
  const log = new MemoryTxnLog();
  const server = new ZkServer(defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200 }), async () => ({ db: new ZkDatabase(), log }));
  await server.start();
  try {
    const c = await RawClient.connect(server.port);
    const ok = await c.request(OpCode.create, R.CreateRequest, { path: '/before', data: Buffer.from('1'), acl: OPEN, flags: 0 });
    assert.equal(ok.err, 0);
    log.failNextWith = Object.assign(new Error('ENOSPC: no space left on device, write log.1'), { code: 'ENOSPC' });
    // Pipelined: both writes are in flight when the batch fails.
    const [w1, w2] = await Promise.all([
      c.request(OpCode.create, R.CreateRequest, { path: '/lost', data: null, acl: OPEN, flags: 0 }),
      c.request(OpCode.setData, R.SetDataRequest, { path: '/before', data: Buffer.from('2'), version: -1 }),
    ]);
    assert.equal(w1.err, Err.SystemError);
    assert.equal(w2.err, Err.SystemError);
    const later = await c.request(OpCode.create, R.CreateRequest, { path: '/later', data: null, acl: OPEN, flags: 0 });
    assert.equal(later.err, Err.SystemError, 'the log stays refused');
    // Reads still work and show only what was persisted.
    assert.equal((await c.request(OpCode.exists, R.ExistsRequest, { path: '/lost', watch: false })).err, Err.NoNode);
    const d = await c.request(OpCode.getData, R.GetDataRequest, { path: '/before', watch: false });
    assert.equal(R.GetDataResponse.read(d.body).data!.toString(), '1');
    assert.equal(server.lastZxid, ok.zxid, 'no zxid beyond the last persisted one was applied');
    assert.deepEqual(log.txns.map((t) => t.hdr.zxid), [1, 2], 'createSession and the first create only');
    c.close();
  } finally {
    await server.stop();
  }
});
