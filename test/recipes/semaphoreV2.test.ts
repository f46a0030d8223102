// SemaphoreV2 in Curator's InterProcessSemaphoreV2 layout, against our server: never more holders
// than leases across sessions, node names and directories as Curator makes them, timeouts and
// aborts leave no lease node, multi-lease acquisition is all or nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { SemaphoreV2 } from '../../src/recipes/index.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
const clients: ZooKeeper[] = [];
const connect = async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  clients.push(zk);
  return zk;
};
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  for (const c of clients) await c.close();
  await server.stop();
});

test('at most maxLeases holders across sessions, in Curator layout', async () => {
  const zks = await Promise.all([connect(), connect(), connect(), connect()]);
  let holding = 0;
  let peak = 0;
  let served = 0;
  const namePattern = /^_c_[0-9a-f-]{36}-lease-\d{10}$/;
  await Promise.all(
    zks.map(async (zk) => {
      const sem = new SemaphoreV2(zk, '/sv2/a', 2);
      for (let i = 0; i < 4; i++) {
        await using lease = await sem.acquire();
        assert.ok(lease);
        assert.ok(lease.path.startsWith('/sv2/a/leases/'));
        assert.match(lease.path.split('/').pop()!, namePattern);
        holding++;
        peak = Math.max(peak, holding);
        // Two held leases plus at most one waiter's node (only the holder of the locks lock waits).
        const nodes = await zk.getChildren('/sv2/a/leases');
        assert.ok(nodes.length <= 3, `lease nodes ${nodes.length}`);
        await sleep(10);
        holding--;
        served++;
      }
    }),
  );
  assert.equal(served, 16);
  assert.equal(peak, 2);
  assert.deepEqual(await zks[0]!.getChildren('/sv2/a/leases'), []);
  assert.deepEqual(await zks[0]!.getChildren('/sv2/a/locks'), []);
});

test('timeout and abort leave no nodes; acquireMany is all or nothing', async () => {
  const [a, b] = await Promise.all([connect(), connect()]);
  const full = await new SemaphoreV2(a, '/sv2/b', 2).acquireMany(2);
  assert.equal(full?.length, 2);
  const sem = new SemaphoreV2(b, '/sv2/b', 2);
  const t0 = Date.now();
  assert.equal(await sem.acquire(150), null);
  assert.ok(Date.now() - t0 >= 140);
  assert.equal((await a.getChildren('/sv2/b/leases')).length, 2);
  const ac = new AbortController();
  const p = sem.acquire({ signal: ac.signal });
  await sleep(50);
  ac.abort();
  await assert.rejects(p, (e) => (e as Error).name === 'AbortError');
  assert.equal((await a.getChildren('/sv2/b/leases')).length, 2);
  assert.deepEqual(await a.getChildren('/sv2/b/locks'), []);
  // One lease free, two wanted: gets none, holds none.
  await full![0]!.release();
  assert.equal(await sem.acquireMany(2, 200), null);
  assert.equal((await a.getChildren('/sv2/b/leases')).length, 1);
  await full![1]!.release();
  const two = await sem.acquireMany(2, 1000);
  assert.equal(two?.length, 2);
  for (const l of two!) await l.release();
  assert.deepEqual(await a.getChildren('/sv2/b/leases'), []);
});
