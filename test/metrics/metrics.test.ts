// The metrics registry on its own: ZooKeeper's names, order, number formats and summaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { javaDouble } from '../../src/metrics/javaFormat.js';
import { Registry } from 'prom-client';
import { AvgMinMax, SampledStat, SET_RESERVOIR_SIZE, ZkSummarySet, quantile } from '../../src/metrics/Summary.js';
import { ZkMetrics, GAUGE_NAMES, GAUGE_SET_NAMES, mntrValue, type GaugeReaders, type GaugeSetReaders } from '../../src/metrics/ZkMetrics.js';
import { parseMaxOpenFiles } from '../../src/metrics/ProcessFds.js';

const BESIDE = path.resolve(process.cwd(), '../shared/vectors/client/4lw');
const VECTORS = fs.existsSync(BESIDE) ? BESIDE : '/work/shared/vectors/client/4lw';

function metrics(gauge: (name: string) => number = () => 0, sets: Map<string, number> = new Map()): ZkMetrics {
  const g = Object.fromEntries(GAUGE_NAMES.map((n) => [n, () => gauge(n)])) as unknown as GaugeReaders;
  const s = Object.fromEntries(GAUGE_SET_NAMES.map((n) => [n, () => sets])) as unknown as GaugeSetReaders;
  return new ZkMetrics(g, s);
}

test('javaDouble prints as Java Double.toString does', () => {
  const cases: Array<[number, string]> = [
    [5, '5.0'], [0, '0.0'], [7, '7.0'], [0.1333, '0.1333'], [5.1667, '5.1667'], [76.625, '76.625'],
    [0.001, '0.001'], [0.0001, '1.0E-4'], [1234567, '1234567.0'], [12345678, '1.2345678E7'], [1e7, '1.0E7'],
    [-2.5, '-2.5'], [NaN, 'NaN'], [Number.MAX_SAFE_INTEGER, '9.007199254740991E15'],
  ];
  for (const [x, want] of cases) assert.equal(javaDouble(x), want, String(x));
});

test('AvgMinMax: ZooKeeper rounds the mean half-up to 4 decimals and reports 0 when empty', () => {
  const s = new AvgMinMax();
  assert.deepEqual([s.avg, s.min, s.max, s.count], [0, 0, 0, 0]);
  for (const v of [0, 20, 5, 6, 0, 0]) s.add(v);
  assert.equal(s.avg, 5.1667);
  assert.equal(s.min, 0);
  assert.equal(s.max, 20);
  assert.equal(s.total, 31);
  s.reset();
  assert.deepEqual([s.avg, s.min, s.max, s.count], [0, 0, 0, 0]);
});

test('quantiles interpolate the sorted sample; the sample stays bounded and uniform', () => {
  const s = new SampledStat();
  for (let i = 1; i <= 100; i++) s.add(i);
  const sorted = s.sorted();
  assert.equal(quantile(sorted, 0.5), 50.5);
  assert.equal(quantile(sorted, 0.99), 99.99);
  assert.equal(quantile(sorted, 0.001), 1);
  assert.ok(Number.isNaN(quantile(new Float64Array(0), 0.5)));
  const big = new SampledStat();
  for (let i = 0; i < 100000; i++) big.add(i % 1000);
  assert.equal(big.count, 100000);
  assert.equal(big.sorted().length, 4096);
  const median = quantile(big.sorted(), 0.5);
  assert.ok(median > 400 && median < 600, `median of a uniform 0..999 sample: ${median}`);
});

test('a summary set holds a small, growing sample per key: 10,000 namespaces stay cheap', () => {
  const reg = new Registry();
  const set = new ZkSummarySet('write_per_namespace', false, reg);
  for (let k = 0; k < 10_000; k++) for (let i = 0; i < 3; i++) set.add(`k${k}`, 100 + i);
  for (let i = 0; i < 10_000; i++) set.add('busy', i % 1000);
  const rooms = set.sampleRooms();
  assert.equal(rooms.get('k0'), 16, 'three samples take the first 16 slots only');
  assert.equal(rooms.get('busy'), SET_RESERVOIR_SIZE);
  let total = 0;
  for (const r of rooms.values()) total += r;
  assert.ok(total * 8 < 2 * 1024 * 1024, `${total * 8} bytes of samples for 10,001 keys`);
  const sample = new SampledStat(SET_RESERVOIR_SIZE);
  for (let i = 0; i < 10_000; i++) sample.add(i % 1000);
  const median = quantile(sample.sorted(), 0.5);
  assert.ok(median > 350 && median < 650, `median from ${SET_RESERVOIR_SIZE} samples: ${median}`);
});

test('the soft open-files limit is read from /proc/<pid>/limits', () => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \n'
    + 'Max processes             63704                63704                processes \n'
    + 'Max open files            4321                 524288               files     \n';
  assert.equal(parseMaxOpenFiles(text), 4321);
  assert.equal(parseMaxOpenFiles('Max open files            unlimited            unlimited            files\n'), Number.MAX_SAFE_INTEGER);
  assert.equal(parseMaxOpenFiles('nothing here'), null);
});

