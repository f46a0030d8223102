// kazoo's SetPartitioner (Debian's python3-kazoo) and ours as members of one partitioning, on our
// server and on Apache ZooKeeper 3.8 (the same test on both). The Python member is
// test/interop/kazoo/peer_partitioner.py, reporting each partition it acquires on stdout.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { kazooPartitioner, SetPartitioner } from '../../src/recipes/SetPartitioner.js';
import { Mutex } from '../../src/recipes/Mutex.js';
import { startApacheZk } from '../support/ApacheZk.js';
import { startOurZk, type RunningServer } from '../support/OurZk.js';
import { INTEROP_SRC, PYTHON } from './harness.js';

/** A Python peer whose stdout lines are awaited one pattern at a time, each wait bounded. */
class PyPeer {
  private readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly log: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      this.log.push(l);
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
    readline.createInterface({ input: child.stderr! }).on('line', (l) => this.log.push(`stderr: ${l}`));
    this.exited = new Promise((r) => child.on('exit', (code) => {
      r(code);
      for (const w of this.waiters.splice(0)) w();
    }));
  }

  /** Next line matching `re` (earlier non-matching lines are dropped). */
  async next(re: RegExp, timeoutMs = 30000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const m = this.lines.shift()!.match(re);
        if (m) return m;
      }
      if (this.child.exitCode !== null) throw new Error(`python peer exited before ${re}:\n${this.log.join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`python peer printed no ${re} within ${timeoutMs} ms:\n${this.log.join('\n')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15000);
    await this.exited;
    clearTimeout(t);
  }
}

function startPeer(script: string, args: string[]): PyPeer {
  return new PyPeer(spawn(PYTHON, [path.join(INTEROP_SRC, 'kazoo', script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
}

before(() => {
  assert.ok(fs.existsSync('/usr/lib/python3/dist-packages/kazoo/client.py'), 'kazoo missing (apt-get install python3-kazoo)');
});

const SERVERS: [string, () => Promise<RunningServer>][] = [
  ['our server', () => startOurZk({ tickTime: 500 })],
  ['Apache ZooKeeper 3.8', () => startApacheZk({ tickTime: 500 })],
];

for (const [serverName, start] of SERVERS) {
  describe(`kazoo recipes against ${serverName}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await start();
    });
    after(async () => {
      await server?.stop();
    });

    test("our Mutex (kazoo naming) and kazoo's Lock: no overlapping holds, both make progress", { timeout: 120000 }, async () => {
      const lockPath = '/interop/kazoo/lock';
      const RUN_MS = 3000;
      const py = startPeer('peer_holder.py', [server.connectString, lockPath, String(RUN_MS), '10000']);
      const holds: { who: string; start: number; end: number }[] = [];
      const clients = await Promise.all([0, 1].map(() => ZooKeeper.connect(server.connectString, { sessionTimeout: 10000 })));
      try {
        await py.next(/^READY$/);
        py.child.stdin!.write('go\n');
        const until = Date.now() + RUN_MS;
        await Promise.all(
          clients.map(async (zk, i) => {
            const m = new Mutex(zk, lockPath, { naming: 'kazoo' });
            while (Date.now() < until) {
              if (!(await m.acquire(500))) continue;
              const start = Date.now();
              await new Promise((r) => setTimeout(r, 15));
              holds.push({ who: `node-${i}`, start, end: Date.now() });
              await m.release();
            }
          }),
        );
        const done = await py.next(/^DONE (\d+)$/, 30000);
        for (const l of py.log) {
          const m = l.match(/^HOLD (\d+) (\d+)$/);
          if (m) holds.push({ who: 'py', start: Number(m[1]), end: Number(m[2]) });
        }
        holds.sort((a, b) => a.start - b.start);
        for (let i = 1; i < holds.length; i++) {
          assert.ok(holds[i]!.start >= holds[i - 1]!.end, `overlapping holds: ${JSON.stringify([holds[i - 1], holds[i]])}`);
        }
        assert.ok(Number(done[1]) > 0 && holds.some((h) => h.who.startsWith('node')), `holds: python ${done[1]}, all ${holds.length}`);
      } finally {
        await py.stop();
        for (const zk of clients) await zk.close();
      }
    });

    test('SetPartitioner: a kazoo member and ours split one set, and the survivor takes it all', { timeout: 120000 }, async () => {
      const SET = ['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7'];
      const base = '/interop/kazoo/partition';
      const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 10000 });
      const py = startPeer('peer_partitioner.py', [server.connectString, base, SET.join(','), 'py']);
      try {
        await py.next(/^STARTED$/);
        const ours = new SetPartitioner(zk, base, SET, { identifier: 'node', timeBoundaryMs: 500, maxReactionTimeMs: 200 });
        await ours.start();
        // Python may have acquired alone first (all items) and then been asked to release.
        let pyItems: string[] = [];
        for (;;) {
          const st = await ours.waitForAcquire(20000);
          if (st === 'RELEASE') {
            await ours.releaseSet();
            continue;
          }
          assert.equal(st, 'ACQUIRED');
          pyItems = JSON.parse((await py.next(/^ACQUIRED (.*)$/))[1]!);
          if (pyItems.length < SET.length && ours.acquired) break;
        }
        // kazoo's split: sorted members ['node', 'py'] take every other sorted item.
        assert.deepEqual(ours.partitions, kazooPartitioner('node', ['node', 'py'], SET));
        assert.deepEqual(pyItems, kazooPartitioner('py', ['node', 'py'], SET));
        // Each item's lock is held by one node in kazoo's naming.
        for (const item of SET) {
          const nodes = await zk.getChildren(`${base}/locks/${item}`);
          assert.equal(nodes.length, 1, `${item}: ${nodes}`);
          assert.match(nodes[0]!, /^[0-9a-f]{32}__lock__\d{10}$/);
        }
        // We leave: the Python member re-partitions and holds everything.
        await ours.finish();
        for (;;) {
          const items = JSON.parse((await py.next(/^ACQUIRED (.*)$/))[1]!);
          if (items.length === SET.length) break;
        }
        // The Python member leaves: ours alone gets everything.
        await py.stop();
        const solo = new SetPartitioner(zk, base, SET, { identifier: 'node2', timeBoundaryMs: 300, maxReactionTimeMs: 200 });
        await solo.start();
        assert.equal(await solo.waitForAcquire(20000), 'ACQUIRED');
        assert.deepEqual(solo.partitions, SET);
        await solo.finish();
      } finally {
        await py.stop();
        await zk.close();
      }
    });
  });
}

export { PyPeer, startPeer };
