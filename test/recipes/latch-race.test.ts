// Stopping a leader election or latch at any moment, including while its node is being
// created, must finish and leave no candidate node behind (a leftover would block everyone).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { LeaderElection, LeaderLatch } from '../../src/recipes/index.js';
import { startServer } from '../support/OurServer.js';

test('stop/close right after start, at many offsets, always returns and leaves no node', { timeout: 60000 }, async () => {
  const server = await startServer({ tickTime: 100 });
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    await zk.create('/race');
    for (let i = 0; i < 40; i++) {
      const e = new LeaderElection(zk, '/race/e', 'x', async (signal) => {
        await new Promise((r) => signal.addEventListener('abort', r));
      });
      e.start();
      if (i % 4) await sleep(i % 7);
      await Promise.race([e.stop(), sleep(5000).then(() => assert.fail(`election stop hung (round ${i})`))]);
      const latch = new LeaderLatch(zk, '/race/l');
      const started = latch.start();
      if (i % 3) await sleep(i % 5);
      await Promise.race([latch.close(), sleep(5000).then(() => assert.fail(`latch close hung (round ${i})`))]);
      await started;
      assert.deepEqual(await zk.getChildren('/race/e').catch(() => []), [], `election node left after round ${i}`);
      assert.deepEqual(await zk.getChildren('/race/l').catch(() => []), [], `latch node left after round ${i}`);
    }
  } finally {
    await zk.close();
    await server.stop();
  }
});
