// Mutual exclusion between our Mutex with kazoo naming and kazoo's Lock on one path of our server:
// a kazoo process holds the lock while ours waits, and the other way round. Skipped where Debian's
// kazoo is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { Mutex } from '../../src/recipes/index.js';
import { startServer, type TestServer } from '../support/OurServer.js';

const PYTHON = '/usr/bin/python3';
const kazooAvailable = fs.existsSync('/usr/lib/python3/dist-packages/kazoo/client.py');

// Prints timestamped lines: "held <ms>" when it holds, "released <ms>" just before releasing,
// "timeout" when a timed acquire fails. argv: hosts path mode(hold|try) holdMs/timeoutS
const script = `
import sys, time
from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout
zk = KazooClient(hosts=sys.argv[1])
zk.start(timeout=10)
lock = zk.Lock(sys.argv[2], "py")
now = lambda: int(time.time() * 1000)
if sys.argv[3] == 'hold':
    lock.acquire()
    print("held", now(), flush=True)
    time.sleep(int(sys.argv[4]) / 1000)
    print("released", now(), flush=True)
    lock.release()
else:
    print("trying", now(), flush=True)
    try:
        ok = lock.acquire(timeout=float(sys.argv[4]))
    except LockTimeout:
        ok = False
    print(("held" if ok else "timeout"), now(), flush=True)
    if ok:
        lock.release()
zk.stop()
`;

function runKazoo(args: string[]): { lines: AsyncIterableIterator<string>; done: Promise<void> } {
  const p = spawn(PYTHON, ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise<void>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kazoo exited ${code}: ${err.slice(-2000)}`))));
  });
  return { lines: readline.createInterface({ input: p.stdout })[Symbol.asyncIterator](), done };
}

async function nextLine(it: AsyncIterableIterator<string>): Promise<[string, number]> {
  const { value } = await it.next();
  const [word, ms] = String(value).split(' ');
  return [word!, Number(ms)];
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

test('kazoo holds, our kazoo-named Mutex waits until kazoo releases', { skip: !kazooAvailable && 'kazoo not installed' }, async () => {
  const py = runKazoo([server.connectString, '/kzl/a', 'hold', '600']);
  assert.equal((await nextLine(py.lines))[0], 'held');
  const m = new Mutex(zk, '/kzl/a', { naming: 'kazoo' });
  assert.equal(await m.acquire(200), false, 'must not get the lock kazoo holds');
  assert.equal(await m.acquire(5000), true);
  const gotAt = Date.now();
  const [word, releasedAt] = await nextLine(py.lines);
  assert.equal(word, 'released');
  assert.ok(gotAt >= releasedAt, `acquired at ${gotAt}, kazoo released at ${releasedAt}`);
  assert.match(m.nodePath!.split('/').pop()!, /^[0-9a-f]{32}__lock__\d{10}$/);
  await m.release();
  await py.done;
});

test('our kazoo-named Mutex holds, kazoo times out, then gets it after our release', { skip: !kazooAvailable && 'kazoo not installed' }, async () => {
  const m = new Mutex(zk, '/kzl/b', { naming: 'kazoo' });
  await m.acquire();
  const py1 = runKazoo([server.connectString, '/kzl/b', 'try', '0.3']);
  assert.equal((await nextLine(py1.lines))[0], 'trying');
  assert.equal((await nextLine(py1.lines))[0], 'timeout');
  await py1.done;
  const py2 = runKazoo([server.connectString, '/kzl/b', 'try', '10']);
  assert.equal((await nextLine(py2.lines))[0], 'trying');
  await new Promise((r) => setTimeout(r, 300));
  const releasedAt = Date.now();
  await m.release();
  const [word, heldAt] = await nextLine(py2.lines);
  assert.equal(word, 'held');
  assert.ok(heldAt >= releasedAt - 5, `kazoo held at ${heldAt}, we released at ${releasedAt}`);
  await py2.done;
});
