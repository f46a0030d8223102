// Curator-layout queues against our server: node names and item envelope exactly as Curator writes
// them (checked byte for byte), priority order, delay order and due times, multi-item nodes, and
// competing consumers that never take one item twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import {
  CuratorQueue,
  decodeQueueItems,
  delayKey,
  DistributedDelayQueue,
  DistributedPriorityQueue,
  encodeQueueItems,
  priorityKey,
} from '../../src/recipes/index.js';
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

test('names and envelope as Curator writes them', () => {
  // Values from Curator's priorityToString / epochToString (String.format("%s%08X") / "|%08X|").
  assert.equal(priorityKey(0), '100000000');
  assert.equal(priorityKey(5), '100000005');
  assert.equal(priorityKey(255), '1000000FF');
  assert.equal(priorityKey(-1), '0FFFFFFFF');
  assert.equal(priorityKey(-2147483648), '080000000');
  assert.equal(priorityKey(2147483647), '17FFFFFFF');
  assert.throws(() => priorityKey(2 ** 31), RangeError);
  assert.equal(delayKey(1), '|00000001|');
  assert.equal(delayKey(1700000000000), '|18BCFE56800|');
  assert.throws(() => delayKey(0), RangeError);
  // ItemSerializer: version 0x00010001, 0x01 + int32 length + bytes per item, 0x02.
  assert.equal(encodeQueueItems(['ab']).toString('hex'), '00010001' + '01' + '00000002' + '6162' + '02');
  assert.equal(encodeQueueItems(['', 'x']).toString('hex'), '00010001' + '0100000000' + '010000000178' + '02');
  assert.deepEqual(decodeQueueItems(encodeQueueItems(['a', 'bc'])).map(String), ['a', 'bc']);
  assert.throws(() => decodeQueueItems(Buffer.from('0001000201', 'hex')), /version/);
  assert.throws(() => decodeQueueItems(Buffer.from('000100010100000009aa02', 'hex')), /size/);
  assert.throws(() => decodeQueueItems(Buffer.from('0001000101000000016', 'hex')), /not a Curator queue item/);
});

test('priority queue: lower priorities first, FIFO within one priority, negative before zero', async () => {
  const q = new DistributedPriorityQueue(zk, '/cq/prio');
  const made = await q.put('p5-a', 5);
  assert.match(made, /^\/cq\/prio\/queue-100000005\d{10}$/);
  await q.put('p-3', -3);
  await q.put('p5-b', 5);
  await q.put('p0', 0);
  await q.put('p100', 100);
  await q.put('p-300', -300);
  assert.equal(await q.size(), 6);
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(String(await q.take(1000)));
  assert.deepEqual(out, ['p-300', 'p-3', 'p0', 'p5-a', 'p5-b', 'p100']);
  assert.equal(await q.poll(), null);
  assert.equal(await q.take(100), null);
});

test('delay queue: nothing before its time, then in due order; take waits for the first due item', async () => {
  const q = new DistributedDelayQueue(zk, '/cq/delay');
  const t0 = Date.now();
  const made = await q.put('late', t0 + 900);
  assert.match(made, /^\/cq\/delay\/queue-\|[0-9A-F]{11}\|\d{10}$/);
  await q.put('soon', t0 + 400);
  await q.put('past', t0 - 1000);
  assert.equal(String(await q.poll()), 'past');
  assert.equal(await q.poll(), null, 'an item was handed out before its time');
  const soon = await q.take(5000);
  assert.equal(String(soon), 'soon');
  assert.ok(Date.now() >= t0 + 400, `taken ${Date.now() - t0} ms after put, due at 400`);
  assert.equal(await q.take(100), null);
  assert.equal(String(await q.take(5000)), 'late');
  assert.ok(Date.now() >= t0 + 900);
});

test('plain queue with multi-item nodes; take waits for a put; foreign children are ignored', async () => {
  const q = new CuratorQueue(zk, '/cq/plain');
  await q.putMulti(['m1', 'm2', 'm3']);
  await q.put('single');
  await zk.create('/cq/plain/not-an-item', 'x');
  const got: string[] = [];
  for (let i = 0; i < 4; i++) got.push(String(await q.take(1000)));
  assert.deepEqual(got, ['m1', 'm2', 'm3', 'single']);
  const waiting = q.take(5000);
  setTimeout(() => void new CuratorQueue(zk, '/cq/plain').put('later'), 200);
  assert.equal(String(await waiting), 'later');
  const ac = new AbortController();
  const aborted = q.take({ signal: ac.signal });
  ac.abort();
  await assert.rejects(aborted, { name: 'AbortError' });
  assert.deepEqual(await zk.getChildren('/cq/plain'), ['not-an-item']);
});

test('competing consumers on separate sessions take each item exactly once', async () => {
  const producer = new DistributedPriorityQueue(zk, '/cq/compete');
  const N = 40;
  for (let i = 0; i < N; i++) await producer.put(`i${i}`, i % 3);
  const clients = await Promise.all([1, 2, 3].map(() => ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 })));
  const taken: string[] = [];
  await Promise.all(
    clients.map(async (c) => {
      const q = new DistributedPriorityQueue(c, '/cq/compete');
      for (;;) {
        const item = await q.take(300);
        if (!item) return;
        taken.push(String(item));
      }
    }),
  );
  for (const c of clients) await c.close();
  assert.equal(taken.length, N);
  assert.equal(new Set(taken).size, N);
});
