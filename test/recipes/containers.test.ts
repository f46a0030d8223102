// Lock, latch and semaphore directories are created as containers (as Curator's
// creatingParentContainersIfNeeded), so the server removes them once the last contender is gone;
// queue directories stay persistent. Our server runs its container check every 100 ms here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { DistributedQueue, LeaderLatch, Mutex, Semaphore } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
let zk: ZooKeeper;
before(async () => {
  server = await startServer({ tickTime: 100, containerCheckIntervalMs: 100 });
  zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
});
after(async () => {
  await zk.close();
  await server.stop();
});

// A client cannot see container-ness in a Stat (its ephemeralOwner reads 0, as from Apache ZooKeeper),
// so the tests observe what matters: the server reaps them.

test('a lock directory and its missing ancestors are containers, removed after the last holder releases', async () => {
  const m = new Mutex(zk, '/cont/app/lock');
  await m.acquire();
  await sleep(300); // several container checks: a directory with a child stays
  assert.ok(await zk.exists('/cont/app/lock'));
  await m.release();
  // Each level is reaped once its only child has gone.
  await eventually(async () => (await zk.exists('/cont')) === null, 5000, 'lock containers reaped');
  // The directory comes back on the next acquisition.
  const again = new Mutex(zk, '/cont/app/lock');
  assert.equal(await again.acquire(2000), true);
  await again.release();
});

test('latch and semaphore directories are containers too; a queue directory stays persistent', async () => {
  const latch = new LeaderLatch(zk, '/cont2/latch', 'a');
  await latch.start();
  assert.equal(await latch.waitLeadership(2000), true);
  const lease = await new Semaphore(zk, '/cont2/sem', 2).acquire();
  await sleep(300);
  assert.ok(await zk.exists('/cont2/latch'));
  assert.ok(await zk.exists('/cont2/sem'));
  await latch.close();
  await lease!.release();
  await eventually(async () => (await zk.exists('/cont2')) === null, 5000, 'latch/semaphore containers reaped');

  const q = new DistributedQueue(zk, '/cont3/q');
  await q.offer('x');
  assert.equal((await q.take(1000))?.toString(), 'x');
  await sleep(400);
  assert.ok(await zk.exists('/cont3/q'));
});
