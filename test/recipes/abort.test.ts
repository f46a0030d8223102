// AbortSignal and `await using` on the recipes' waits, against our server over real sockets: an
// abort rejects with signal.reason, removes the node the wait had created, and leaves no listener.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { Barrier, DistributedQueue, DoubleBarrier, LeaderElection, LeaderLatch, Mutex, ReadWriteLock, Semaphore } from '../../src/recipes/index.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';
const noListeners = (s: AbortSignal) => assert.equal(getEventListeners(s, 'abort').length, 0);

describe('recipes with AbortSignal', () => {
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

  test('mutex: an aborted acquire rejects, deletes its lock node, and the next waiter is not held up', async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    const held = new Mutex(a, '/ab/mutex');
    await held.acquire();
    const ac = new AbortController();
    const waiter = new Mutex(b, '/ab/mutex');
    const p = waiter.acquire({ signal: ac.signal });
    await eventually(async () => (await a.getChildren('/ab/mutex')).length === 2);
    const reason = new Error('shutting down');
    ac.abort(reason);
    await assert.rejects(p, (e) => e === reason);
    assert.equal(waiter.nodePath, null);
    assert.deepEqual(await a.getChildren('/ab/mutex'), [held.nodePath!.split('/').pop()]);
    noListeners(ac.signal);
    // A third contender queued behind the aborted one still gets the lock on release.
    const third = new Mutex(c, '/ab/mutex');
    const got = third.acquire(5000);
    await held.release();
    assert.equal(await got, true);
    await third.release();
  });

  test('mutex: lock() guard with await using releases at block end, also when the block throws', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const m = new Mutex(a, '/ab/using');
    let nodeInside = '';
    await assert.rejects(
      (async () => {
        await using guard = await m.lock();
        nodeInside = guard.path;
        assert.ok(await a.exists(guard.path));
        throw new Error('work failed');
      })(),
      /work failed/,
    );
    assert.ok(nodeInside.startsWith('/ab/using/'));
    assert.equal(await a.exists(nodeInside), null);
    assert.equal(m.isHeld, false);
    // Released means another session can take it at once.
    assert.equal(await new Mutex(b, '/ab/using').acquire(1000), true);
    // A timed-out lock() rejects instead of handing out a guard.
    await assert.rejects(new Mutex(a, '/ab/using').lock({ timeoutMs: 100 }), (e) => (e as Error).name === 'OperationTimeout');
  });

  test('an acquire aborted while disconnected rejects at once; its create, sent after the reconnect, is cleaned up', async () => {
    const proxy = await new TcpProxy(server.port).start();
    try {
      const [a, b] = await Promise.all([connect(), connect(proxy.connectString)]);
      await new Mutex(a, '/ab/offline').acquire();
      let childChanges = 0;
      await a.addWatch('/ab/offline', (ev) => void (ev.type === 'NodeChildrenChanged' && childChanges++));
      proxy.block();
      proxy.sever();
      await eventually(() => b.state !== 'connected');
      const ac = new AbortController();
      const p = new Mutex(b, '/ab/offline').acquire({ signal: ac.signal });
      await sleep(50);
      const t0 = Date.now();
      ac.abort();
      await assert.rejects(p, isAbort);
      assert.ok(Date.now() - t0 < 100, 'abort must not wait for the reconnect');
      proxy.block(false);
      await b.waitConnected(5000);
      // The queued create ran after the reconnect; the background cleanup must remove its node.
      // Two child changes: the late create, then its removal.
      await eventually(() => childChanges >= 2, 5000, 'late create and its cleanup');
      await sleep(200);
      assert.equal((await a.getChildren('/ab/offline')).length, 1);
    } finally {
      await proxy.stop();
    }
  });

  test('read/write lock: an aborted writer leaves readers unblocked; handles support await using', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const rw1 = new ReadWriteLock(a, '/ab/rw');
    const rw2 = new ReadWriteLock(b, '/ab/rw');
    {
      await using r = rw1.readLock;
      assert.equal(await r.acquire(), true);
      const ac = new AbortController();
      const w = rw2.writeLock.acquire({ signal: ac.signal });
      await sleep(100);
      ac.abort();
      await assert.rejects(w, isAbort);
      // With the writer's node gone a second reader is admitted immediately.
      assert.equal(await new ReadWriteLock(b, '/ab/rw').readLock.acquire(500), true);
    }
    assert.equal(rw1.readLock.isHeld, false);
  });

  test('semaphore: aborted acquire removes its node; leases are AsyncDisposable', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const sem = new Semaphore(a, '/ab/sem', 1);
    {
      await using lease = await sem.acquire();
      assert.ok(lease);
      const ac = new AbortController();
      const p = new Semaphore(b, '/ab/sem', 1).acquire({ signal: ac.signal });
      await eventually(async () => (await a.getChildren('/ab/sem')).length === 2);
      ac.abort();
      await assert.rejects(p, isAbort);
      assert.equal((await a.getChildren('/ab/sem')).length, 1);
      noListeners(ac.signal);
    }
    assert.deepEqual(await a.getChildren('/ab/sem'), []);
  });

  test('queue: an aborted take rejects and loses nothing offered afterwards', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const q = new DistributedQueue(a, '/ab/q');
    const ac = new AbortController();
    const p = q.take({ signal: ac.signal });
    await sleep(50);
    ac.abort();
    await assert.rejects(p, isAbort);
    noListeners(ac.signal);
    await new DistributedQueue(b, '/ab/q').offer('item');
    assert.equal((await q.take(1000))?.toString(), 'item');
  });

  test('barriers: wait and enter abort; enter removes our member node', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const barrier = new Barrier(a, '/ab/barrier');
    await barrier.set();
    const ac = new AbortController();
    const w = new Barrier(b, '/ab/barrier').wait({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(w, isAbort);
    assert.ok(await a.exists('/ab/barrier'));
    const db = new DoubleBarrier(b, '/ab/double', 2, 'b');
    const ac2 = new AbortController();
    const e = db.enter({ signal: ac2.signal });
    await eventually(async () => (await a.exists('/ab/double/b')) !== null);
    ac2.abort();
    await assert.rejects(e, isAbort);
    assert.deepEqual(await a.getChildren('/ab/double'), []);
    noListeners(ac2.signal);
  });

  test('leader latch: waitLeadership aborts without leaving listeners; the latch keeps its place', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const l1 = new LeaderLatch(a, '/ab/latch', 'one');
    const l2 = new LeaderLatch(b, '/ab/latch', 'two');
    await l1.start();
    assert.equal(await l1.waitLeadership(2000), true);
    await l2.start();
    const ac = new AbortController();
    const w = l2.waitLeadership({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(w, isAbort);
    assert.equal(l2.listenerCount('isLeader'), 0);
    assert.equal(l2.listenerCount('closed'), 0);
    await l1.close();
    assert.equal(await l2.waitLeadership(2000), true);
    await l2.close();
  });
});

