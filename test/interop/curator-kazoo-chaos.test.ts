// Cross-client chaos: Node, Java (Curator 5.4) and Python (kazoo) contenders on our server, each
// connected through its own TcpProxy that the test severs at random and sometimes blocks for longer
// than the session timeout (so sessions expire). Invariants, from every holder's wall-clock hold
// intervals (a hold ends when its holder sees the connection drop, before the session can expire):
// - one lock path shared by our Mutex and Curator's InterProcessMutex: never two holders at once;
// - one lock path shared by our Mutex (kazoo naming) and kazoo's Lock: never two holders at once;
// - one semaphore shared by our SemaphoreV2 and Curator's InterProcessSemaphoreV2: never more
//   holders than leases;
// - a PersistentNode whose session expired is present again within one session timeout.
// The Java and Python contenders are child processes (test/interop/curator/ChaosHolder.java,
// test/interop/kazoo/peer_holder.py) that stop by themselves after RUN_MS.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { Mutex, PersistentNode, RenewingSession, SemaphoreV2 } from '../../src/recipes/index.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { startServer, type TestServer } from '../support/OurServer.js';
import { INTEROP_SRC, PYTHON } from './harness.js';

const SESSION_MS = 1000;
const RUN_MS = 12000;
const LEASES = 2;
const LOCK_CURATOR = '/chaos-mixed/lock-curator';
const LOCK_KAZOO = '/chaos-mixed/lock-kazoo';
const SEM = '/chaos-mixed/sem';
const JARS = ['curator-client', 'curator-framework', 'curator-recipes', 'zookeeper', 'zookeeper-jute', 'guava', 'slf4j-api', 'slf4j-nop'].map(
  (j) => `/usr/share/java/${j}.jar`,
);

interface Hold {
  who: string;
  start: number;
  end: number;
}

/** Largest number of holds overlapping at one instant (an end at t does not overlap a start at t). */
function maxOverlap(holds: Hold[]): { max: number; at: Hold[] } {
  const ev = holds.flatMap((h) => [
    { t: h.start, d: 1, h },
    { t: h.end, d: -1, h },
  ]);
  ev.sort((a, b) => a.t - b.t || a.d - b.d);
  let cur = 0;
  let max = 0;
  const open = new Set<Hold>();
  let at: Hold[] = [];
  for (const e of ev) {
    cur += e.d;
    if (e.d > 0) open.add(e.h);
    else open.delete(e.h);
    if (cur > max) {
      max = cur;
      at = [...open];
    }
  }
  return { max, at };
}

/** A Java or Python contender: READY, then "go", then HOLD lines, then DONE. */
class External {
  readonly holds: Hold[] = [];
  readonly log: string[] = [];
  done: string | null = null;
  private readyWaiter: (() => void) | null = null;
  private ready = false;
  readonly exited: Promise<number | null>;

  constructor(
    readonly who: string,
    readonly child: ChildProcess,
  ) {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = l.match(/^HOLD (\d+) (\d+)$/);
      if (m) this.holds.push({ who, start: Number(m[1]), end: Number(m[2]) });
      else this.log.push(l);
      if (l === 'READY') {
        this.ready = true;
        this.readyWaiter?.();
      }
      if (l.startsWith('DONE')) this.done = l;
    });
    readline.createInterface({ input: child.stderr! }).on('line', (l) => this.log.push(`stderr: ${l}`));
    this.exited = new Promise((r) =>
      child.on('exit', (code) => {
        r(code);
        this.readyWaiter?.();
      }),
    );
  }

  async waitReady(ms: number): Promise<void> {
    if (!this.ready) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        this.readyWaiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    assert.ok(this.ready, `${this.who} not ready:\n${this.log.join('\n')}`);
  }

  go(): void {
    this.child.stdin!.write('go\n');
  }

  /** Waits for it to finish on its own (bounded), killing it if it does not. */
  async finish(ms: number): Promise<number | null> {
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

let server: TestServer;
let classDir: string;

before(async () => {
  const missing = ['/usr/bin/javac', '/usr/bin/java', '/usr/lib/python3/dist-packages/kazoo/client.py', ...JARS].filter((f) => !fs.existsSync(f));
  assert.deepEqual(missing, [], 'javac/java, kazoo or Curator jars missing');
  classDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-holder-'));
  const c = spawnSync('/usr/bin/javac', ['-nowarn', '-d', classDir, '-cp', JARS.join(':'), path.join(INTEROP_SRC, 'curator', 'ChaosHolder.java')], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(c.status, 0, `javac failed:\n${c.stdout}${c.stderr}`);
  server = await startServer({ tickTime: 100 });
});

after(async () => {
  await server?.stop();
  if (classDir) fs.rmSync(classDir, { recursive: true, force: true });
});

/** A Node contender that opens a new session after expiry, as an application would. */
async function nodeContender(proxy: TcpProxy, until: number, attempt: (zk: ZooKeeper) => Promise<(() => Promise<void>) | null>, holds: Hold[], who: string) {
  let zk: ZooKeeper | null = null;
  while (Date.now() < until) {
    if (!zk || zk.state === 'expired' || zk.state === 'closed') {
      try {
        zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: SESSION_MS, retryDelay: 20, connectTimeout: 3000 });
      } catch {
        await sleep(20);
        continue;
      }
    }
    const c = zk;
    let release: (() => Promise<void>) | null;
    try {
      release = await attempt(c);
    } catch {
      await sleep(10);
      continue; // session expired or connection trouble while waiting
    }
    if (!release) continue;
    // A hold counts only while connected: once disconnected, the session (and with it the lock
    // node) may expire at any moment.
    if (c.isConnected) {
      const start = Date.now();
      for (let i = 0; i < 5 && c.isConnected; i++) await sleep(3);
      holds.push({ who, start, end: Date.now() });
    }
    await release().catch(() => {});
  }
  await zk?.close().catch(() => {});
}

