// CuratorCache against our server: created / changed (with old data) / deleted events for a
// whole subtree, and the iterator form.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { CuratorCache } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  await server.stop();
});

test('CuratorCache reports created, changed with old data, and deleted nodes of the subtree', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    await zk.create('/cc', 'root');
    const cache = new CuratorCache(zk, '/cc');
    const seen: string[] = [];
    const ac = new AbortController();
    const loop = (async () => {
      for await (const e of cache.events({ signal: ac.signal })) {
        seen.push(`${e.type} ${e.oldData?.data?.toString() ?? '-'} ${e.data?.path ?? '-'} ${e.data?.data?.toString() ?? '-'}`);
      }
    })().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    await cache.start();
    await zk.create('/cc/a', '1');
    await eventually(() => cache.get('/cc/a') !== undefined);
    await zk.setData('/cc/a', '2');
    await eventually(() => cache.get('/cc/a')?.data?.toString() === '2');
    await zk.create('/cc/a/b', 'deep');
    await eventually(() => cache.size() === 3);
    await zk.delete('/cc/a/b');
    await eventually(() => cache.size() === 2);
    ac.abort();
    await loop;
    assert.deepEqual(seen, [
      'NODE_CREATED - /cc root',
      'INITIALIZED - - -',
      'NODE_CREATED - /cc/a 1',
      'NODE_CHANGED 1 /cc/a 2',
      'NODE_CREATED - /cc/a/b deep',
      'NODE_DELETED deep - -',
    ]);
    assert.deepEqual(cache.stream().map((n) => n.path), ['/cc', '/cc/a']);
    await cache.close();
  } finally {
    await zk.close();
  }
});
