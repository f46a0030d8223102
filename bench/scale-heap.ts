// Where the bytes per znode go: builds a DataTree of N znodes in this process (the same create
// txns the server applies), then prints heap bytes per znode and, with --snapshot, a heap
// snapshot's self sizes grouped by object type/constructor (per znode).
//   node --expose-gc dist/bench/scale-heap.js [--nodes 100000] [--size 100] [--per-parent 1000] [--snapshot]
//   node --expose-gc dist/bench/scale-heap.js --load-snapshot   (also time a snapshot write + load)
import v8 from 'node:v8';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataTree } from '../src/tree/DataTree.js';
import type { Txn } from '../src/protocol/txn.js';
import type { TreeEvent } from '../src/tree/DataTree.js';
import { OpCode } from '../src/protocol/constants.js';
import { ZkDatabase } from '../src/tree/ZkDatabase.js';
import { serializeSnapshotSync, readSnapshotFile, readSnapshotFileToTree } from '../src/storage/Snapshot.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const N = Number(arg('nodes', '100000'));
const size = Number(arg('size', '100'));
const perParent = Number(arg('per-parent', '1000'));
const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) g();
}

let zxid = 0x100000000;
function create(tree: DataTree, p: string, data: Buffer): void {
  const events: TreeEvent[] = [];
  const txn: Txn = {
    hdr: { clientId: 0x1234n, cxid: 1, zxid: ++zxid, time: Date.now(), type: OpCode.create },
    body: { type: OpCode.create, path: p, data, acl: OPEN_ACL, ephemeral: false, parentCVersion: -1 },
  };
  tree.apply(txn, events);
}

export function buildTree(n: number, dataSize: number, per: number): DataTree {
  const tree = new DataTree();
  create(tree, '/scale', Buffer.alloc(0));
  const parents = Math.ceil(n / per);
  for (let i = 0; i < parents; i++) create(tree, `/scale/p${i}`, Buffer.alloc(0));
  for (let i = 0; i < n; i++) {
    // A fresh Buffer per create, as the server gets one per decoded request.
    create(tree, `/scale/p${Math.floor(i / per)}/c${i % per}`, Buffer.alloc(dataSize, 0x61));
  }
  return tree;
}

function summarizeSnapshot(file: string, perNode: number): void {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = f.length;
  const iType = f.indexOf('type'), iName = f.indexOf('name'), iSize = f.indexOf('self_size');
  const agg = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + iType]!]!;
    let name = snap.strings[snap.nodes[i + iName]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    if (type === 'number') name = '(heap number)';
    if (type === 'bigint') name = '(bigint)';
    const key = `${type}:${name.slice(0, 40)}`;
    const e = agg.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + iSize]!;
    agg.set(key, e);
  }
  const rows = [...agg.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25);
  process.stdout.write(`\n| object (type:constructor) | count per znode | bytes per znode |\n|---|---:|---:|\n`);
  for (const [k, e] of rows) process.stdout.write(`| ${k} | ${(e.count / perNode).toFixed(2)} | ${(e.bytes / perNode).toFixed(1)} |\n`);
}

async function main(): Promise<void> {
  gc();
  const before = process.memoryUsage();
  const t0 = Date.now();
  const tree = buildTree(N, size, perParent);
  const buildMs = Date.now() - t0;
  gc();
  const after = process.memoryUsage();
  const heap = after.heapUsed - before.heapUsed;
  // `external` already counts ArrayBuffer backing stores (the NodeStore's columns and arenas).
  const ext = after.external - before.external;
  process.stdout.write(
    `${N} znodes of ${size} B (${perParent} per parent): built in ${buildMs} ms; heap ${(heap / N).toFixed(1)} B/znode, off-heap ${(ext / N).toFixed(1)} B/znode, total ${((heap + ext) / N).toFixed(1)} B/znode; RSS ${(after.rss / 1048576).toFixed(0)} MB; digest ${tree.treeDigest()}\n`,
  );
  if (process.argv.includes('--snapshot')) {
    const file = path.join(os.tmpdir(), `scale-heap-${process.pid}.heapsnapshot`);
    v8.writeHeapSnapshot(file);
    try {
      summarizeSnapshot(file, N);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  if (process.argv.includes('--load-snapshot')) {
    const file = path.join(os.tmpdir(), `scale-heap-${process.pid}.snap`);
    const db = new ZkDatabase(tree);
    let t = performance.now();
    const snap = serializeSnapshotSync(db);
    fs.writeFileSync(file, Buffer.concat(snap.chunks));
    process.stdout.write(`snapshot: ${snap.bytes} bytes written in ${(performance.now() - t).toFixed(0)} ms\n`);
    try {
      const streamed = process.argv.includes('--records') ? null : (() => {
        const t1 = performance.now();
        const c1 = process.cpuUsage();
        const st = readSnapshotFileToTree(file);
        const c = process.cpuUsage(c1);
        return { ms: performance.now() - t1, cpuMs: (c.user + c.system) / 1000, equal: st.tree.treeDigest() === tree.treeDigest() };
      })();
      if (streamed) process.stdout.write(`load into tree: ${streamed.ms.toFixed(0)} ms (CPU ${streamed.cpuMs.toFixed(0)} ms), digest ${streamed.equal ? 'equal' : 'DIFFERENT'}; RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB\n`);
      if (streamed) return;
      t = performance.now();
      const content = readSnapshotFile(file);
      const parseMs = performance.now() - t;
      t = performance.now();
      const loaded = DataTree.fromSnapshot(content.acls, content.nodes);
      const buildMs2 = performance.now() - t;
      process.stdout.write(`load: parse ${parseMs.toFixed(0)} ms, tree ${buildMs2.toFixed(0)} ms, digest ${loaded.treeDigest() === tree.treeDigest() ? 'equal' : 'DIFFERENT'}; RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB\n`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
  // Keep the tree alive until measured.
  if (tree.nodeCount < 0) process.stdout.write('');
}

if (process.argv[1]?.endsWith("scale-heap.js")) main().catch((e) => {
  console.error(e);
  process.exit(1);
});