test('mntr lists the registry in exactly the keys and order Apache ZooKeeper 3.8 prints', async () => {
  const vector = fs.readFileSync(path.join(VECTORS, 'mntr.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
  const m = metrics();
  // The recorded server had read from and written to the /app namespace.
  m.summarySet.read_per_namespace.add('app', 73);
  m.summarySet.write_per_namespace.add('app', 5);
  const keys = ['version', 'server_state', ...(await m.monitorEntries()).map(([k]) => k)].map((k) => `zk_${k}`);
  assert.deepEqual(keys, vector);
});

test('mntr values: Long as integers, Double as Java prints it, percentiles rounded', async () => {
  const m = metrics((n) => (n === 'avg_latency' ? 7 : n === 'znode_count' ? 9 : 0));
  for (const v of [2, 13, 36, 5, 10, 20]) m.summary.updatelatency.add(v);
  m.counter.response_bytes.inc(812);
  const e = new Map((await m.monitorEntries()).map(([k, v, d]) => [k, mntrValue(v, d)]));
  assert.equal(e.get('avg_latency'), '7.0');
  assert.equal(e.get('znode_count'), '9');
  assert.equal(e.get('connection_drop_probability'), '0.0');
  assert.equal(e.get('response_bytes'), '812');
  assert.equal(e.get('avg_updatelatency'), '14.3333');
  assert.equal(e.get('min_updatelatency'), '2');
  assert.equal(e.get('max_updatelatency'), '36');
  assert.equal(e.get('cnt_updatelatency'), '6');
  assert.equal(e.get('sum_updatelatency'), '86');
  assert.equal(e.get('p50_updatelatency'), '12');
  assert.equal(e.get('p999_updatelatency'), '36');
  assert.equal(e.get('avg_fsynctime'), '0.0');
  assert.equal(e.get('p50_readlatency'), '0');
});

test('Prometheus text: gauges, counters, labelled sets and summaries with ZooKeeper quantiles', async () => {
  const m = metrics((n) => (n === 'znode_count' ? 5 : 0), new Map([['app', 3]]));
  m.counter.connection_request_count.inc(2);
  m.summary.fsynctime.add(4);
  for (let i = 1; i <= 10; i++) m.summary.readlatency.add(i);
  m.counterSet.quota_exceeded_error_per_namespace.inc({ key: 'app' });
  m.summarySet.write_per_namespace.add('app', 10);
  const text = await m.prometheus();
  assert.match(text, /# HELP znode_count znode_count\n# TYPE znode_count gauge\nznode_count 5\.0\n/);
  assert.match(text, /# TYPE connection_request_count counter\nconnection_request_count 2\.0\n/);
  assert.match(text, /\nquota_count_limit_per_namespace\{key="app",\} 3\.0\n/);
  assert.match(text, /\nquota_exceeded_error_per_namespace\{key="app",\} 1\.0\n/);
  // BASIC summaries carry the median only; ADVANCED ones 0.5, 0.9 and 0.99.
  assert.match(text, /# TYPE fsynctime summary\nfsynctime\{quantile="0\.5",\} 4\.0\nfsynctime_count 1\.0\nfsynctime_sum 4\.0\n/);
  assert.match(text, /readlatency\{quantile="0\.5",\} 5\.5\nreadlatency\{quantile="0\.9",\} 9\.9\nreadlatency\{quantile="0\.99",\} 10\.0\nreadlatency_count 10\.0\nreadlatency_sum 55\.0\n/);
  assert.match(text, /\nupdatelatency\{quantile="0\.5",\} NaN\n/);
  assert.match(text, /\nwrite_per_namespace\{key="app",quantile="0\.5",\} 10\.0\nwrite_per_namespace_count\{key="app",\} 1\.0\n/);
  // Every family is announced once, and every sample line parses as name{labels} value.
  const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => x[1]);
  assert.equal(new Set(families).size, families.length);
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
    assert.match(line, /^[a-z_]+(\{[^}]*\})? (-?[\d.]+(E-?\d+)?|NaN|[+-]Inf)$/, line);
  }
});

test('resetAll zeroes counters and summaries but not gauges', async () => {
  const m = metrics((n) => (n === 'znode_count' ? 5 : 0));
  m.counter.bytes_received_count.inc(100);
  m.summary.snapshottime.add(3);
  m.summarySet.read_per_namespace.add('app', 80);
  m.resetAll();
  const e = new Map((await m.monitorEntries()).map(([k, v]) => [k, v]));
  assert.equal(e.get('bytes_received_count'), 0);
  assert.equal(e.get('cnt_snapshottime'), 0);
  assert.equal(e.get('cnt_app_read_per_namespace'), 0);
  assert.equal(e.get('znode_count'), 5);
});
