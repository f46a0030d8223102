// Functional tests of each recipe against our server (contention without faults; see chaos.test.ts
// for connection loss and session expiry).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import {
  Barrier,
  DoubleBarrier,
  GroupMembership,
  Mutex,
  NodeCache,
  ReadWriteLock,
  Semaphore,
  TreeCache,
  LeaderElection,
} from '../../src/recipes/index.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

describe('recipes', () => {
  let server: TestServer;
  const clients: ZooKeeper[] = [];
  const connect = async (cs = server.connectString) => {
    const zk = await ZooKeeper.connect(cs, { sessionTimeout: 2000, retryDelay: 20 });
    clients.push(zk);
    return zk;
  };
  before(async () => {
    server = await startServer({ tickTime: 100 });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server.stop();
  });

  test('mutex: waiters watch only their predecessor and get the lock in order', async () => {
    const zks = await Promise.all([connect(), connect(), connect()]);
    const order: number[] = [];
    const m0 = new Mutex(zks[0]!, '/r/mutex');
    await m0.acquire();
    const waiters = zks.slice(1).map(async (zk, i) => {
      const m = new Mutex(zk, '/r/mutex');
      await m.acquire();
      order.push(i + 1);
      await sleep(20);
      await m.release();
    });
    await sleep(100);
    assert.deepEqual(order, []);
    assert.equal(await new Mutex(zks[0]!, '/r/mutex').acquire(50), false, 'timed acquire gives up');
    await m0.release();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2]);
    assert.deepEqual(await zks[0]!.getChildren('/r/mutex'), []);
  });

  test('read/write lock: readers share, writers exclude', async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const r1 = new ReadWriteLock(a!, '/r/rw').readLock;
    const r2 = new ReadWriteLock(b!, '/r/rw').readLock;
    const w = new ReadWriteLock(c!, '/r/rw').writeLock;
    assert.equal(await r1.acquire(500), true);
    assert.equal(await r2.acquire(500), true);
    assert.equal(await w.acquire(100), false);
    const wGot = w.acquire();
    await sleep(50);
    // a reader arriving after a waiting writer queues behind it
    const r3 = new ReadWriteLock(a!, '/r/rw').readLock;
    assert.equal(await r3.acquire(100), false);
    await r1.release();
    await r2.release();
    assert.equal(await wGot, true);
    await w.release();
  });

  test('semaphore: never more than maxLeases holders', async () => {
    const zks = await Promise.all(Array.from({ length: 5 }, () => connect()));
    let inside = 0;
    let max = 0;
    await Promise.all(
      zks.map(async (zk) => {
        const sem = new Semaphore(zk, '/r/sem', 2);
        for (let i = 0; i < 3; i++) {
          const lease = await sem.acquire();
          assert.ok(lease);
          inside++;
          max = Math.max(max, inside);
          await sleep(10);
          inside--;
          await lease.release();
        }
      }),
    );
    assert.equal(max, 2);
  });

  test('barrier and double barrier', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const bar = new Barrier(a!, '/r/barrier/b1');
    await bar.set();
    assert.equal(await new Barrier(b!, '/r/barrier/b1').wait(100), false);
    const waiting = new Barrier(b!, '/r/barrier/b1').wait();
    await bar.remove();
    assert.equal(await waiting, true);

    const zks = await Promise.all([connect(), connect(), connect()]);
    const entered: number[] = [];
    const left: number[] = [];
    assert.equal(await new DoubleBarrier(zks[0]!, '/r/db', 3, 'x').enter(100), false, 'cannot enter alone');
    await Promise.all(
      zks.map(async (zk, i) => {
        const db = new DoubleBarrier(zk, '/r/db', 3, `m${i}`);
        await sleep(i * 30);
        assert.equal(await db.enter(5000), true);
        entered.push(Date.now());
        await sleep(i * 30);
        await db.leave();
        left.push(Date.now());
      }),
    );
    // nobody entered before the last arrival, nobody left before the last one finished working
    assert.ok(Math.max(...entered) - Math.min(...entered) < 60);
    assert.ok(Math.min(...left) >= Math.max(...entered) + 50);
    assert.deepEqual(await zks[0]!.getChildren('/r/db'), []);
  });

  test('leader election: one leader at a time, next takes over when it steps down', async () => {
    const zks = await Promise.all([connect(), connect(), connect()]);
    const terms: string[] = [];
    let active = 0;
    let maxActive = 0;
    const elections = zks.map(
      (zk, i) =>
        new LeaderElection(zk, '/r/election', `c${i}`, async (signal) => {
          active++;
          maxActive = Math.max(maxActive, active);
          terms.push(`c${i}`);
          await Promise.race([sleep(40), new Promise((r) => signal.addEventListener('abort', r))]);
          active--;
        }),
    );
    elections.forEach((e) => e.start());
    await eventually(() => terms.length >= 6, 5000, 'six terms');
    await Promise.all(elections.map((e) => e.stop()));
    assert.equal(maxActive, 1);
    assert.equal(new Set(terms).size, 3, `every candidate led at some point: ${terms}`);
  });

  test('group membership: join, leave, and members that vanish with their session', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const observer = new GroupMembership(a!, '/r/group', 'a');
    const changes: string[][] = [];
    observer.on('change', (m) => changes.push(m));
    await observer.join('data-a');
    await observer.watch();
    const gb = new GroupMembership(b!, '/r/group', 'b');
    await gb.join();
    await gb.join(); // idempotent
    await eventually(() => changes.at(-1)?.join() === 'a,b', 3000, 'b joined');
    await b!.close();
    await eventually(() => changes.at(-1)?.join() === 'a', 3000, 'b gone with its session');
    await observer.leave();
    assert.deepEqual(await observer.members(), []);
  });

  test('node cache and tree cache follow changes, also those made while disconnected', async () => {
    const writer = await connect();
    const proxy = await new TcpProxy(server.port).start();
    try {
      const zk = await connect(proxy.connectString);
      await writer.create('/r/tc');
      await writer.create('/r/tc/a', '1');
      const nc = new NodeCache(zk, '/r/tc/a');
      await nc.start();
      assert.equal(nc.get()!.data!.toString(), '1');
      const tc = new TreeCache(zk, '/r/tc');
      await tc.start();
      assert.deepEqual(tc.paths(), ['/r/tc', '/r/tc/a']);
      await writer.setData('/r/tc/a', '2');
      await writer.create('/r/tc/a/deep', 'x');
      await eventually(() => nc.get()?.data?.toString() === '2' && tc.get('/r/tc/a/deep') !== undefined, 3000, 'caches updated');
      assert.deepEqual(tc.children('/r/tc/a'), ['deep']);
      // changes while the cache's connection is down arrive after the reconnect
      proxy.block();
      proxy.sever();
      await writer.delete('/r/tc/a/deep');
      await writer.setData('/r/tc/a', '3');
      await writer.create('/r/tc/b', 'new');
      proxy.block(false);
      await eventually(
        () => nc.get()?.data?.toString() === '3' && tc.get('/r/tc/a/deep') === undefined && tc.get('/r/tc/b')?.data?.toString() === 'new',
        5000,
        'caches resynchronised after reconnect',
      );
      await writer.delete('/r/tc/b');
      await writer.delete('/r/tc/a');
      await eventually(() => nc.get() === null && tc.paths().join() === '/r/tc', 3000, 'deletes seen');
      await nc.close();
      await tc.close();
    } finally {
      await proxy.stop();
    }
  });
});
