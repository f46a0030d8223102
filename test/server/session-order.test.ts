// Ordering that outlives a connection: a session that reconnects reads after the writes it sent
// on its previous connection, and sync waits for every write already submitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkServer } from '../../src/server/ZkServer.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { NullTxnLog } from '../../src/storage/MemoryTxnLog.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import type { Txn } from '../../src/protocol/txn.js';
import { RawClient } from '../support/RawClient.js';
import { OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** A txn log whose fsync takes `delayMs`: writes stay in flight long enough to race them. */
class SlowLog extends NullTxnLog {
  delayMs = 0;
  override append(_txns: Txn[]): Promise<void> {
    return new Promise((r) => setTimeout(r, this.delayMs));
  }
}

async function slowServer(log: SlowLog): Promise<ZkServer> {
  const s = new ZkServer(defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200 }), async () => ({ db: new ZkDatabase(), log }));
  await s.start();
  return s;
}

test('after a reconnect, a read waits for the writes the session sent before the cut', async () => {
  const log = new SlowLog();
  const server = await slowServer(log);
  try {
    const a = await RawClient.connect(server.port, { timeout: 4000 });
    await a.request(OpCode.create, R.CreateRequest, { path: '/k', data: Buffer.from('old'), acl: OPEN, flags: 0 });
    log.delayMs = 300;
    void a.request(OpCode.setData, R.SetDataRequest, { path: '/k', data: Buffer.from('new'), version: -1 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 30)); // the write reached the server
    a.close();
    const b = await RawClient.connect(server.port, { sessionId: a.sessionId, passwd: a.passwd, timeout: 4000 });
    assert.equal(b.sessionId, a.sessionId);
    const r = await b.request(OpCode.getData, R.GetDataRequest, { path: '/k', watch: false });
    assert.equal(R.GetDataResponse.read(r.body).data!.toString(), 'new', 'the session sees its own earlier write');
    b.close();
  } finally {
    await server.stop();
  }
});

test('sync returns only after writes submitted before it are applied', async () => {
  const log = new SlowLog();
  const server = await slowServer(log);
  try {
    const writer = await RawClient.connect(server.port);
    const reader = await RawClient.connect(server.port);
    await writer.request(OpCode.create, R.CreateRequest, { path: '/s', data: Buffer.from('0'), acl: OPEN, flags: 0 });
    log.delayMs = 300;
    const w = writer.request(OpCode.setData, R.SetDataRequest, { path: '/s', data: Buffer.from('1'), version: -1 });
    await new Promise((r) => setTimeout(r, 30));
    const plain = await reader.request(OpCode.getData, R.GetDataRequest, { path: '/s', watch: false });
    assert.equal(R.GetDataResponse.read(plain.body).data!.toString(), '0', 'a read without sync may be stale');
    const synced = reader.request(OpCode.sync, R.SyncRequest, { path: '/s' });
    const after = reader.request(OpCode.getData, R.GetDataRequest, { path: '/s', watch: false });
    await synced;
    assert.equal(R.GetDataResponse.read((await after).body).data!.toString(), '1');
    await w;
    writer.close();
    reader.close();
  } finally {
    await server.stop();
  }
});
