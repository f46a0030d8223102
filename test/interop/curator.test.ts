// Cross-client interop with Apache Curator 5.4 (Debian's libcurator-*-java): a small Java program,
// test/interop/curator/CuratorProbe.java, is compiled with javac at test time and driven line by
// line over stdin while our Node client works on the same paths. The same tests run against our
// server and against Apache ZooKeeper 3.8, so a difference between the two shows which side is at
// fault. Nothing is skipped: CI (.ci/run) installs javac, the Curator jars and Apache ZooKeeper, so
// their absence is a failure.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { ZooKeeper } from '../../src/client/index.js';
import { Mutex } from '../../src/recipes/Mutex.js';
import { LeaderLatch } from '../../src/recipes/LeaderLatch.js';
import { SharedCount } from '../../src/recipes/SharedCount.js';
import { DistributedAtomicLong } from '../../src/recipes/DistributedAtomicLong.js';
import { ServiceDiscovery } from '../../src/recipes/ServiceDiscovery.js';
import { DistributedDelayQueue, DistributedPriorityQueue } from '../../src/recipes/CuratorQueue.js';
import { startOurZk, type RunningServer } from '../support/OurZk.js';
import { startApacheZk } from '../support/ApacheZk.js';
import { INTEROP_SRC } from './harness.js';

const JARS = [
  'curator-client',
  'curator-framework',
  'curator-recipes',
  'curator-x-discovery',
  'zookeeper',
  'zookeeper-jute',
  'guava',
  'slf4j-api',
  // Keeps ZooKeeper's and Curator's logging off stdout, which carries the probe's answers.
  'slf4j-nop',
  'jackson-core',
  'jackson-databind',
  'jackson-annotations',
].map((j) => `/usr/share/java/${j}.jar`);

type Reply = Record<string, unknown> & { cmd: string; ok?: boolean; error?: string };

/** One running CuratorProbe: `send` writes a command and resolves with its PROBE answer. */
class Probe {
  private readonly replies: Reply[] = [];
  private waiter: ((r: Reply | null) => void) | null = null;
  private exited = false;
  readonly log: string[] = [];

