// AdminServer over real HTTP on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

test('admin server answers /commands with ZooKeeper-shaped JSON', async () => {
  const srv = await startServer({ adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 });
  try {
    const base = `http://127.0.0.1:${srv.server.admin!.port}/commands`;
    const list = await (await fetch(base)).text();
    assert.match(list, /<a href="\/commands\/ruok">ruok<\/a><br\/>/);
    assert.deepEqual(await (await fetch(`${base}/ruok`)).json(), { command: 'ruok', error: null });
    const c = await RawClient.connect(srv.port);
    await c.request(OpCode.exists, R.ExistsRequest, { path: '/w', watch: true });
    const stat = (await (await fetch(`${base}/srvr`)).json()) as Record<string, any>;
    assert.equal(stat.command, 'server_stats');
    assert.equal(stat.server_stats.server_state, 'standalone');
    assert.equal(stat.node_count, 5);
    const mntr = (await (await fetch(`${base}/mntr`)).json()) as Record<string, any>;
    assert.equal(mntr.server_state, 'standalone');
    assert.equal(typeof mntr.znode_count, 'number');
    const wchp = (await (await fetch(`${base}/wchp`)).json()) as Record<string, any>;
    assert.deepEqual(wchp.path_to_session_ids, { '/w': [Number(c.sessionId)] });
    const unknown = (await (await fetch(`${base}/nosuch`)).json()) as Record<string, any>;
    assert.deepEqual(unknown, { command: 'nosuch', error: 'Unknown command: nosuch' });
    c.close();
  } finally {
    await srv.stop();
  }
});

test('Prometheus metrics on metricsProvider.httpPort when the provider is configured', async () => {
  const raw = new Map([
    ['metricsProvider.className', 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider'],
    ['metricsProvider.httpHost', '127.0.0.1'],
    ['metricsProvider.httpPort', '0'],
  ]);
  const srv = await startServer({ raw });
  try {
    const text = await (await fetch(`http://127.0.0.1:${srv.server.metrics!.port}/metrics`)).text();
    assert.match(text, /# TYPE znode_count gauge\nznode_count 5\.0\n/);
    assert.match(text, /\nnum_alive_connections 0\.0\n/);
    assert.equal((await fetch(`http://127.0.0.1:${srv.server.metrics!.port}/other`)).status, 404);
  } finally {
    await srv.stop();
  }
  const plain = await startServer();
  try {
    assert.equal(plain.server.metrics, null, 'no metrics server unless configured');
  } finally {
    await plain.stop();
  }
});

test('health: ruok and /ready answer 200 while serving and 503 once the txn log failed, ruok keeping Apache\'s body', async () => {
  const { ZkServer } = await import('../../src/server/ZkServer.js');
  const { ZkDatabase } = await import('../../src/tree/ZkDatabase.js');
  const { MemoryTxnLog } = await import('../../src/storage/MemoryTxnLog.js');
  const { defaultConfig } = await import('../../src/config/ServerConfig.js');
  const log = new MemoryTxnLog();
  let fatal: Error | null = null;
  // onFatal leaves the server up (the CLI would exit): the window a probe must see as unhealthy.
  const server = new ZkServer(
    defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200, adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 }),
    async () => ({ db: new ZkDatabase(), log }),
    { logger: { warn: () => {}, error: () => {} }, onFatal: (e) => { fatal = e; } },
  );
  await server.start();
  try {
    const root = `http://127.0.0.1:${server.admin!.port}`;
    const ruok = await fetch(`${root}/commands/ruok`);
    assert.equal(ruok.status, 200);
    assert.deepEqual(await ruok.json(), { command: 'ruok', error: null });
    const ready = await fetch(`${root}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, reason: null, server_state: 'standalone', last_zxid: 0, client_port: server.port });
    assert.equal((await fetch(`${root}/ready`, { method: 'HEAD' })).status, 200);

    const c = await RawClient.connect(server.port);
    log.failNextWith = Object.assign(new Error('EIO: i/o error, write log.1'), { code: 'EIO' });
    await c.request(OpCode.create, R.CreateRequest, { path: '/x', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 }).catch(() => null);
    for (let i = 0; i < 100 && !fatal; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(fatal, 'the log failure reached onFatal');
    c.close();

    const down = await fetch(`${root}/commands/ruok`);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { command: 'ruok', error: 'This ZooKeeper instance is not currently serving requests' });
    const notReady = await fetch(`${root}/ready`);
    assert.equal(notReady.status, 503);
    const body = (await notReady.json()) as Record<string, unknown>;
    assert.equal(body.ready, false);
    assert.match(String(body.reason), /^storage failed: EIO/);
    assert.equal((await fetch(`${root}/ready`, { method: 'HEAD' })).status, 503);
    // Other commands keep Apache 3.8's 200-with-error, so existing scripts see what they expect.
    const srvr = await fetch(`${root}/commands/srvr`);
    assert.equal(srvr.status, 200);
    assert.equal(((await srvr.json()) as Record<string, unknown>).error, 'This ZooKeeper instance is not currently serving requests');
  } finally {
    await server.stop();
  }
});