test('the overlap count used below', () => {
  const h = (start: number, end: number): Hold => ({ who: 'x', start, end });
  assert.equal(maxOverlap([h(0, 10), h(10, 20)]).max, 1, 'an end at t does not overlap a start at t');
  assert.equal(maxOverlap([h(0, 10), h(9, 20)]).max, 2);
  assert.equal(maxOverlap([h(0, 100), h(10, 20), h(15, 30), h(40, 50)]).max, 3);
  assert.equal(maxOverlap([]).max, 0);
});

test('Node, Curator and kazoo contenders through cut connections and expired sessions', { timeout: 180000 }, async () => {
  const proxy = () => new TcpProxy(server.port).start();
  const externals: External[] = [];
  const java = async (who: string, mode: string, p: string, extra: string[] = []) => {
    const px = await proxy();
    const child = spawn(
      '/usr/bin/java',
      ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx128m', '-cp', [classDir, ...JARS].join(':'), 'ChaosHolder', px.connectString, mode, p, String(RUN_MS), String(SESSION_MS), ...extra],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    externals.push(new External(who, child));
    return px;
  };
  const python = async (who: string) => {
    const px = await proxy();
    const child = spawn(PYTHON, [path.join(INTEROP_SRC, 'kazoo', 'peer_holder.py'), px.connectString, LOCK_KAZOO, String(RUN_MS), String(SESSION_MS)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    externals.push(new External(who, child));
    return px;
  };
  const externalProxies = [
    await java('java-mutex', 'mutex', LOCK_CURATOR),
    await java('java-sem', 'sem', SEM, [String(LEASES)]),
    await python('py-1'),
    await python('py-2'),
  ];
  const nodeProxies = await Promise.all(Array.from({ length: 6 }, proxy));
  const pnProxy = await proxy();
  const observer = await ZooKeeper.connect(server.connectString, { sessionTimeout: 10000 });
  try {
    for (const e of externals) await e.waitReady(90000);

    const lockCurator: Hold[] = [];
    const lockKazoo: Hold[] = [];
    const sem: Hold[] = [];
    const until = Date.now() + RUN_MS;
    for (const e of externals) e.go();

    // Chaos over every contender's proxy: a cut every ~150 ms, every 4th one blocked past the
    // session timeout (so that session expires) while the cuts go on elsewhere.
    const chaosProxies = [...externalProxies, ...nodeProxies];
    const blocked = new Set<TcpProxy>();
    let running = true;
    let cuts = 0;
    let expiries = 0;
    const chaos = (async () => {
      const unblocks: Promise<void>[] = [];
      for (let i = 1; running; i++) {
        await sleep(150);
        const p = chaosProxies[Math.floor(Math.random() * chaosProxies.length)]!;
        if (blocked.has(p)) continue;
        if (i % 4 === 0) {
          blocked.add(p);
          p.block();
          p.sever();
          expiries++;
          unblocks.push(
            sleep(SESSION_MS * 1.6).then(() => {
              p.block(false);
              blocked.delete(p);
            }),
          );
        } else {
          p.sever();
          cuts++;
        }
      }
      await Promise.all(unblocks);
    })();

    const mutexAttempt = (p: string, naming: 'curator' | 'kazoo') => async (zk: ZooKeeper) => {
      const m = new Mutex(zk, p, { naming });
      if (!(await m.acquire(500))) return null;
      return () => m.release();
    };
    const semAttempt = async (zk: ZooKeeper) => {
      const lease = await new SemaphoreV2(zk, SEM, LEASES).acquire(500);
      return lease ? () => lease.release() : null;
    };
    const nodes = [
      nodeContender(nodeProxies[0]!, until, mutexAttempt(LOCK_CURATOR, 'curator'), lockCurator, 'node-c1'),
      nodeContender(nodeProxies[1]!, until, mutexAttempt(LOCK_CURATOR, 'curator'), lockCurator, 'node-c2'),
      nodeContender(nodeProxies[2]!, until, mutexAttempt(LOCK_KAZOO, 'kazoo'), lockKazoo, 'node-k1'),
      nodeContender(nodeProxies[3]!, until, mutexAttempt(LOCK_KAZOO, 'kazoo'), lockKazoo, 'node-k2'),
      nodeContender(nodeProxies[4]!, until, semAttempt, sem, 'node-s1'),
      nodeContender(nodeProxies[5]!, until, semAttempt, sem, 'node-s2'),
    ];

    // The PersistentNode: its session is expired on purpose, three times; each time the node must be
    // back within one session timeout of the server removing it.
    const rs = await RenewingSession.connect(pnProxy.connectString, { sessionTimeout: SESSION_MS, retryDelay: 20, connectTimeout: 5000 });
    const pn = new PersistentNode(rs, '/chaos-mixed/pn', { data: 'alive' });
    pn.start();
    assert.equal(await pn.waitForInitialCreate(10000), true);
    const comebacks: number[] = [];
    for (let round = 0; round < 3; round++) {
      await sleep(1000);
      const owner = (await observer.exists('/chaos-mixed/pn'))?.ephemeralOwner;
      pnProxy.block();
      pnProxy.sever();
      for (;;) {
        const w = await observer.exists('/chaos-mixed/pn', true);
        if (w.stat === null) break;
        await w.watch;
      }
      const goneAt = Date.now();
      pnProxy.block(false);
      for (;;) {
        const w = await observer.exists('/chaos-mixed/pn', true);
        if (w.stat !== null) {
          assert.notEqual(w.stat.ephemeralOwner, owner, 'the node came back in the expired session');
          break;
        }
        await w.watch;
      }
      comebacks.push(Date.now() - goneAt);
    }

    await Promise.all(nodes);
    running = false;
    await chaos;
    for (const p of chaosProxies) p.block(false);
    const codes = await Promise.all(externals.map((e) => e.finish(30000)));
    await pn.close();
    await rs.close();

    for (const [i, e] of externals.entries()) assert.equal(codes[i], 0, `${e.who} exited with ${codes[i]}:\n${e.log.join('\n')}`);
    for (const e of externals) {
      if (e.who === 'java-mutex') lockCurator.push(...e.holds);
      else if (e.who === 'java-sem') sem.push(...e.holds);
      else lockKazoo.push(...e.holds);
    }
    const summary = (hs: Hold[]) => Object.entries(hs.reduce<Record<string, number>>((acc, h) => ({ ...acc, [h.who]: (acc[h.who] ?? 0) + 1 }), {}));
    const report = `cuts ${cuts}, expiries ${expiries}; curator lock ${JSON.stringify(summary(lockCurator))}; kazoo lock ${JSON.stringify(summary(lockKazoo))}; semaphore ${JSON.stringify(summary(sem))}; PersistentNode back after ${comebacks} ms; ${externals.map((e) => `${e.who}: ${e.done}`).join(', ')}`;
    console.log(report);

    const a = maxOverlap(lockCurator);
    assert.ok(a.max <= 1, `two holders of the Curator-shared lock: ${JSON.stringify(a.at)}`);
    const b = maxOverlap(lockKazoo);
    assert.ok(b.max <= 1, `two holders of the kazoo-shared lock: ${JSON.stringify(b.at)}`);
    const s = maxOverlap(sem);
    assert.ok(s.max <= LEASES, `${s.max} holders of ${LEASES} leases: ${JSON.stringify(s.at)}`);
    // Every kind of contender made progress, so the invariants were tested against real contention.
    for (const [hs, kinds] of [
      [lockCurator, ['node-c', 'java']],
      [lockKazoo, ['node-k', 'py']],
      [sem, ['node-s', 'java']],
    ] as const) {
      for (const k of kinds) assert.ok(hs.some((h) => h.who.startsWith(k)), `no holds by ${k}: ${report}`);
    }
    assert.ok(expiries >= 5 && cuts >= 20, report);
    for (const ms of comebacks) assert.ok(ms <= SESSION_MS, `PersistentNode back only after ${ms} ms: ${report}`);
  } finally {
    for (const e of externals) e.child.kill('SIGKILL');
    await observer.close();
    for (const p of [...externalProxies, ...nodeProxies, pnProxy]) await p.stop();
  }
});
