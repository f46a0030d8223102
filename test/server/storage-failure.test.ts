// A failing disk under a live server: as ZooKeeper, the server stops (the CLI then exits non-zero
// so a supervisor restarts it); nothing unpersisted was acknowledged or becomes visible, and a
// restart from what the log holds serves exactly the persisted state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkServer } from '../../src/server/ZkServer.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { MemoryTxnLog } from '../../src/storage/MemoryTxnLog.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const config = () => defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200 });

test('a txn log failure stops the server without acknowledging or exposing unpersisted writes', async () => {
  const log = new MemoryTxnLog();
  let fatal: Error | null = null;
  const stopped = new Promise<void>((resolve) => {
    const server = new ZkServer(config(), async () => ({ db: new ZkDatabase(), log }), {
      logger: { warn: () => {}, error: () => {} },
      onFatal: (err) => {
        fatal = err;
        void server.stop().then(resolve);
      },
    });
    void run(server);
  });
  let answered: number[] = [];
  async function run(server: ZkServer): Promise<void> {
    await server.start();
    const c = await RawClient.connect(server.port);
    const ok = await c.request(OpCode.create, R.CreateRequest, { path: '/before', data: Buffer.from('1'), acl: OPEN, flags: 0 });
    assert.equal(ok.err, 0);
    log.failNextWith = Object.assign(new Error('ENOSPC: no space left on device, write log.1'), { code: 'ENOSPC' });
    // Pipelined: both writes are in flight when the batch fails; neither may be acknowledged.
    const results = await Promise.allSettled([
      c.request(OpCode.create, R.CreateRequest, { path: '/lost', data: null, acl: OPEN, flags: 0 }),
      c.request(OpCode.setData, R.SetDataRequest, { path: '/before', data: Buffer.from('2'), version: -1 }),
    ]);
    answered = results.flatMap((r) => (r.status === 'fulfilled' && r.value.err === Err.OK ? [r.value.zxid] : []));
    c.close();
  }
  await stopped;
  assert.match(String((fatal as Error | null)?.message), /ENOSPC/);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(answered, [], 'no write after the failure was acknowledged');
  assert.deepEqual(log.txns.map((t) => t.hdr.zxid), [1, 2], 'createSession and the first create only');

  // Recovery: a new server from what the log holds shows the persisted state only.
  const db = new ZkDatabase();
  for (const t of log.txns) db.applyTxn(t);
  const again = new ZkServer(config(), async () => ({ db, log: new MemoryTxnLog() }));
  await again.start();
  try {
    const c = await RawClient.connect(again.port);
    assert.equal((await c.request(OpCode.exists, R.ExistsRequest, { path: '/lost', watch: false })).err, Err.NoNode);
    const d = await c.request(OpCode.getData, R.GetDataRequest, { path: '/before', watch: false });
    assert.equal(R.GetDataResponse.read(d.body).data!.toString(), '1');
    c.close();
  } finally {
    await again.stop();
  }
});
