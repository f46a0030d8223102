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
