// SetPartitioner against our server: members split the set without overlap in kazoo's layout,
// a joining member moves the others to RELEASE and everyone re-acquires after releaseSet, session
// loss ends in FAILURE. The party must be stable for timeBoundaryMs (kept short here).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { kazooPartitioner, SetPartitioner } from '../../src/recipes/index.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
let zk: ZooKeeper;
before(async () => {
  server = await startServer({ tickTime: 100 });
  zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
});
after(async () => {
  await zk.close();
  await server.stop();
});

const SET = ['a', 'b', 'c', 'd', 'e'];
const opts = (identifier: string) => ({ identifier, timeBoundaryMs: 300, maxReactionTimeMs: 200 });

test("kazoo's default partitioning: sorted set, member i takes every n-th item from i", () => {
  assert.deepEqual(kazooPartitioner('w1', ['w2', 'w1'], ['e', 'a', 'c', 'b', 'd']), ['a', 'c', 'e']);
  assert.deepEqual(kazooPartitioner('w2', ['w2', 'w1'], ['e', 'a', 'c', 'b', 'd']), ['b', 'd']);
  assert.deepEqual(kazooPartitioner('x', ['w1'], ['a']), []);
});

test('two members split the set; a third joining moves them to RELEASE; all re-acquire after releaseSet', async () => {
  const clients = await Promise.all([0, 1, 2].map(() => ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 })));
  const p1 = new SetPartitioner(clients[0]!, '/sp/one', SET, opts('w1'));
  const p2 = new SetPartitioner(clients[1]!, '/sp/one', SET, opts('w2'));
  await p1.start();
  await p2.start();
  assert.equal(await p1.waitForAcquire(10000), 'ACQUIRED');
  assert.equal(await p2.waitForAcquire(10000), 'ACQUIRED');
  assert.deepEqual([...p1], ['a', 'c', 'e']);
  assert.deepEqual(p2.partitions, ['b', 'd']);
  // kazoo's layout: party members and kazoo-named lock nodes.
  assert.deepEqual((await zk.getChildren('/sp/one/party')).map((c) => c.replace(/^[0-9a-f]{32}-/, '')).sort(), ['w1', 'w2']);
  assert.deepEqual((await zk.getChildren('/sp/one/locks')).sort(), SET);
  for (const item of SET) {
    const nodes = await zk.getChildren(`/sp/one/locks/${item}`);
    assert.equal(nodes.length, 1);
    assert.match(nodes[0]!, /^[0-9a-f]{32}__lock__\d{10}$/);
  }

  const p3 = new SetPartitioner(clients[2]!, '/sp/one', SET, opts('w3'));
  const released = Promise.all([p1, p2].map((p) => new Promise<void>((r) => p.on('state', (s) => s === 'RELEASE' && r()))));
  await p3.start();
  await released;
  assert.equal(p1.state, 'RELEASE');
  assert.deepEqual(p1.partitions, []);
  await p1.releaseSet();
  await p2.releaseSet();
  for (const p of [p1, p2, p3]) assert.equal(await p.waitForAcquire(10000), 'ACQUIRED');
  assert.deepEqual([p1.partitions, p2.partitions, p3.partitions], [['a', 'd'], ['b', 'e'], ['c']]);

  await p3.finish();
  assert.equal(p3.state, 'FAILURE');
  for (const c of clients) await c.close();
});

test('an expired session ends in FAILURE; a cut connection in RELEASE', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const c = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 600, retryDelay: 20 });
  const p = new SetPartitioner(c, '/sp/two', ['x', 'y'], opts('solo'));
  await p.start();
  assert.equal(await p.waitForAcquire(10000), 'ACQUIRED');
  assert.deepEqual(p.partitions, ['x', 'y']);
  const releasing = new Promise<void>((r) => p.once('state', (s) => s === 'RELEASE' && r()));
  proxy.sever();
  await releasing;
  assert.equal(p.state, 'RELEASE');
  assert.deepEqual(p.partitions, []);
  await c.waitConnected(5000);
  await p.releaseSet();
  assert.equal(await p.waitForAcquire(10000), 'ACQUIRED');
  const failed = new Promise<void>((r) => p.on('state', (s) => s === 'FAILURE' && r()));
  proxy.block();
  proxy.sever();
  await failed;
  assert.equal(p.failed, true);
  proxy.block(false);
  await c.close();
  await proxy.stop();
});

test('waitForAcquire: a timeout gives the current state, an abort rejects', async () => {
  const c = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  const p = new SetPartitioner(c, '/sp/three', ['x'], { identifier: 'slow', timeBoundaryMs: 1500 });
  await p.start();
  assert.equal(await p.waitForAcquire(100), 'ALLOCATING');
  const ac = new AbortController();
  const w = p.waitForAcquire({ signal: ac.signal });
  ac.abort();
  await assert.rejects(w, { name: 'AbortError' });
  assert.equal(await p.waitForAcquire(10000), 'ACQUIRED');
  await assert.rejects(p.start(), /already started/);
  await p.finish();
  await c.close();
});