  constructor(private readonly child: ChildProcess) {
    const onLine = (line: string) => {
      this.log.push(line);
      if (!line.startsWith('PROBE ')) return;
      const r = JSON.parse(line.slice(6)) as Reply;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(r);
      } else this.replies.push(r);
    };
    readline.createInterface({ input: child.stdout! }).on('line', onLine);
    readline.createInterface({ input: child.stderr! }).on('line', (l) => this.log.push(`stderr: ${l}`));
    child.on('exit', () => {
      this.exited = true;
      this.waiter?.(null);
      this.waiter = null;
    });
  }

  /** Next answer, or a failure naming the command after `timeoutMs` (every wait is bounded). */
  next(what: string, timeoutMs = 30000): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited) return Promise.reject(new Error(`CuratorProbe exited before answering ${what}:\n${this.log.join('\n')}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`CuratorProbe gave no answer to ${what} within ${timeoutMs} ms:\n${this.log.join('\n')}`));
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        if (r) resolve(r);
        else reject(new Error(`CuratorProbe exited before answering ${what}:\n${this.log.join('\n')}`));
      };
    });
  }

  /** Sends a command and requires it to have succeeded on the Java side. */
  async send(cmd: string, timeoutMs?: number): Promise<Reply> {
    this.child.stdin!.write(cmd + '\n');
    const r = await this.next(cmd, timeoutMs);
    assert.equal(r.ok, true, `Curator failed "${cmd}": ${r.error}`);
    return r;
  }

  async quit(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  }
}

let classDir: string;

before(async () => {
  const missing = ['/usr/bin/javac', '/usr/bin/java', ...JARS].filter((f) => !fs.existsSync(f));
  assert.deepEqual(missing, [], 'javac/java or Curator jars missing (apt-get install libcurator-recipes-java libcurator-discovery-java)');
  classDir = fs.mkdtempSync(path.join(os.tmpdir(), 'curator-probe-'));
  const src = path.join(INTEROP_SRC, 'curator', 'CuratorProbe.java');
  const c = spawnSync('/usr/bin/javac', ['-nowarn', '-d', classDir, '-cp', JARS.join(':'), src], { encoding: 'utf8', timeout: 120000 });
  assert.equal(c.status, 0, `javac failed:\n${c.stdout}${c.stderr}`);
});

after(() => {
  if (classDir) fs.rmSync(classDir, { recursive: true, force: true });
});

async function startProbe(server: RunningServer): Promise<Probe> {
  const child = spawn('/usr/bin/java', ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', [classDir, ...JARS].join(':'), 'CuratorProbe', server.connectString], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const p = new Probe(child);
  const hello = await p.next('hello (connecting)', 60000);
  assert.equal(hello.connected, true, `Curator did not connect to our server:\n${p.log.join('\n')}`);
  return p;
}

async function withBoth(server: RunningServer, fn: (java: Probe, zk: ZooKeeper) => Promise<void>): Promise<void> {
  const java = await startProbe(server);
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 10000 });
  try {
    await fn(java, zk);
  } finally {
    await zk.close().catch(() => {});
    await java.quit();
  }
}

const SERVERS: [string, () => Promise<RunningServer>][] = [
  ['our server', () => startOurZk({ tickTime: 500 })],
  ['Apache ZooKeeper 3.8', () => startApacheZk({ tickTime: 500 })],
];

for (const [serverName, start] of SERVERS) {
  describe(`Curator 5.4 against ${serverName}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await start();
    });
    after(async () => {
      await server?.stop();
    });

    test('our Mutex and Curator InterProcessMutex exclude each other on one path', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const lockPath = '/interop/curator/mutex';
        // Java holds: ours must not get in.
        assert.equal((await java.send(`mutex.acquire ${lockPath} 5000`)).acquired, true);
        const ours = new Mutex(zk, lockPath);
        assert.equal(await ours.acquire(700), false, 'our Mutex acquired a lock Curator holds');
        // Ours waits while Java holds; Java's release lets it in.
        const waiting = ours.acquire(10000);
        await new Promise((r) => setTimeout(r, 300));
        // Curator sees our waiting node as a contender behind its own.
        const nodes = (await java.send(`mutex.nodes ${lockPath}`)).nodes as string[];
        assert.equal(nodes.length, 2, `Curator's participant nodes: ${JSON.stringify(nodes)}`);
        await java.send(`mutex.release ${lockPath}`);
        assert.equal(await waiting, true, 'our Mutex did not get the lock after Curator released it');
        // Ours holds: Curator must not get in, then gets in once we release.
        assert.equal((await java.send(`mutex.acquire ${lockPath} 700`)).acquired, false, 'Curator acquired a lock our Mutex holds');
        await ours.release();
        assert.equal((await java.send(`mutex.acquire ${lockPath} 5000`)).acquired, true);
        await java.send(`mutex.release ${lockPath}`);
      }),
    );

    test('our LeaderLatch and Curator LeaderLatch elect exactly one leader together', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const latchPath = '/interop/curator/latch';
        await java.send(`latch.start ${latchPath} java-1`);
        assert.equal((await java.send(`latch.await ${latchPath} 5000`)).leader, true);
        const ours = new LeaderLatch(zk, latchPath, 'node-1');
        await ours.start();
        assert.equal(await ours.waitLeadership(700), false, 'two leaders: ours and Curator');
        assert.equal(await ours.getLeaderId(), 'java-1');
        assert.equal((await java.send(`latch.state ${latchPath}`)).leaderId, 'java-1');
        // Curator steps down: ours takes over, and Curator names it leader.
        await java.send(`latch.close ${latchPath}`);
        assert.equal(await ours.waitLeadership(5000), true);
        await java.send(`latch.start ${latchPath} java-2`);
        assert.equal((await java.send(`latch.await ${latchPath} 700`)).leader, false, 'two leaders: Curator and ours');
        const st = await java.send(`latch.state ${latchPath}`);
        assert.deepEqual([st.leader, st.leaderId], [false, 'node-1']);
        assert.equal(ours.hasLeadership, true);
        // We step down: Curator's latch takes over.
        await ours.close();
        assert.equal((await java.send(`latch.await ${latchPath} 5000`)).leader, true);
        assert.equal((await java.send(`latch.state ${latchPath}`)).leaderId, 'java-2');
      }),
    );

    test('SharedCount (4-byte int) and DistributedAtomicLong (8-byte long) are read and written both ways', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const countPath = '/interop/curator/count';
        await java.send(`count.set ${countPath} 42`);
        assert.equal((await java.send(`raw.get ${countPath}`)).hex, '0000002a');
        const ours = new SharedCount(zk, countPath, 0);
        await ours.start();
        assert.equal(ours.getCount(), 42);
        await ours.setCount(-7);
        await ours.close();
        assert.equal((await java.send(`count.get ${countPath}`)).value, -7);
        // A versioned write from a stale view loses against Curator's write, as in Curator.
        const stale = new SharedCount(zk, countPath, 0);
        await stale.start();
        const seen = stale.getVersionedValue();
        await java.send(`count.set ${countPath} 100`);
        assert.equal(await stale.trySetCount(seen, 5), false, 'trySetCount with a stale version succeeded');
        await stale.close();
        assert.equal((await java.send(`count.get ${countPath}`)).value, 100);

        const longPath = '/interop/curator/long';
        const j1 = await java.send(`along.add ${longPath} 5`);
        assert.deepEqual([j1.succeeded, j1.pre, j1.post], [true, '0', '5']);
        const al = new DistributedAtomicLong(zk, longPath);
        assert.equal(await al.get(), 5n);
        const big = 2n ** 40n + 3n; // needs more than 4 bytes
        const o1 = await al.add(big);
        assert.deepEqual([o1.succeeded, o1.postValue], [true, big + 5n]);
        const j2 = await java.send(`along.get ${longPath}`);
        assert.equal(j2.value, String(big + 5n));
        const j3 = await java.send(`along.add ${longPath} -${big + 10n}`);
        assert.equal(j3.post, '-5');
        assert.equal(await al.get(), -5n);
        assert.equal((await java.send(`raw.get ${longPath}`)).hex, 'fffffffffffffffb');
      }),
    );

    test('service discovery: Curator registrations are found by ours and ours by Curator', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const base = '/interop/curator/services';
        const reg = await java.send(`sd.register ${base} billing java-id-1 10.0.0.1 8080 zone eu`);
        const sd = new ServiceDiscovery<Record<string, string>>(zk, base);
        const found = await sd.queryForInstances('billing');
        assert.equal(found.length, 1);
        const f = found[0]!;
        assert.deepEqual(
          [f.name, f.id, f.address, f.port, f.sslPort, f.serviceType, f.enabled, f.payload, f.payloadClass],
          // Curator's ServiceInstance.payload carries Jackson type info (@JsonTypeInfo, use CLASS), so
          // the stored JSON names the Java class in "@class"; ours reads it into payloadClass.
          ['billing', 'java-id-1', '10.0.0.1', 8080, null, 'DYNAMIC', true, { zone: 'eu' }, 'java.util.HashMap'],
        );
        assert.equal(f.registrationTimeUTC, (reg.instance as Record<string, unknown>).registrationTimeUTC);

        await sd.registerService({ name: 'billing', id: 'node-id-1', address: '10.0.0.2', port: 9090, payload: { zone: 'us' } });
        await sd.registerService({ name: 'search', id: 'node-id-2', address: '10.0.0.3', port: 7070 });
        const q = await java.send(`sd.query ${base} billing`);
        const byId = Object.fromEntries((q.instances as Record<string, unknown>[]).map((i) => [i.id, i]));
        assert.deepEqual(Object.keys(byId).sort(), ['java-id-1', 'node-id-1']);
        const n = byId['node-id-1']!;
        assert.deepEqual(
          [n.name, n.address, n.port, n.sslPort, n.serviceType, n.enabled, n.payload],
          ['billing', '10.0.0.2', 9090, null, 'DYNAMIC', true, { zone: 'us' }],
        );
        assert.deepEqual((q.names as string[]).sort(), ['billing', 'search']);

        // The stored JSON has the same properties in the same order whoever wrote it, except that
        // Curator 5.4's default serializer (JsonInstanceSerializer(Class), "compatible serialization
        // mode") leaves out `enabled`, which ours writes as Curator's non-compatible mode does; both
        // read an absent `enabled` as true and Curator ignores properties it does not know.
        const keysOf = async (id: string) => Object.keys(JSON.parse((await zk.getData(`${base}/billing/${id}`)).data!.toString('utf8')));
        assert.deepEqual(await keysOf('node-id-1'), [...(await keysOf('java-id-1')), 'enabled']);

        // Curator's instance (DYNAMIC: ephemeral, and unregistered by close) leaves with the Java process; ours stays.
        await java.quit();
        assert.deepEqual((await sd.queryForInstances('billing')).map((i) => i.id), ['node-id-1']);
      }),
    );

    test('service discovery with a payload class of the service\'s own ("@class") both ways', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const base = '/interop/curator/services-details';
        const cls = 'CuratorProbe$InstanceDetails';
        await java.send(`sdd.register ${base} orders java-1 10.0.0.1 8080 eu 3`);
        const sd = new ServiceDiscovery<{ zone: string; weight: number }>(zk, base, { payloadClass: cls });
        const [j] = await sd.queryForInstances('orders');
        assert.deepEqual([j!.payload, j!.payloadClass], [{ zone: 'eu', weight: 3 }, cls]);
        // Ours with the Java class named: Curator deserializes the payload as that class.
        await sd.registerService({ name: 'orders', id: 'node-1', address: '10.0.0.2', port: 9090, payload: { zone: 'us', weight: 7 } });
        const q = await java.send(`sdd.query ${base} orders`);
        const byId = Object.fromEntries((q.instances as Record<string, unknown>[]).map((i) => [i.id, i]));
        assert.deepEqual(byId['node-1'], { id: 'node-1', payloadClass: cls, zone: 'us', weight: 7 });
        assert.deepEqual(byId['java-1'], { id: 'java-1', payloadClass: cls, zone: 'eu', weight: 3 });
        // Both writers store the same JSON shape: "@class" first in the payload.
        const payloadOf = async (id: string) => JSON.parse((await zk.getData(`${base}/orders/${id}`)).data!.toString('utf8')).payload;
        assert.deepEqual(Object.keys(await payloadOf('node-1')), Object.keys(await payloadOf('java-1')));
        assert.equal(Object.keys(await payloadOf('node-1'))[0], '@class');
      }),
    );

    test('priority queue: Curator and ours produce and consume one queue in priority order', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const path = '/interop/curator/pq';
        // Java produces, ours consumes.
        await java.send(`q.produce priority ${path}`);
        for (const [p, item] of [[5, 'j5'], [-1, 'j-1'], [3, 'j3'], [0, 'j0'], [-300, 'j-300']] as const) await java.send(`q.put ${path} ${p} ${item}`);
        const names = (await zk.getChildren(path)).sort();
        assert.ok(names.every((n) => /^queue-[01][0-9A-F]{8}\d{10}$/.test(n)), `Curator's names: ${names}`);
        const ours = new DistributedPriorityQueue(zk, path);
        const got: string[] = [];
        for (let i = 0; i < 5; i++) got.push(String(await ours.take(5000)));
        assert.deepEqual(got, ['j-300', 'j-1', 'j0', 'j3', 'j5']);
        await java.send(`q.close ${path}`);

        // Ours produces (while nothing consumes), then a Curator consumer starts and takes them in order.
        for (const [p, item] of [[10, 'n10'], [-5, 'n-5'], [2, 'n2'], [2, 'n2b'], [0, 'n0']] as const) await ours.put(item, p);
        await java.send(`q.consume priority ${path}`);
        const javaGot: string[] = [];
        for (let i = 0; i < 5; i++) javaGot.push((await java.send(`q.take ${path} 10000`)).item as string);
        assert.deepEqual(javaGot, ['n-5', 'n0', 'n2', 'n2b', 'n10']);

        // One queue, a Java and a Node consumer together: every item exactly once.
        const N = 30;
        const nodeGot: string[] = [];
        for (let i = 0; i < N; i++) await ours.put(`s${i}`, i % 4);
        for (;;) {
          const item = await ours.take(300);
          if (!item) break;
          nodeGot.push(String(item));
        }
        const shared: string[] = [];
        for (;;) {
          const r = await java.send(`q.take ${path} 500`);
          if (r.item === null) break;
          shared.push(r.item as string);
        }
        const all = [...nodeGot, ...shared].sort();
        assert.deepEqual(all, Array.from({ length: N }, (_, i) => `s${i}`).sort(), `node took ${nodeGot.length}, Curator ${shared.length}`);
        await java.send(`q.close ${path}`);
      }),
    );

    test('delay queue: items wait for their time whichever side put or takes them', { timeout: 120000 }, () =>
      withBoth(server, async (java, zk) => {
        const path = '/interop/curator/dq';
        await java.send(`q.produce delay ${path}`);
        const t0 = Date.now();
        await java.send(`q.put ${path} ${t0 + 1200} j-late`);
        await java.send(`q.put ${path} ${t0 + 600} j-soon`);
        const names = await zk.getChildren(path);
        assert.ok(names.every((n) => /^queue-\|[0-9A-F]{8,}\|\d{10}$/.test(n)), `Curator's names: ${names}`);
        const ours = new DistributedDelayQueue(zk, path);
        assert.equal(await ours.poll(), null, 'taken before its time');
        assert.equal(String(await ours.take(10000)), 'j-soon');
        assert.ok(Date.now() >= t0 + 600);
        assert.equal(String(await ours.take(10000)), 'j-late');
        assert.ok(Date.now() >= t0 + 1200);
        await java.send(`q.close ${path}`);

        await java.send(`q.consume delay ${path}`);
        const t1 = Date.now();
        await ours.put('n-soon', t1 + 500);
        await ours.put('n-late', t1 + 1000);
        const a = await java.send(`q.take ${path} 10000`);
        const b = await java.send(`q.take ${path} 10000`);
        assert.deepEqual([a.item, b.item], ['n-soon', 'n-late']);
        assert.ok((a.at as number) >= t1 + 500 && (b.at as number) >= t1 + 1000, `Curator consumed at +${(a.at as number) - t1} and +${(b.at as number) - t1} ms`);
        await java.send(`q.close ${path}`);
      }),
    );
  });
}
