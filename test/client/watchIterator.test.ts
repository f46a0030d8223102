// Watches and caches as async iterators, against our server over TCP: events arrive in order,
// breaking out or aborting removes the watch, and the session ending ends or fails the loop.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type TestServer } from '../support/OurServer.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';
import { NoWatcherError, SessionExpiredError } from '../../src/client/errors.js';
import type { WatchedEvent } from '../../src/client/types.js';
import { NodeCache, TreeCache } from '../../src/recipes/index.js';

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  await server.stop();
});

test('for await over zk.watch sees every change in order; break removes the watch on both sides', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  const writer = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    const seen: string[] = [];
    const it = zk.watch('/wi');
    const first = it.next(); // starts the watch
    await sleep(50);
    await writer.create('/wi', 'a');
    for (let i = 0; i < 5; i++) await writer.setData('/wi', String(i));
    await writer.delete('/wi');
    const r = await first;
    seen.push((r.value as WatchedEvent).type);
    for await (const ev of it) {
      seen.push(ev.type);
      if (ev.type === 'NodeDeleted') break;
    }
    assert.deepEqual(seen, ['NodeCreated', ...Array(5).fill('NodeDataChanged'), 'NodeDeleted']);
    // The loop's end removed the client-side watcher...
    await assert.rejects(zk.removeWatches('/wi', 'Persistent', { local: true }), NoWatcherError);
    // ...and the server's: it reports no watch of this connection on the path.
    await assert.rejects(zk.checkWatches('/wi', 'Any'), NoWatcherError);
  } finally {
    await writer.close();
    await zk.close();
  }
});

test('recursive watch iterator; an abort ends the loop with signal.reason and removes the watch', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    await zk.create('/wr', null);
    const ac = new AbortController();
    const paths: string[] = [];
    const loop = (async () => {
      for await (const ev of zk.watch('/wr', { recursive: true, signal: ac.signal })) {
        paths.push(`${ev.type} ${ev.path}`);
        if (paths.length === 2) ac.abort();
      }
    })();
    await sleep(50);
    await zk.create('/wr/a', null);
    await zk.create('/wr/a/b', null);
    await assert.rejects(loop, (e) => (e as Error).name === 'AbortError');
    assert.deepEqual(paths, ['NodeCreated /wr/a', 'NodeCreated /wr/a/b']);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    await assert.rejects(zk.removeWatches('/wr', 'PersistentRecursive', { local: true }), NoWatcherError);
  } finally {
    await zk.close();
  }
});

test('closing the client ends a watch loop; expiry makes it throw SessionExpiredError', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  const closedLoop = (async () => {
    let n = 0;
    for await (const _ of zk.watch('/wc')) n++;
    return n;
  })();
  await sleep(50);
  await zk.close();
  assert.equal(await closedLoop, 0);

  const zk2 = await ZooKeeper.connect(server.connectString, { sessionTimeout: 1000 });
  const expiredLoop = (async () => {
    for await (const _ of zk2.watch('/we'));
  })().then(
    () => null,
    (e: unknown) => e,
  );
  await sleep(50);
  // Expire the session from outside: a second client attaches with the same credentials and closes it.
  const thief = await ZooKeeper.connect(server.connectString, { sessionId: zk2.getSessionId(), sessionPassword: zk2.getSessionPassword() });
  await thief.close();
  assert.ok((await expiredLoop) instanceof SessionExpiredError);
  await zk2.close();
});

test('NodeCache.changes and TreeCache.events iterate cache changes', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    const nc = new NodeCache(zk, '/ncit');
    await nc.start();
    const tc = new TreeCache(zk, '/tcit');
    await zk.create('/tcit', null);
    await tc.start();
    const ac = new AbortController();
    const data: string[] = [];
    const ncLoop = (async () => {
      for await (const d of nc.changes({ signal: ac.signal })) {
        data.push(d?.data?.toString() ?? 'gone');
        if (d === null) break;
      }
    })();
    const tree: string[] = [];
    const tcLoop = (async () => {
      for await (const e of tc.events()) {
        tree.push(`${e.type} ${e.path}`);
        if (e.type === 'removed') break;
      }
    })();
    await sleep(20);
    await zk.create('/ncit', 'one');
    await zk.create('/tcit/x', 'x');
    await sleep(100);
    await zk.setData('/ncit', 'two');
    await sleep(100);
    await zk.delete('/ncit');
    await zk.delete('/tcit/x');
    await Promise.all([ncLoop, tcLoop]);
    assert.deepEqual(data, ['one', 'two', 'gone']);
    assert.deepEqual(tree, ['added /tcit/x', 'removed /tcit/x']);
    assert.equal(nc.listenerCount('change'), 0);
    assert.equal(tc.listenerCount('change'), 0);
    await nc.close();
    await tc.close();
  } finally {
    await zk.close();
  }
});
