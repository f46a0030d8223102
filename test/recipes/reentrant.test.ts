// Mutex re-entry per object, as Curator's InterProcessMutex per thread: one node however many
// times the holder re-acquires, deleted only when every acquire has been released.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { Mutex } from '../../src/recipes/index.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
let a: ZooKeeper;
let b: ZooKeeper;
before(async () => {
  server = await startServer({ tickTime: 100 });
  a = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  b = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
});
after(async () => {
  await a.close();
  await b.close();
  await server.stop();
});

test('re-acquiring a held Mutex counts holds on one node; the lock is freed by the last release', async () => {
  const m = new Mutex(a, '/re/lock');
  assert.equal(await m.acquire(), true);
  const node = m.nodePath;
  assert.equal(await m.acquire(100), true);
  {
    await using _inner = await m.lock();
    assert.equal(m.holdCount, 3);
  }
  assert.equal(m.holdCount, 2);
  assert.equal(m.nodePath, node);
  assert.equal((await a.getChildren('/re/lock')).length, 1);
  await m.release();
  assert.equal(m.holdCount, 1);
  assert.equal(await new Mutex(b, '/re/lock').acquire(200), false, 'still held after one of two releases');
  await m.release();
  assert.equal(m.holdCount, 0);
  assert.equal(await a.exists(node!), null);
  const other = new Mutex(b, '/re/lock');
  assert.equal(await other.acquire(1000), true);
  await other.release();
});

test('a second first-acquire on one object while the first waits is refused; disposing gives up all holds', async () => {
  const holder = new Mutex(b, '/re/lock2');
  await holder.acquire();
  const m = new Mutex(a, '/re/lock2');
  const waiting = m.acquire(2000);
  await assert.rejects(m.acquire(10), /already waiting/);
  await holder.release();
  assert.equal(await waiting, true);
  await m.acquire();
  await m[Symbol.asyncDispose]();
  assert.equal(m.holdCount, 0);
  assert.deepEqual(await a.getChildren('/re/lock2'), []);
});
