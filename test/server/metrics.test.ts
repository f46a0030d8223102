// Operator-visible numbers over real sockets: 4lw, AdminServer HTTP and the Prometheus scrape
// read one registry; each number checked here is compared with what it measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, type TestServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { freePort, makeTempDir, startServerProcess, writeZooCfg, baseZooCfg, fourLetterWord } from '../support/ServerProcess.js';
import { OUR_ZK_CLI } from '../support/OurZk.js';
import { Err, OpCode, Perm } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import { COMMAND_NAMES } from '../../src/server/AdminServer.js';

const OPEN = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const ADMIN = { adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 };
const PROM = new Map([
  ['metricsProvider.className', 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider'],
  ['metricsProvider.httpHost', '127.0.0.1'],
  ['metricsProvider.httpPort', '0'],
]);

function word(port: number, w: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(w));
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

function mntrMap(text: string): Map<string, string> {
  return new Map(text.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
}

async function admin(srv: TestServer, cmd: string): Promise<Record<string, any>> {
  const res = await fetch(`http://127.0.0.1:${srv.server.admin!.port}/commands/${cmd}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, any>;
}

async function create(c: RawClient, p: string, data: Buffer | null): Promise<void> {
  const r = await c.request(OpCode.create, R.CreateRequest, { path: p, data, acl: OPEN, flags: 0 });
  assert.equal(r.err, Err.OK, `create ${p}`);
}

test('one trace mask: stmk and set_trace_mask change what both gtmk answer', async () => {
  const srv = await startServer(ADMIN);
  try {
    assert.equal(await word(srv.port, 'gtmk'), '306');
    assert.equal((await admin(srv, 'get_trace_mask')).tracemask, 306);
    const stmk = Buffer.alloc(12);
    stmk.write('stmk', 'latin1');
    stmk.writeBigInt64BE(4242n, 4);
    assert.equal(await word(srv.port, stmk), '4242');
    assert.equal((await admin(srv, 'gtmk')).tracemask, 4242, 'AdminServer sees the mask the 4lw set');
    const set = await admin(srv, 'set_trace_mask?traceMask=1234');
    assert.deepEqual(set, { tracemask: 1234, command: 'set_trace_mask', error: null });
    assert.equal(await word(srv.port, 'gtmk'), '1234', '4lw sees the mask the AdminServer set');
    assert.equal((await admin(srv, 'stmk?traceMask=12x')).error, 'setTraceMask requires long traceMask argument, got 12x');
    assert.equal((await admin(srv, 'stmk')).error, 'setTraceMask requires long traceMask argument');
    assert.equal((await admin(srv, 'stmk?traceMask=9223372036854775808')).error, 'setTraceMask requires long traceMask argument, got 9223372036854775808');
    assert.equal(await word(srv.port, 'gtmk'), '1234', 'rejected values leave the mask alone');
  } finally {
    await srv.stop();
  }
});

test('last_snapshot reports the newest snapshot file: its zxid and modification time', async () => {
  const srv = await startServer({ ...ADMIN, snapCount: 4 });
  try {
    const snapDir = path.join(srv.dataDir, 'version-2');
    const first = await admin(srv, 'last_snapshot');
    assert.equal(first.zxid, '0', 'the startup snapshot of an empty directory is snapshot.0');
    const st0 = fs.statSync(path.join(snapDir, 'snapshot.0'));
    assert.equal(first.timestamp, Math.floor(st0.mtimeMs / 1000));
    const c = await RawClient.connect(srv.port);
    for (let i = 0; i < 12; i++) await create(c, `/n${i}`, Buffer.from('x'));
    c.close();
    let snaps: string[] = [];
    for (let i = 0; i < 100; i++) {
      snaps = fs.readdirSync(snapDir).filter((f) => /^snapshot\.[0-9a-f]+$/.test(f) && f !== 'snapshot.0');
      if (snaps.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(snaps.length > 0, 'snapCount=4 made the server snapshot');
    // Wait until the newest file's snapshot is done (the server reports it once renamed and synced).
    const newest = snaps.map((f) => parseInt(f.split('.')[1]!, 16)).sort((a, b) => b - a)[0]!;
    let last = await admin(srv, 'last_snapshot');
    for (let i = 0; i < 50 && last.zxid !== newest.toString(16); i++) {
      await new Promise((r) => setTimeout(r, 20));
      last = await admin(srv, 'last_snapshot');
    }
    assert.equal(last.zxid, newest.toString(16));
    assert.notEqual(last.zxid, '0');
    assert.equal(last.timestamp, Math.floor(fs.statSync(path.join(snapDir, `snapshot.${last.zxid}`)).mtimeMs / 1000));
    const mntr = mntrMap(await word(srv.port, 'mntr'));
    assert.ok(Number(mntr.get('zk_cnt_snapshottime')) >= 2, 'startup and background snapshots are timed');
  } finally {
    await srv.stop();
  }
});

test('a server that keeps nothing on disk has no last snapshot (-1, as ZooKeeper without one)', async () => {
  const { ZkServer } = await import('../../src/server/ZkServer.js');
  const { defaultConfig } = await import('../../src/config/ServerConfig.js');
  const dir = makeTempDir('zkts-mem-');
  const server = new ZkServer(defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir: dir, dataLogDir: dir, ...ADMIN }), 'memory');
  await server.start();
  try {
    const r = (await (await fetch(`http://127.0.0.1:${server.admin!.port}/commands/lsnp`)).json()) as Record<string, unknown>;
    assert.deepEqual(r, { zxid: '-1', timestamp: -1, command: 'last_snapshot', error: null });
  } finally {
    await server.stop();
  }
});

test('file descriptor gauges measure this process: open count from /proc/self/fd, max from the soft limit', async () => {
  const srv = await startServer(ADMIN);
  try {
    const soft = Number(/^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
    const m = mntrMap(await word(srv.port, 'mntr'));
    assert.equal(Number(m.get('zk_max_file_descriptor_count')), soft);
    const open = fs.readdirSync('/proc/self/fd').length;
    // The count moves with sockets opened and closed around the reading.
    assert.ok(Math.abs(Number(m.get('zk_open_file_descriptor_count')) - open) <= 4, `${m.get('zk_open_file_descriptor_count')} vs ${open}`);
    const mon = await admin(srv, 'monitor');
    assert.equal(mon.max_file_descriptor_count, soft);
  } finally {
    await srv.stop();
  }
});

test('max_file_descriptor_count follows the limit the server process runs under', async () => {
  const workDir = makeTempDir('zkts-fd-');
  const dataDir = path.join(workDir, 'data');
  fs.mkdirSync(dataDir);
  const port = await freePort();
  const cfg = path.join(workDir, 'zoo.cfg');
  writeZooCfg(cfg, { ...baseZooCfg(dataDir, port, 2000), '4lw.commands.whitelist': '*' });
  // Node raises its soft limit to the hard one at startup, so both are set.
  const proc = await startServerProcess(
    'fd-limit', '/usr/bin/prlimit', ['--nofile=1234:1234', process.execPath, OUR_ZK_CLI, 'start-foreground', cfg],
    '127.0.0.1', port, dataDir, true, workDir, {},
  );
  try {
    const m = mntrMap(await fourLetterWord('127.0.0.1', port, 'mntr'));
    assert.equal(m.get('zk_max_file_descriptor_count'), '1234');
    assert.match(fs.readFileSync(`/proc/${proc.pid}/limits`, 'utf8'), /^Max open files\s+1234\s/m);
    const fds = fs.readdirSync(`/proc/${proc.pid}/fd`).length;
    assert.ok(Math.abs(Number(m.get('zk_open_file_descriptor_count')) - fds) <= 4);
  } finally {
    await proc.stop();
  }
});

test('mntr, conf, dirs and their AdminServer twins and the scrape do no synchronous file I/O', async () => {
  const srv = await startServer({ ...ADMIN, raw: PROM });
  // These modules import the default fs object, so counting its sync calls sees every one of them.
  const fsAny = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['readdirSync', 'statSync', 'readFileSync', 'existsSync', 'lstatSync', 'openSync'];
  const orig = new Map(names.map((n) => [n, fsAny[n]!]));
  const calls: string[] = [];
  try {
    for (const n of names) fsAny[n] = (...a: unknown[]) => (calls.push(`${n}(${String(a[0])})`), orig.get(n)!.apply(fs, a));
    const conf = await word(srv.port, 'conf');
    const dirs = await word(srv.port, 'dirs');
    await word(srv.port, 'mntr');
    await admin(srv, 'dirs');
    await admin(srv, 'monitor');
    await admin(srv, 'srvr');
    await fetch(`http://127.0.0.1:${srv.server.admin!.port}/console/api/stats`);
    await (await fetch(`http://127.0.0.1:${srv.server.metrics!.port}/metrics`)).text();
    assert.deepEqual(calls, []);
    // The asynchronous answers are still right: the sizes of the files in version-2.
    for (const n of names) fsAny[n] = orig.get(n)!;
    const v2 = path.join(srv.dataDir, 'version-2');
    const size = fs.readdirSync(v2).reduce((a, f) => a + fs.statSync(path.join(v2, f)).size, 0);
    assert.equal(dirs, `datadir_size: ${size}\nlogdir_size: ${size}\n`);
    assert.match(conf, new RegExp(`\\ndataDirSize=${size}\\n`));
    assert.match(conf, /\nserverId=0\n$/);
  } finally {
    for (const n of names) fsAny[n] = orig.get(n)!;
    await srv.stop();
  }
});

test('srvr Mode and mntr zk_server_state come from the server\'s role', async () => {
  const srv = await startServer(ADMIN);
  try {
    Object.defineProperty(srv.server, 'role', { value: 'follower' });
    assert.match(await word(srv.port, 'srvr'), /\nMode: follower\n/);
    assert.match(await word(srv.port, 'stat'), /\nMode: follower\n/);
    assert.match(await word(srv.port, 'mntr'), /^zk_version\t.*\nzk_server_state\tfollower\n/);
    assert.equal((await admin(srv, 'monitor')).server_state, 'follower');
    assert.equal((await admin(srv, 'srvr')).server_stats.server_state, 'follower');
  } finally {
    await srv.stop();
  }
});

test('request figures agree across mntr, /commands/monitor and /metrics, and match the traffic sent', async () => {
  const srv = await startServer({ ...ADMIN, raw: PROM });
  try {
    const c = await RawClient.connect(srv.port);
    await create(c, '/app', Buffer.from('hello'));
    await create(c, '/app/cfg', Buffer.from('0123456789'));
    const set = await c.request(OpCode.setData, R.SetDataRequest, { path: '/app/cfg', data: Buffer.from('abc'), version: -1 });
    assert.equal(set.err, Err.OK);
    for (let i = 0; i < 5; i++) assert.equal((await c.request(OpCode.getData, R.GetDataRequest, { path: '/app/cfg', watch: false })).err, Err.OK);
    const ping = await c.request(OpCode.ping);
    assert.equal(ping.err, Err.OK);
    const m = mntrMap(await word(srv.port, 'mntr'));
    // createSession + 3 writes are updates; 5 getData + 1 ping are reads.
    assert.equal(m.get('zk_cnt_updatelatency'), '4');
    assert.equal(m.get('zk_cnt_readlatency'), '6');
    // A ping reply is the 16-byte ReplyHeader alone: the smallest response, and the last one.
    assert.equal(m.get('zk_min_client_response_size'), '16');
    assert.equal(m.get('zk_last_client_response_size'), '16');
    // Bytes written per namespace: path length + data, as DataTree.updateWriteStat counts them.
    assert.equal(m.get('zk_cnt_app_write_per_namespace'), '3');
    assert.equal(m.get('zk_sum_app_write_per_namespace'), String(4 + 5 + 8 + 10 + 8 + 3));
    assert.equal(m.get('zk_connection_request_count'), '1');
    assert.ok(Number(m.get('zk_cnt_fsynctime')) >= 1, 'writes were fsynced and timed');
    assert.ok(Number(m.get('zk_cnt_sync_processor_batch_size')) >= 1);
    assert.equal(m.get('zk_cnt_propagation_latency'), '4');
    assert.equal(m.get('zk_cnt_startup_snap_load_time'), '1');
    assert.equal(m.get('zk_cnt_dbinittime'), '1');
    // 1 connect + 3 writes + 5 reads + 1 ping frames, then this mntr word: 10 frames + 4 bytes.
    assert.equal(m.get('zk_packets_received'), '11');
    const mon = await admin(srv, 'monitor');
    const prom = await (await fetch(`http://127.0.0.1:${srv.server.metrics!.port}/metrics`)).text();
    assert.equal(mon.cnt_updatelatency, 4);
    assert.match(prom, /\nupdatelatency_count 4\.0\n/);
    assert.match(prom, /\nreadlatency_count 6\.0\n/);
    assert.equal(Number(/\nfsynctime_count (\S+)\n/.exec(prom)![1]), Number(m.get('zk_cnt_fsynctime')));
    assert.equal(Number(/\nbytes_received_count (\S+)\n/.exec(prom)![1]), Number(m.get('zk_bytes_received_count')) + (mon.bytes_received_count - Number(m.get('zk_bytes_received_count'))));
    assert.match(prom, /\nwrite_per_namespace_count\{key="app",\} 3\.0\n/);
    const srvr = await word(srv.port, 'srvr');
    const [, min, avg, max] = /Latency min\/avg\/max: (\d+)\/([\d.]+)\/(\d+)/.exec(srvr)!;
    assert.equal(Number(min), mon.min_latency);
    assert.equal(Number(max), mon.max_latency);
    assert.equal(Number(avg), mon.avg_latency);
    // srst zeroes the counters and summaries, not the state gauges.
    assert.equal(await word(srv.port, 'srst'), 'Server stats reset.\n');
    const after = mntrMap(await word(srv.port, 'mntr'));
    assert.equal(after.get('zk_cnt_updatelatency'), '0');
    assert.equal(after.get('zk_connection_request_count'), '0');
    assert.equal(after.get('zk_packets_received'), '1');
    assert.equal(after.get('zk_znode_count'), m.get('zk_znode_count'));
    c.close();
  } finally {
    await srv.stop();
  }
});

test('AdminServer lists and runs every ZooKeeper 3.8 command', async () => {
  const apache = [
    'configuration', 'connection_stat_reset', 'connections', 'dirs', 'dump', 'environment', 'get_trace_mask', 'hash',
    'initial_configuration', 'is_read_only', 'last_snapshot', 'leader', 'monitor', 'observer_connection_stat_reset',
    'observers', 'ruok', 'server_stats', 'set_trace_mask', 'stat_reset', 'stats', 'system_properties', 'voting_view',
    'watch_summary', 'watches', 'watches_by_path', 'zabstate',
  ];
  assert.deepEqual([...COMMAND_NAMES].sort(), apache);
  const srv = await startServer(ADMIN);
  try {
    const list = await (await fetch(`http://127.0.0.1:${srv.server.admin!.port}/commands`)).text();
    for (const n of apache) assert.ok(list.includes(`<a href="/commands/${n}">${n}</a><br/>`), n);
    for (const n of apache) {
      const r = await admin(srv, n === 'set_trace_mask' ? 'set_trace_mask?traceMask=306' : n);
      assert.equal(r.command, n);
      assert.equal(r.error, n === 'leader' ? 'server is not initialized' : null, n);
    }
    const conf = await admin(srv, 'configuration');
    assert.equal(conf.data_dir, path.join(srv.dataDir, 'version-2'));
    assert.equal(conf.server_id, 0);
    assert.equal(conf.client_port, srv.port);
    const dirs = await admin(srv, 'dirs');
    const v2 = path.join(srv.dataDir, 'version-2');
    const size = fs.readdirSync(v2).reduce((a, f) => a + fs.statSync(path.join(v2, f)).size, 0);
    assert.deepEqual(dirs, { datadir_size: size, logdir_size: size, command: 'dirs', error: null });
    assert.deepEqual(await admin(srv, 'observers'), { synced_observers: 0, observers: [], command: 'observers', error: null });
    assert.deepEqual(await admin(srv, 'zabstate'), { voting: false, zabstate: '', command: 'zabstate', error: null });
    assert.equal((await admin(srv, 'srvr')).server_stats.data_dir_size, size);
  } finally {
    await srv.stop();
  }
});

test('quota gauges per namespace read the limits and usage nodes under /zookeeper/quota', async () => {
  const srv = await startServer(ADMIN);
  try {
    const c = await RawClient.connect(srv.port);
    await create(c, '/app', null);
    await create(c, '/app/a', Buffer.from('12345'));
    // What zkCli's setquota writes: limits, and the usage it counted; the server keeps usage current.
    await create(c, '/zookeeper/quota/app', null);
    await create(c, '/zookeeper/quota/app/zookeeper_limits', Buffer.from('count=10,bytes=-1,countHardLimit=-1,byteHardLimit=100'));
    await create(c, '/zookeeper/quota/app/zookeeper_stats', Buffer.from('count=2,bytes=5'));
    await create(c, '/app/b', Buffer.from('abc'));
    const m = mntrMap(await word(srv.port, 'mntr'));
    assert.equal(m.get('zk_app_quota_count_limit_per_namespace'), '10');
    assert.equal(m.get('zk_app_quota_bytes_limit_per_namespace'), '100', 'a hard limit is the one enforced');
    const stats = srv.server.tree.get('/zookeeper/quota/app/zookeeper_stats')!.data!.toString();
    const count = Number(/count=(\d+)/.exec(stats)![1]);
    const bytes = Number(/bytes=(\d+)/.exec(stats)![1]);
    assert.deepEqual([count, bytes], [3, 8], '/app/b was counted');
    assert.equal(m.get('zk_app_quota_count_usage_per_namespace'), String(count));
    assert.equal(m.get('zk_app_quota_bytes_usage_per_namespace'), String(bytes));
    // Gauge sets sit between the gauges and the counters, as ZooKeeper dumps them.
    const keys = [...m.keys()];
    assert.ok(keys.indexOf('zk_app_quota_count_limit_per_namespace') > keys.indexOf('zk_non_mtls_local_conn_count'));
    assert.ok(keys.indexOf('zk_app_quota_bytes_usage_per_namespace') < keys.indexOf('zk_proposal_count'));
    c.close();
  } finally {
    await srv.stop();
  }
});

test('digest_mismatches_count reads the mismatches the data tree counts; srst zeroes what mntr shows', async () => {
  const srv = await startServer(ADMIN);
  try {
    assert.equal(mntrMap(await word(srv.port, 'mntr')).get('zk_digest_mismatches_count'), '0');
    // The tree counts a mismatch where it compares a logged or snapshot digest with its own.
    srv.server.tree.digestMismatches += 2;
    assert.equal(mntrMap(await word(srv.port, 'mntr')).get('zk_digest_mismatches_count'), '2');
    assert.equal((await admin(srv, 'monitor')).digest_mismatches_count, 2);
    await word(srv.port, 'srst');
    assert.equal(mntrMap(await word(srv.port, 'mntr')).get('zk_digest_mismatches_count'), '0');
    srv.server.tree.digestMismatches += 1;
    assert.equal(mntrMap(await word(srv.port, 'mntr')).get('zk_digest_mismatches_count'), '1');
  } finally {
    await srv.stop();
  }
});

test('pipeline figures measure the traffic: watches fired, watch bytes, reads per namespace, prep, outstanding changes, log queue', async () => {
  const srv = await startServer({ enforceQuota: true });
  try {
    const c = await RawClient.connect(srv.port);
    const w = await RawClient.connect(srv.port);
    await create(c, '/ns', null);
    for (let i = 0; i < 5; i++) await create(c, `/ns/n${i}`, Buffer.from('x'.repeat(10)));
    // Three data watches and one child watch, fired by one setData and one create.
    for (let i = 0; i < 3; i++) await w.request(OpCode.getData, R.GetDataRequest, { path: '/ns/n0', watch: true });
    await w.request(OpCode.getChildren, R.GetChildrenRequest, { path: '/ns', watch: true });
    const other = await RawClient.connect(srv.port);
    await other.request(OpCode.exists, R.ExistsRequest, { path: '/ns/n0', watch: true });
    await c.request(OpCode.setData, R.SetDataRequest, { path: '/ns/n0', data: Buffer.from('y'), version: -1 });
    await create(c, '/ns/n5', null);
    await w.waitEvents(2);
    await other.waitEvents(1);
    // A hard quota of 1 node under /q: the second create is refused.
    await create(c, '/q', null);
    await create(c, '/zookeeper/quota/q', null);
    await create(c, '/zookeeper/quota/q/zookeeper_limits', Buffer.from('count=-1,bytes=-1,countHardLimit=1,byteHardLimit=-1'));
    await create(c, '/zookeeper/quota/q/zookeeper_stats', Buffer.from('count=1,bytes=0'));
    const refused = await c.request(OpCode.create, R.CreateRequest, { path: '/q/a', data: null, acl: OPEN, flags: 0 });
    assert.equal(refused.err, Err.QuotaExceeded);
    const m = mntrMap(await word(srv.port, 'mntr'));
    const num = (k: string) => Number(m.get(`zk_${k}`));
    // setData fired two watchers (w's and other's data watches on /ns/n0: one per connection).
    assert.equal(num('cnt_node_changed_watch_count'), 1);
    assert.equal(num('max_node_changed_watch_count'), 2);
    assert.equal(num('cnt_node_children_watch_count'), 1);
    // Two notifications of 20 + path bytes each went to w, one to other.
    assert.ok(num('watch_bytes') > 3 * 20, `watch_bytes ${num('watch_bytes')}`);
    // Reads under /ns: 3 getData of 10 bytes, 1 getChildren, 1 exists.
    assert.equal(num('cnt_ns_read_per_namespace'), 5);
    assert.equal(num('sum_ns_read_per_namespace') > 3 * 10, true);
    // Every write was prepped and queued for the log; changes were recorded and retired.
    const writes = 1 + 5 + 1 + 1 + 4 + 1; // creates, setData, quota nodes, the refused create (an error txn)
    assert.equal(num('cnt_prep_process_time'), writes + 3, 'every write and the 3 createSessions were prepped');
    assert.equal(num('sync_processor_request_queued'), writes + 3);
    assert.equal(num('cnt_sync_processor_queue_time_ms'), num('sync_processor_request_queued'));
    assert.ok(num('outstanding_changes_queued') >= writes);
    assert.equal(num('outstanding_changes_queued'), num('outstanding_changes_removed'), 'everything prepared was applied');
    assert.equal(m.get('zk_q_quota_exceeded_error_per_namespace'), '1');
    c.close();
    w.close();
    other.close();
  } finally {
    await srv.stop();
  }
});

test('the scrape adds the Node runtime figures (exportJvmInfo), measured from this process; exportJvmInfo=false leaves them out', async () => {
  const srv = await startServer({ ...ADMIN, raw: PROM });
  const quiet = await startServer({ ...ADMIN, raw: new Map([...PROM, ['metricsProvider.exportJvmInfo', 'false']]) });
  try {
    // Garbage to collect, and a stall the event-loop monitor must see (it samples every 10 ms).
    for (let i = 0; i < 50; i++) new Array(100000).fill({ i });
    await new Promise((r) => setTimeout(r, 30));
    const until = Date.now() + 60;
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 30));
    const text = await (await fetch(`http://127.0.0.1:${srv.server.metrics!.port}/metrics`)).text();
    const value = (name: string): number => {
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      assert.ok(m, `${name} in the scrape`);
      return Number(m[1]);
    };
    for (const [name, type] of [
      ['process_cpu_seconds_total', 'counter'], ['process_resident_memory_bytes', 'gauge'], ['process_open_fds', 'gauge'],
      ['process_max_fds', 'gauge'], ['process_start_time_seconds', 'gauge'], ['nodejs_heap_size_used_bytes', 'gauge'],
      ['nodejs_eventloop_lag_max_seconds', 'gauge'], ['nodejs_eventloop_lag_p99_seconds', 'gauge'], ['nodejs_gc_duration_seconds', 'histogram'],
    ]) assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
    const cpu = process.cpuUsage();
    assert.ok(value('process_cpu_seconds_total') > 0 && value('process_cpu_seconds_total') <= (cpu.user + cpu.system) / 1e6 + 0.01);
    const rss = process.memoryUsage.rss();
    assert.ok(Math.abs(value('process_resident_memory_bytes') - rss) < rss / 2, 'RSS near what the process reports');
    // Sockets come and go between the scrape and this count; a constant would still be far off.
    assert.ok(Math.abs(value('process_open_fds') - fs.readdirSync('/proc/self/fd').length) <= 2, 'open descriptors of this process');
    assert.ok(Math.abs(value('process_start_time_seconds') - (Date.now() / 1000 - process.uptime())) <= 1);
    assert.ok(value('nodejs_eventloop_lag_max_seconds') >= 0.05, 'the 60 ms busy loop shows as event-loop delay');
    assert.ok(/^nodejs_gc_duration_seconds_count\{kind="\w+"\} [1-9]/m.test(text), 'collections were observed');
    // The ZooKeeper figures are still there, and the runtime ones are not in mntr.
    assert.match(text, /^# TYPE readlatency summary$/m);
    assert.doesNotMatch(await word(srv.port, 'mntr'), /^zk_(process|nodejs)_/m);
    const plain = await (await fetch(`http://127.0.0.1:${quiet.server.metrics!.port}/metrics`)).text();
    assert.match(plain, /^# TYPE readlatency summary$/m);
    assert.doesNotMatch(plain, /^(# TYPE )?(process|nodejs)_/m);
  } finally {
    await srv.stop();
    await quiet.stop();
  }
});
