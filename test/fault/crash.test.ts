// Crash test with real processes: many sessions write while the server is killed with
// SIGKILL at random moments. After every restart each acknowledged write must be there
// with its data and version, and unacknowledged ones are either fully there or absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOurZk, ourZkAvailable, type RunningServer } from '../support/OurZk.js';
import { freePort } from '../support/ServerProcess.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import { Writer } from '../../src/jute/archive.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const CYCLES = Number(process.env.CRASH_CYCLES ?? 20);
const SESSIONS = 8;

interface NodeState {
  data: string;
  version: number;
}
/** Acknowledged state, plus what an unacknowledged write might have left. */
interface Entry {
  acked: NodeState | null;
  maybe: NodeState[];
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function multiBody(ops: Array<{ path: string; data: string }>): Buffer {
  const w = new Writer();
  for (const op of ops) {
    R.MultiHeader.write(w, { type: OpCode.create, done: false, err: -1 });
    R.CreateRequest.write(w, { path: op.path, data: Buffer.from(op.data), acl: OPEN, flags: 0 });
  }
  R.MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return w.toBuffer();
}

const RawBytes = { write: (w: Writer, b: Buffer) => void w.raw(b), read: () => Buffer.alloc(0) };

async function readNode(c: RawClient, p: string): Promise<NodeState | null> {
  const r = await c.request(OpCode.getData, R.GetDataRequest, { path: p, watch: false });
  if (r.err === Err.NoNode) return null;
  assert.equal(r.err, 0, `getData ${p}`);
  const d = R.GetDataResponse.read(r.body);
  return { data: d.data?.toString() ?? '', version: d.stat.version };
}

test(`SIGKILL during writes loses no acknowledged write (${CYCLES} cycles)`, { skip: !ourZkAvailable(), timeout: 600000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-crash-'));
  const port = await freePort();
  const model = new Map<string, Entry>();
  const pairs: Array<[string, string]> = [];
  const random = rng(Number(process.env.CRASH_SEED ?? 12345));
  let acked = 0;
  let server: RunningServer | null = null;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      server = await startOurZk({ dataDir, port, tickTime: 500, extraConfig: { snapCount: 200 } });
      const checker = await RawClient.connect(port);
      if (cycle === 0) assert.equal((await checker.request(OpCode.create, R.CreateRequest, { path: '/crash', data: null, acl: OPEN, flags: 0 })).err, 0);
      // Verify everything known so far.
      for (const [p, e] of model) {
        const got = await readNode(checker, p);
        const ok = [e.acked, ...e.maybe].some((s) => (s === null ? got === null : got !== null && got.data === s.data && got.version === s.version));
        assert.ok(ok, `cycle ${cycle}: ${p} is ${JSON.stringify(got)}, acked ${JSON.stringify(e.acked)} maybe ${JSON.stringify(e.maybe)}`);
        model.set(p, { acked: got, maybe: [] });
      }
      for (const [a, b] of pairs) {
        const [x, y] = [await readNode(checker, a), await readNode(checker, b)];
        assert.equal(x === null, y === null, `cycle ${cycle}: multi ${a}/${b} half applied`);
      }
      checker.close();

      const clients = await Promise.all(Array.from({ length: SESSIONS }, () => RawClient.connect(port, { timeout: 4000 })));
      let stop = false;
      const workers = clients.map(async (c, i) => {
        let n = 0;
        while (!stop && !c.closed) {
          const roll = random();
          const mine = [...model.keys()].filter((k) => k.startsWith(`/crash/s${i}-`));
          try {
            if (roll < 0.4 || mine.length === 0) {
              const p = `/crash/s${i}-c${cycle}-${n++}`;
              const st = { data: `v0-${p}`, version: 0 };
              model.set(p, { acked: null, maybe: [st] });
              const r = await c.request(OpCode.create, R.CreateRequest, { path: p, data: Buffer.from(st.data), acl: OPEN, flags: 0 });
              assert.equal(r.err, 0, `create ${p}`);
              model.set(p, { acked: st, maybe: [] });
            } else if (roll < 0.85) {
              const p = mine[Math.floor(random() * mine.length)]!;
              const e = model.get(p)!;
              if (!e.acked || e.maybe.length) continue;
              const next = { data: `v${e.acked.version + 1}-${p}`, version: e.acked.version + 1 };
              e.maybe.push(next);
              const r = await c.request(OpCode.setData, R.SetDataRequest, { path: p, data: Buffer.from(next.data), version: e.acked.version });
              assert.equal(r.err, 0, `setData ${p}`);
              model.set(p, { acked: next, maybe: [] });
            } else {
              const a = `/crash/s${i}-m${cycle}-${n}-a`, b = `/crash/s${i}-m${cycle}-${n++}-b`;
              model.set(a, { acked: null, maybe: [{ data: 'ma', version: 0 }] });
              model.set(b, { acked: null, maybe: [{ data: 'mb', version: 0 }] });
              pairs.push([a, b]);
              const r = await c.request(OpCode.multi, RawBytes, multiBody([{ path: a, data: 'ma' }, { path: b, data: 'mb' }]));
              assert.equal(r.err, 0, 'multi');
              model.set(a, { acked: { data: 'ma', version: 0 }, maybe: [] });
              model.set(b, { acked: { data: 'mb', version: 0 }, maybe: [] });
            }
            acked++;
          } catch (e) {
            if (!(e instanceof Error && /connection closed|no reply/.test(e.message))) throw e;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 150 + random() * 500));
      process.kill(server.pid, 'SIGKILL');
      stop = true;
      await Promise.all(workers);
      await server.stop({ keepDataDir: true });
      server = null;
    }
    assert.ok(acked > CYCLES * 10, `the workload made progress (${acked} acknowledged writes)`);
    console.log(`crash test: ${CYCLES} cycles, ${acked} acknowledged writes, ${model.size} znodes verified`);
  } finally {
    await server?.stop({ keepDataDir: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
