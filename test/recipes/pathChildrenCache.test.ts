// PathChildrenCache against our server: initial load, child events (not grandchildren), data of
// each child, and a resync after the connection is cut while children change.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { PathChildrenCache, type PathChildrenCacheEvent } from '../../src/recipes/index.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  await server.stop();
});

test('PathChildrenCache: load, child add/update/remove events, grandchildren ignored, resync after a cut', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const writer = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000, retryDelay: 20 });
  try {
    await writer.create('/pcc', null);
    await writer.create('/pcc/a', 'A');
    const cache = new PathChildrenCache(zk, '/pcc');
    const events: string[] = [];
    cache.on('event', (e: PathChildrenCacheEvent) => events.push(`${e.type} ${e.data?.path ?? ''} ${e.data?.data?.toString() ?? ''}`.trim()));
    await cache.start();
    assert.deepEqual(events, ['CHILD_ADDED /pcc/a A', 'INITIALIZED']);
    await writer.create('/pcc/b', 'B');
    await writer.setData('/pcc/a', 'A2');
    await writer.create('/pcc/a/deep', 'x');
    // A child created and deleted before the cache has read it is never reported (its data is
    // needed for CHILD_ADDED), so let the cache see b first.
    await eventually(() => cache.getCurrentDataFor('/pcc/b') !== undefined);
    await writer.delete('/pcc/b');
    await eventually(() => events.length >= 5, 5000, `events: ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 100));
    // b's CHILD_ADDED needs a getChildren then a getData, a's CHILD_UPDATED one getData: either
    // may come first (Curator's cache does not order them either); b's removal comes after both.
    assert.deepEqual(events.slice(2, 4).sort(), ['CHILD_ADDED /pcc/b B', 'CHILD_UPDATED /pcc/a A2']);
    assert.deepEqual(events.slice(4), ['CHILD_REMOVED /pcc/b B']);
    assert.deepEqual(cache.getCurrentData().map((c) => c.path), ['/pcc/a']);
    assert.equal(cache.getCurrentDataFor('/pcc/a/deep'), undefined);
    // Changes while the cache's connection is down are found by the resync after the reconnect.
    events.length = 0;
    proxy.block();
    proxy.sever();
    await eventually(() => zk.state !== 'connected');
    await writer.create('/pcc/c', 'C');
    await writer.delete('/pcc/a/deep');
    await writer.delete('/pcc/a');
    proxy.block(false);
    await eventually(() => cache.getCurrentData().map((c) => c.path).join() === '/pcc/c', 5000, 'resync');
    assert.deepEqual(events.sort(), ['CHILD_ADDED /pcc/c C', 'CHILD_REMOVED /pcc/a A2']);
    await cache.close();
  } finally {
    await zk.close();
    await writer.close();
    await proxy.stop();
  }
});
