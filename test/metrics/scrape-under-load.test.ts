// A Prometheus scrape of a server under load, checked against the families Apache ZooKeeper 3.8's
// Prometheus provider exports (test/metrics/apache-3.8-families.json, taken from its sources)
// and against the traffic this test sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode, Perm } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

const OPEN = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const FAMILIES = JSON.parse(fs.readFileSync(path.resolve(process.cwd(), 'test/metrics/apache-3.8-families.json'), 'utf8')) as Record<string, string[]>;
const PROM = new Map([
  ['metricsProvider.className', 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider'],
  ['metricsProvider.httpHost', '127.0.0.1'],
  ['metricsProvider.httpPort', '0'],
]);

/** family name → { type, sample lines } from a text exposition. */
function parse(text: string): Map<string, { type: string; samples: string[] }> {
  const out = new Map<string, { type: string; samples: string[] }>();
  let current: { type: string; samples: string[] } | null = null;
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      assert.ok(!out.has(t[1]!), `${t[1]} announced once`);
      out.set(t[1]!, (current = { type: t[2]!, samples: [] }));
    } else if (line && !line.startsWith('#')) {
      current!.samples.push(line);
    }
  }
  return out;
}

function sample(text: string, series: string): number {
  const m = new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${series} in the scrape`);
  return Number(m[1]);
}

test('a scrape under load has Apache 3.8\'s families with their types, and counts that match the requests sent', async () => {
  const srv = await startServer({ raw: PROM });
  const clients: RawClient[] = [];
  try {
    const setup = await RawClient.connect(srv.port);
    clients.push(setup);
    assert.equal((await setup.request(OpCode.create, R.CreateRequest, { path: '/load', data: null, acl: OPEN, flags: 0 })).err, Err.OK);
    // A quota, so the labelled quota gauges have a namespace to report.
    assert.equal((await setup.request(OpCode.create, R.CreateRequest, { path: '/zookeeper/quota/load', data: null, acl: OPEN, flags: 0 })).err, Err.OK);
    assert.equal((await setup.request(OpCode.create, R.CreateRequest, {
      path: '/zookeeper/quota/load/zookeeper_limits', data: Buffer.from('count=100000,bytes=-1'), acl: OPEN, flags: 0,
    })).err, Err.OK);
    // zkCli's setquota also writes the usage it counted (the /load node itself); the server keeps it current.
    assert.equal((await setup.request(OpCode.create, R.CreateRequest, {
      path: '/zookeeper/quota/load/zookeeper_stats', data: Buffer.from('count=1,bytes=0'), acl: OPEN, flags: 0,
    })).err, Err.OK);
    for (let i = 0; i < 5; i++) clients.push(await RawClient.connect(srv.port));
    // Bounded load: every client pipelines its creates, sets and reads while scrapes run beside them.
    const PER_CLIENT = 60;
    let writes = 0;
    let reads = 0;
    const scrapes: Promise<string>[] = [];
    await Promise.all(clients.slice(1).map(async (c, ci) => {
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < PER_CLIENT; i++) {
        const p = `/load/c${ci}-${i}`;
        ops.push(c.request(OpCode.create, R.CreateRequest, { path: p, data: Buffer.from('x'), acl: OPEN, flags: 0 }));
        ops.push(c.request(OpCode.setData, R.SetDataRequest, { path: p, data: Buffer.from('yy'), version: 0 }));
        ops.push(c.request(OpCode.getData, R.GetDataRequest, { path: p, watch: false }));
        writes += 2;
        reads += 1;
        if (ci === 0 && i % 20 === 0) scrapes.push(fetch(`http://127.0.0.1:${srv.server.metrics!.port}/metrics`).then((r) => r.text()));
      }
      for (const r of await Promise.all(ops) as Array<{ err: number }>) assert.equal(r.err, Err.OK);
    }));
    for (const text of await Promise.all(scrapes)) assert.match(text, /^# TYPE readlatency summary$/m, 'scrapes during the load answer');
    const text = await (await fetch(`http://127.0.0.1:${srv.server.metrics!.port}/metrics`)).text();
    const got = parse(text);

    const want = new Map<string, string>();
    for (const n of FAMILIES.counter!) want.set(n, 'counter');
    for (const n of FAMILIES.gauge!) want.set(n, 'gauge');
    for (const n of FAMILIES.summary!) want.set(n, 'summary');
    for (const n of FAMILIES.labelledSummary!) want.set(n, 'summary');
    for (const n of FAMILIES.labelledGauge!) want.set(n, 'gauge');
    for (const n of FAMILIES.labelledCounter!) want.set(n, 'counter');
    const missing = [...want.keys()].filter((n) => !got.has(n));
    assert.deepEqual(missing, [], 'every family Apache 3.8 exports');
    for (const [n, type] of want) assert.equal(got.get(n)!.type, type, `${n} is a ${type}`);
    const extra = [...got.keys()].filter((n) => !want.has(n) && !/^(process|nodejs)_/.test(n));
    assert.deepEqual(extra, [], 'nothing Apache does not export, beside the Node runtime figures');

    // Summaries: quantiles as the provider's detail level gives them.
    const advanced = new Set(FAMILIES.advanced);
    for (const n of FAMILIES.summary!) {
      const quantiles = got.get(n)!.samples.map((s) => /quantile="([\d.]+)"/.exec(s)?.[1]).filter(Boolean);
      assert.deepEqual(quantiles, advanced.has(n) ? ['0.5', '0.9', '0.99'] : ['0.5'], `${n} quantiles`);
    }
    // The counts are the traffic: 6 createSession + 4 setup creates + the load's writes are updates.
    assert.equal(sample(text, 'updatelatency_count'), 6 + 4 + writes);
    assert.equal(sample(text, 'readlatency_count'), reads);
    assert.equal(sample(text, 'write_per_namespace_count{key="load",}'), 1 + writes);
    assert.equal(sample(text, 'read_per_namespace_count{key="load",}'), reads);
    assert.equal(sample(text, 'quota_count_usage_per_namespace{key="load",}'), 1 + clients.slice(1).length * PER_CLIENT);
    assert.equal(sample(text, 'quota_count_limit_per_namespace{key="load",}'), 100000);
    assert.equal(sample(text, 'num_alive_connections'), clients.length);
    assert.equal(sample(text, 'connection_request_count'), clients.length);
    assert.ok(sample(text, 'fsynctime_count') >= 1 && sample(text, 'fsynctime_count') <= 6 + 4 + writes, 'group commit: at most one fsync per write');
    const p99 = sample(text, 'updatelatency{quantile="0.99",}');
    assert.ok(p99 >= sample(text, 'updatelatency{quantile="0.5",}'), 'quantiles ordered');
  } finally {
    for (const c of clients) c.close();
    await srv.stop();
  }
});
