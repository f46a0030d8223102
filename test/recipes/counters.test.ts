// SharedCount (4-byte int) and DistributedAtomicLong (8-byte long) in Curator's byte layout,
// against our server: the raw node data is checked byte for byte, and concurrent updates from
// several sessions never lose an increment.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { DistributedAtomicLong, SharedCount } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
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

test('DistributedAtomicLong stores an 8-byte big-endian long and adds atomically across sessions', async () => {
  const zks = await Promise.all([connect(), connect(), connect()]);
  const counters = zks.map((zk) => new DistributedAtomicLong(zk, '/ctr/long'));
  assert.equal(await counters[0]!.get(), 0n, 'absent node reads as 0, as Curator');
  const first = await counters[0]!.add(5);
  assert.deepEqual(first, { succeeded: true, preValue: 0n, postValue: 5n });
  assert.deepEqual((await zks[0]!.getData('/ctr/long')).data, Buffer.from([0, 0, 0, 0, 0, 0, 0, 5]));
  // 3 sessions x 20 increments racing on the version.
  await Promise.all(counters.map(async (c) => {
    for (let i = 0; i < 20; i++) assert.equal((await c.increment()).succeeded, true);
  }));
  assert.equal(await counters[1]!.get(), 65n);
  assert.equal((await counters[2]!.subtract(70)).postValue, -5n);
  assert.deepEqual((await zks[0]!.getData('/ctr/long')).data, Buffer.from('fffffffffffffffb', 'hex'));
  assert.equal((await counters[0]!.compareAndSet(1, 9)).succeeded, false);
  assert.deepEqual(await counters[0]!.compareAndSet(-5, 2n ** 62n), { succeeded: true, preValue: -5n, postValue: 2n ** 62n });
  assert.equal(await counters[0]!.initialize(7), false);
  // Not the format: a clear error, not a wrong number.
  await zks[0]!.create('/ctr/text', '12');
  await assert.rejects(new DistributedAtomicLong(zks[0]!, '/ctr/text').get(), /not an 8-byte long/);
});

test('SharedCount stores a 4-byte big-endian int, trySetCount compares versions, changes reach other sessions', async () => {
  const [a, b] = await Promise.all([connect(), connect()]);
  const ca = new SharedCount(a, '/ctr/shared', 10);
  const cb = new SharedCount(b, '/ctr/shared', 99);
  await ca.start();
  await cb.start();
  assert.equal(cb.getCount(), 10, 'the second start keeps the first seed');
  assert.deepEqual((await a.getData('/ctr/shared')).data, Buffer.from([0, 0, 0, 10]));
  const seen: number[] = [];
  cb.on('change', (v) => seen.push(v.value));
  const v0 = ca.getVersionedValue();
  assert.equal(await ca.trySetCount(v0, 11), true);
  assert.equal(await ca.trySetCount(v0, 12), false, 'stale version');
  assert.equal(ca.getCount(), 11);
  await eventually(() => cb.getCount() === 11);
  await cb.setCount(-2);
  assert.deepEqual((await a.getData('/ctr/shared')).data, Buffer.from('fffffffe', 'hex'));
  await eventually(() => ca.getCount() === -2);
  assert.deepEqual(seen, [11, -2]);
  await ca.close();
  await cb.close();
});
