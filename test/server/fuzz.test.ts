// Issue 2 item 8: throw thousands of random and mutated frames at a live server over several
// concurrent connections, then check that a normal client (node-zookeeper-client) still works and
// that a tree created before the fuzzing is intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { DEFAULT_MAX_BUFFER } from '../../src/protocol/constants.js';
import { call, connectNzk, zk as nzk } from '../support/nzk.js';
import { fourLetterWord } from '../support/ServerProcess.js';
import { startApacheZk } from '../support/ApacheZk.js';
import { seededRandom } from '../support/random.js';

const VECTORS = '/work/shared/vectors/client';
const CONNECTIONS = 8;
const FRAMES_PER_CONNECTION = 700; // 5600 frames in total
const TIME_BUDGET_MS = 25000;

/** Deterministic PRNG so a failing run can be replayed with FUZZ_SEED. */
const rng = seededRandom;

interface Corpus {
  connects: Buffer[];
  requests: Buffer[];
}

/** Real client frames recorded from Apache ZooKeeper sessions, split into ConnectRequests (the first
 * frame of each connection) and ordinary requests. */
function loadCorpus(): Corpus {
  const connects: Buffer[] = [];
  const requests: Buffer[] = [];
  if (!fs.existsSync(VECTORS)) return fallbackCorpus();
  for (const f of fs.readdirSync(VECTORS).filter((x) => x.endsWith('.jsonl'))) {
    const seen = new Set<number>();
    for (const line of fs.readFileSync(path.join(VECTORS, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as { header?: boolean; dir?: string; conn?: number; hex?: string };
      if (rec.header || rec.dir !== 'c2s' || !rec.hex) continue;
      const buf = Buffer.from(rec.hex, 'hex');
      if (!seen.has(rec.conn!)) {
        seen.add(rec.conn!);
        connects.push(buf);
      } else requests.push(buf);
    }
  }
  return connects.length && requests.length ? { connects, requests } : fallbackCorpus();
}

function fallbackCorpus(): Corpus {
  // ConnectRequest{protocolVersion 0, lastZxid 0, timeout 30000, sessionId 0, passwd 16 zero bytes}
  const c = Buffer.alloc(4 + 44);
  c.writeInt32BE(44, 0);
  c.writeInt32BE(30000, 16);
  c.writeInt32BE(16, 28);
  // getData(xid 1, "/", no watch)
  const g = Buffer.alloc(4 + 14);
  g.writeInt32BE(14, 0);
  g.writeInt32BE(1, 4);
  g.writeInt32BE(4, 8);
  g.writeInt32BE(1, 12);
  g.write('/', 16);
  return { connects: [c], requests: [g] };
}

function frame(body: Buffer, declaredLength = body.length): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(declaredLength | 0, 0);
  body.copy(b, 4);
  return b;
}

function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

/** One mutated or random piece of input. `close` asks the sender to drop the connection after it. */
function mutate(r: () => number, corpus: Corpus): { bytes: Buffer; close: boolean } {
  const pick = (arr: Buffer[]) => arr[(r() * arr.length) | 0]!;
  const base = Buffer.from(pick(corpus.requests));
  const body = base.subarray(4);
  switch ((r() * 11) | 0) {
    case 0: {
      // flip a few bytes inside the body, length prefix kept
      const n = 1 + ((r() * 4) | 0);
      for (let i = 0; i < n && body.length; i++) body[(r() * body.length) | 0] ^= 1 + ((r() * 255) | 0);
      return { bytes: base, close: false };
    }
    case 1: {
      // truncated body with a consistent prefix
      const cut = (r() * body.length) | 0;
      return { bytes: frame(body.subarray(0, cut)), close: false };
    }
    case 2: {
      // extended with garbage, consistent prefix
      return { bytes: frame(Buffer.concat([body, randomBytes(r, 1 + ((r() * 64) | 0))])), close: false };
    }
    case 3: {
      // length over jute.maxbuffer (sometimes far over), followed by a little data
      const len = r() < 0.5 ? DEFAULT_MAX_BUFFER + 1 + ((r() * 1000) | 0) : 0x7fffffff;
      return { bytes: frame(randomBytes(r, 16), len).subarray(0, 20), close: true };
    }
    case 4: {
      // negative or zero length
      const len = r() < 0.2 ? 0 : -1 - ((r() * 0x7fffffff) | 0);
      return { bytes: frame(randomBytes(r, 8), len).subarray(0, 12), close: true };
    }
    case 5: {
      // unknown or random opcode in a real request
      if (body.length >= 8) body.writeInt32BE(r() < 0.5 ? ((r() * 0xffffffff) | 0) : 17 + ((r() * 90) | 0), 4);
      return { bytes: base, close: false };
    }
    case 6: {
      // half a frame, then the client vanishes
      const cut = 1 + ((r() * (base.length - 1)) | 0);
      return { bytes: base.subarray(0, cut), close: true };
    }
    case 7: {
      // pure garbage
      return { bytes: randomBytes(r, 1 + ((r() * 200) | 0)), close: r() < 0.5 };
    }
    case 8: {
      // corrupted string/buffer length fields: overwrite an int32 at a random 4-aligned offset
      if (body.length >= 12) {
        const off = 8 + 4 * ((r() * ((body.length - 8) / 4)) | 0);
        if (off + 4 <= body.length) body.writeInt32BE([-1, -2, 0x7fffffff, 0x10000000, 1 << 20][(r() * 5) | 0]!, off);
      }
      return { bytes: base, close: false };
    }
    case 9: {
      // several real frames in one write, the last one mutated
      const parts = [pick(corpus.requests), pick(corpus.requests), Buffer.from(pick(corpus.requests))];
      const last = parts[2]!;
      if (last.length > 5) last[4 + ((r() * (last.length - 4)) | 0)] ^= 0xff;
      return { bytes: Buffer.concat(parts), close: false };
    }
    default: {
      // an unmodified real request (keeps the session doing real work between the bad frames)
      return { bytes: base, close: false };
    }
  }
}

/** One fuzzing connection: (usually) a real ConnectRequest, then mutated frames until the server
 * closes it or the budget runs out; reconnects as needed. Returns the number of frames sent. */
async function fuzzConnection(host: string, port: number, seed: number, corpus: Corpus, frames: number, deadline: number): Promise<number> {
  const r = rng(seed);
  let sent = 0;
  while (sent < frames && Date.now() < deadline) {
    const sock = net.connect({ host, port });
    sock.on('error', () => {});
    sock.on('data', () => {}); // drain replies so the server never blocks on us
    let closed = false;
    sock.on('close', () => {
      closed = true;
    });
    await new Promise<void>((resolve) => {
      sock.once('connect', resolve);
      sock.once('close', resolve);
    });
    if (!closed && r() < 0.85) sock.write(corpus.connects[(r() * corpus.connects.length) | 0]!);
    // A burst of frames on this connection.
    const burst = 1 + ((r() * 40) | 0);
    for (let i = 0; i < burst && !closed && sent < frames; i++) {
      const m = mutate(r, corpus);
      if (r() < 0.1) {
        // dribble the bytes in tiny writes to exercise partial-frame reassembly
        for (let off = 0; off < m.bytes.length && !closed; off += 3) sock.write(m.bytes.subarray(off, off + 3));
      } else sock.write(m.bytes);
      sent++;
      if (m.close) break;
      if (i % 8 === 7) await new Promise((res) => setImmediate(res));
    }
    // Give the server a moment to answer or close, then vanish (abruptly half the time).
    await new Promise((res) => setTimeout(res, 2 + r() * 10));
    if (r() < 0.5) sock.destroy();
    else sock.end();
    await new Promise<void>((resolve) => (closed ? resolve() : sock.once('close', () => resolve())));
  }
  return sent;
}

interface TreeNode {
  path: string;
  data: string;
  children: string[];
}

async function readTree(client: unknown, root: string): Promise<TreeNode[]> {
  const out: TreeNode[] = [];
  const walk = async (p: string) => {
    const [data] = await call<[Buffer | undefined]>(client, 'getData', p);
    const [children] = await call<[string[]]>(client, 'getChildren', p);
    children.sort();
    out.push({ path: p, data: data ? data.toString('hex') : '', children });
    for (const c of children) await walk(`${p}/${c}`);
  };
  await walk(root);
  return out;
}

async function withTarget<T>(fn: (host: string, port: number) => Promise<T>): Promise<T> {
  if (process.env.FUZZ_TARGET === 'apache') {
    // Checks the fuzzer against the reference: it must not report failures there.
    const zk = await startApacheZk();
    try {
      return await fn(zk.host, zk.port);
    } finally {
      await zk.stop();
    }
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-fuzz-'));
  const s = new ZkServer(
    defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', dataDir, tickTime: 200, fourLetterWords: new Set(['srvr', 'ruok']) }),
  );
  await s.start();
  try {
    return await fn('127.0.0.1', s.port);
  } finally {
    await s.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

test('fuzz: thousands of random and mutated frames leave the server serving and the tree intact', { timeout: 60000 }, async (t) => {
  const corpus = loadCorpus();
  assert.ok(corpus.requests.length > 50, `corpus too small: ${corpus.requests.length}`);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
  await withTarget(async (host, port) => {
    const cs = `${host}:${port}`;
    // A tree only its owner can modify, so frames replayed from the vectors cannot legitimately touch it.
    const owner = await connectNzk(cs);
    owner.addAuthInfo('digest', Buffer.from('fuzz-owner:s3cret-' + seed));
    const acl = [new nzk.ACL(nzk.Permission.ALL, new nzk.Id('auth', '')), new nzk.ACL(nzk.Permission.READ, new nzk.Id('world', 'anyone'))];
    const root = '/fuzz-protected';
    await call(owner, 'create', root, Buffer.from('root'), acl, nzk.CreateMode.PERSISTENT);
    for (let i = 0; i < 20; i++) {
      await call(owner, 'create', `${root}/n${i}`, Buffer.from(`data-${i}`), acl, nzk.CreateMode.PERSISTENT);
      if (i % 4 === 0) await call(owner, 'create', `${root}/n${i}/leaf`, randomBytes(rng(i), 100 * i), acl, nzk.CreateMode.PERSISTENT);
    }
    const before = await readTree(owner, root);
    // Keep a well-behaved session alive through the fuzzing: it must keep being served.
    let goodOps = 0;
    let goodErr: unknown = null;
    let fuzzing = true;
    const goodLoop = (async () => {
      while (fuzzing) {
        try {
          await call(owner, 'exists', `${root}/n1`);
          goodOps++;
        } catch (e) {
          goodErr = e;
          return;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })();

    const deadline = Date.now() + TIME_BUDGET_MS;
    const sent = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) => fuzzConnection(host, port, seed * 31 + i, corpus, FRAMES_PER_CONNECTION, deadline)),
    );
    fuzzing = false;
    await goodLoop;
    const total = sent.reduce((a, b) => a + b, 0);
    t.diagnostic(`seed ${seed}: ${total} fuzz frames over ${CONNECTIONS} concurrent connections; ${goodOps} good ops meanwhile`);
    assert.ok(total >= 2000, `only ${total} frames sent (seed ${seed})`);
    assert.equal(goodErr, null, `a well-behaved session failed during fuzzing (seed ${seed}): ${String(goodErr)}`);
    assert.ok(goodOps > 0);

    // The server still answers four-letter words and a brand-new normal client.
    assert.equal(await fourLetterWord(host, port, 'ruok'), 'imok');
    const fresh = await connectNzk(cs);
    try {
      await call(fresh, 'create', '/after-fuzz', Buffer.from('ok'), nzk.ACL.OPEN_ACL_UNSAFE, nzk.CreateMode.EPHEMERAL);
      const [d] = await call<[Buffer]>(fresh, 'getData', '/after-fuzz');
      assert.equal(d.toString(), 'ok');
      const after = await readTree(fresh, root);
      assert.deepEqual(after, before, `protected tree changed (seed ${seed})`);
      // And the owner's session survived too.
      const [again] = await call<[Buffer]>(owner, 'getData', `${root}/n3`);
      assert.equal(again.toString(), 'data-3');
    } finally {
      fresh.close();
      owner.close();
    }
  });
});
