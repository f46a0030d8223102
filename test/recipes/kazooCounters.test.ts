// Counters shared with Python services: kazoo's Counter (decimal text) against our
// DistributedCounter with format 'kazoo', and kazoo's Counter(support_curator=True) (a 4-byte
// big-endian int, Curator's SharedCount layout) against our SharedCount, racing on one node of our
// server. Skipped where Debian's kazoo is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { DistributedCounter, SharedCount } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

const PYTHON = '/usr/bin/python3';
const kazooAvailable = fs.existsSync('/usr/lib/python3/dist-packages/kazoo/client.py');

/** Runs kazoo: `n` increments of the Counter at `path`, then prints its value. */
function kazooIncrements(hosts: string, path: string, n: number, curator: boolean): Promise<string> {
  const script = `
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1])
zk.start(timeout=10)
c = zk.Counter(sys.argv[2], support_curator=(sys.argv[4] == '1'))
for _ in range(int(sys.argv[3])):
    c += 1
print(c.value)
zk.stop()
`;
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, ['-c', script, hosts, path, String(n), curator ? '1' : '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`kazoo exited ${code}: ${err.slice(-2000)}`))));
  });
}

let server: TestServer;
let zk: ZooKeeper;
before(async () => {
  if (!kazooAvailable) return;
  server = await startServer({ tickTime: 100 });
  zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
});
after(async () => {
  if (!kazooAvailable) return;
  await zk.close();
  await server.stop();
});

test('kazoo Counter and DistributedCounter({format: "kazoo"}) increment one node without losing updates', { skip: !kazooAvailable && 'kazoo not installed' }, async () => {
  const ours = new DistributedCounter(zk, '/kz/counter', { format: 'kazoo' });
  const python = kazooIncrements(server.connectString, '/kz/counter', 300, false);
  // Start once kazoo is incrementing, so the two really race on the node's version.
  await eventually(async () => (await ours.get()) > 0, 10000, 'kazoo started');
  let pythonDone = false;
  void python.then(() => (pythonDone = true), () => {});
  let overlapped = 0;
  for (let i = 0; i < 300; i++) {
    await ours.increment();
    if (!pythonDone) overlapped++;
  }
  await python;
  assert.ok(overlapped > 0, 'no increments overlapped with kazoo');
  assert.equal(await ours.get(), 600);
  assert.equal((await zk.getData('/kz/counter')).data?.toString('ascii'), '600', 'plain decimal text, as kazoo writes it');
  assert.equal(await kazooIncrements(server.connectString, '/kz/counter', 1, false), '601');
});

test('kazoo Counter(support_curator=True) and SharedCount share a 4-byte int', { skip: !kazooAvailable && 'kazoo not installed' }, async () => {
  const shared = new SharedCount(zk, '/kz/shared', 7);
  await shared.start();
  assert.equal(await kazooIncrements(server.connectString, '/kz/shared', 5, true), '12');
  await eventually(() => shared.getCount() === 12, 5000, 'SharedCount sees kazoo increments');
  assert.equal(await shared.trySetCount(shared.getVersionedValue(), 100), true);
  assert.equal(await kazooIncrements(server.connectString, '/kz/shared', 1, true), '101');
  await shared.close();
});