describe('leader election with AbortSignal', () => {
  let server: TestServer;
  const clients: ZooKeeper[] = [];
  before(async () => {
    server = await startServer({ tickTime: 100 });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server.stop();
  });

  test('an aborted signal stops a LeaderElection: the leader callback sees its signal abort and the candidate node goes', async () => {
    const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
    clients.push(zk);
    const ac = new AbortController();
    let leading = 0;
    let leadershipAborted = false;
    const el = new LeaderElection(zk, '/ab/elect', 'me', async (lost) => {
      leading++;
      await new Promise<void>((r) => lost.addEventListener('abort', () => r(), { once: true }));
      leadershipAborted = true;
    });
    el.start({ signal: ac.signal });
    await eventually(() => leading === 1);
    assert.equal((await zk.getChildren('/ab/elect')).length, 1);
    ac.abort();
    await eventually(() => leadershipAborted);
    await eventually(async () => (await zk.getChildren('/ab/elect')).length === 0);
    await sleep(100);
    assert.equal(leading, 1, 'no new round after the abort');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  test('LeaderLatch.start with an aborted signal rejects and leaves no candidate node', async () => {
    const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
    clients.push(zk);
    const ac = new AbortController();
    ac.abort();
    const latch = new LeaderLatch(zk, '/ab/latch2', 'x');
    await assert.rejects(latch.start({ signal: ac.signal }), isAbort);
    assert.equal(await zk.exists('/ab/latch2'), null);
    assert.equal(zk.listenerCount('connected'), 0);
  });
});
