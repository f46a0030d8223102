// PersistentNode and PersistentTtlNode (Curator's recipes) on our server and on Apache ZooKeeper
// 3.8, the same tests on both: an ephemeral node kept through a cut connection and brought back
// in a new session after expiry, and a TTL node kept alive by its touch child, then removed by the
// server's TTL and container reaping once no longer touched (check interval 100 ms on both).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { PersistentNode, PersistentTtlNode, RenewingSession } from '../../src/recipes/index.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { startApacheZk } from '../support/ApacheZk.js';
import { startOurZk, type RunningServer } from '../support/OurZk.js';

const SESSION_MS = 1000;

const SERVERS: [string, () => Promise<RunningServer>][] = [
  ['our server', () => startOurZk({ tickTime: 200, extraConfig: { 'znode.container.checkIntervalMs': 100 } })],
  ['Apache ZooKeeper 3.8', () => startApacheZk({ tickTime: 200, jvmFlags: ['-Dznode.container.checkIntervalMs=100'] })],
];

async function waitFor(zk: ZooKeeper, path: string, present: boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const w = await zk.exists(path, true);
    if ((w.stat !== null) === present) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${path} still ${present ? 'absent' : 'present'} after ${ms} ms`);
    await Promise.race([w.watch, sleep(Math.min(left, 200))]);
  }
}

for (const [serverName, start] of SERVERS) {
  describe(`PersistentNode / PersistentTtlNode against ${serverName}`, () => {
    let server: RunningServer;
    let observer: ZooKeeper;
    before(async () => {
      server = await start();
      observer = await ZooKeeper.connect(server.connectString, { sessionTimeout: 10000 });
    });
    after(async () => {
      await observer?.close();
      await server?.stop();
    });

    test('an ephemeral PersistentNode outlives a cut connection and, in a new session, an expiry', { timeout: 60000 }, async () => {
      const proxy = await new TcpProxy(server.port).start();
      const rs = await RenewingSession.connect(proxy.connectString, { sessionTimeout: SESSION_MS, retryDelay: 20, connectTimeout: 5000 });
      const node = new PersistentNode(rs, '/interop/pn/member', { data: 'v1' });
      try {
        node.start();
        assert.equal(await node.waitForInitialCreate(10000), true);
        const first = rs.client.getSessionId();
        proxy.sever();
        await rs.client.waitConnected(10000);
        assert.equal(rs.client.getSessionId(), first);
        // Written now, or (if the write met the cut) by the take-over after the reconnect.
        await node.setData('v2');
        const until = Date.now() + 10000;
        while ((await observer.getData('/interop/pn/member')).data?.toString() !== 'v2') {
          assert.ok(Date.now() < until, 'setData never reached the node');
          await sleep(50);
        }

        proxy.block();
        proxy.sever();
        await waitFor(observer, '/interop/pn/member', false, 10000);
        const goneAt = Date.now();
        proxy.block(false);
        await waitFor(observer, '/interop/pn/member', true, 10000);
        const back = Date.now() - goneAt;
        assert.ok(back <= SESSION_MS, `back after ${back} ms`);
        const { data, stat } = await observer.getData('/interop/pn/member');
        assert.equal(data?.toString(), 'v2');
        assert.notEqual(stat.ephemeralOwner, first);
        assert.equal(stat.ephemeralOwner, rs.client.getSessionId());
        await node.close();
        assert.equal(await observer.exists('/interop/pn/member'), null);
      } finally {
        await node.close();
        await rs.close();
        await proxy.stop();
      }
    });

    test('a PersistentTtlNode is kept by touching its TTL child, and reaped after close', { timeout: 60000 }, async () => {
      const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
      const ttl = new PersistentTtlNode(zk, '/interop/pttl/svc', 800, { data: 'x' });
      try {
        ttl.start();
        assert.equal(await ttl.waitForInitialCreate(10000), true);
        const errors: unknown[] = [];
        ttl.on('touchError', (e) => errors.push(e));
        const t0 = ttl.touches;
        await sleep(2000); // 2.5 TTLs: alive only because it is touched
        assert.ok(ttl.touches >= t0 + 3, `${ttl.touches - t0} touches in 2 s (every ${ttl.touchEveryMs} ms); errors: ${errors}`);
        assert.ok(await observer.exists('/interop/pttl/svc/touch'));
        assert.equal((await observer.getData('/interop/pttl/svc')).data?.toString(), 'x');
        await ttl.close();
        // The child expires by TTL, then the empty container goes.
        await waitFor(observer, '/interop/pttl/svc', false, 15000);
      } finally {
        await ttl.close();
        await zk.close();
      }
    });
  });
}
