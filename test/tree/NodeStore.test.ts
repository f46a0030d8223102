// NodeStore against a plain Map model: random creates, deletes and data changes (names that
// collide in the hash table, wide and empty names, null/empty/big data) until both arenas have
// compacted several times; after every step the store must find exactly the model's nodes with
// their data and children in creation order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NIL, NodeStore, ROOT } from '../../src/tree/NodeStore.js';
import { CHUNK } from '../../src/tree/ByteArena.js';
import { seededRandom } from '../support/random.js';

interface ModelNode {
  data: Buffer | null;
  kids: string[];
}

function check(store: NodeStore, model: Map<string, ModelNode>): void {
  assert.equal(store.count, model.size);
  for (const [path, m] of model) {
    const id = store.lookup(path);
    assert.notEqual(id, NIL, `lookup ${path}`);
    const d = store.dataCopy(id);
    assert.deepEqual(d, m.data, `data of ${path}`);
    assert.equal(store.dataLen[id], m.data?.length ?? 0);
    assert.deepEqual(store.childNames(id), m.kids, `children of ${path}`);
    assert.equal(store.numChildren[id], m.kids.length);
  }
}

function childPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

test('random creates, deletes and data changes agree with a model through arena compactions', () => {
  const r = seededRandom(7);
  const store = new NodeStore();
  store.createRoot();
  const model = new Map<string, ModelNode>([['/', { data: Buffer.alloc(0), kids: [] }]]);
  const names = ['a', 'b', 'c', 'lock-0000000001', 'ünï', '日本', 'x'.repeat(300), 'n'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const randomData = (): Buffer | null => {
    const k = r();
    if (k < 0.05) return null;
    if (k < 0.1) return Buffer.alloc(0);
    if (k < 0.12) return Buffer.alloc(300_000 + Math.floor(r() * 1000), Math.floor(r() * 256)); // own chunk
    const b = Buffer.alloc(Math.floor(r() * 2000));
    for (let i = 0; i < b.length; i += 97) b[i] = Math.floor(r() * 256);
    return b;
  };
  const setData = (path: string, d: Buffer | null) => {
    store.setData(store.lookup(path), d);
    model.get(path)!.data = d === null ? null : Buffer.from(d);
  };
  let steps = 0;
  let peakGarbage = 0;
  let paths = [...model.keys()];
  for (; steps < 25_000; steps++) {
    if (steps % 50 === 0) paths = [...model.keys()];
    const k = r();
    if ((k < 0.45 || model.size < 50) && model.size < 3000) {
      const parent = pick(paths);
      if (!model.has(parent) || parent.split('/').length >= 5) continue;
      const name = pick(names) + (r() < 0.7 ? String(Math.floor(r() * 400)) : '');
      const path = childPath(parent, name);
      if (model.has(path)) continue;
      const id = store.createChild(store.lookup(parent), path, path.length - name.length, path.length);
      model.get(parent)!.kids.push(name);
      model.set(path, { data: Buffer.alloc(0), kids: [] });
      setData(path, randomData());
      assert.equal(store.lookup(path), id);
    } else if (k < 0.75) {
      const path = pick(paths);
      if (path === '/' || !model.has(path) || model.get(path)!.kids.length > 0) continue;
      store.remove(store.lookup(path));
      model.delete(path);
      const slash = path.lastIndexOf('/');
      const parent = model.get(slash === 0 ? '/' : path.substring(0, slash))!;
      parent.kids.splice(parent.kids.indexOf(path.substring(slash + 1)), 1);
      assert.equal(store.lookup(path), NIL);
    } else {
      const path = pick(paths);
      if (model.has(path)) setData(path, randomData());
    }
    peakGarbage = Math.max(peakGarbage, store.garbageBytes);
    if (steps % 5000 === 0) check(store, model);
  }
  check(store, model);
  assert.ok(store.evacuations >= 3, `${store.evacuations} evacuations`);
  // Compaction kept garbage bounded: never more than half the live data plus the slack allowed.
  const live = [...model.values()].reduce((n, m) => n + (m.data?.length ?? 0), 0);
  assert.ok(peakGarbage < live + 8 * CHUNK, `peak garbage ${peakGarbage} with ${live} live bytes`);
  assert.equal(store.lookup('/nope'), NIL);
  assert.equal(store.lookup('no-slash'), NIL);
  assert.equal(store.lookup('/a//b'), NIL);
  assert.equal(store.lookup(''), ROOT);
});

test('a hundred thousand siblings: lookups, deletes from the middle and reuse of ids', () => {
  const store = new NodeStore();
  store.createRoot();
  const p = store.createChild(ROOT, '/p', 1, 2);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const path = `/p/c${i}`;
    store.createChild(p, path, 3, path.length);
  }
  assert.equal(store.numChildren[p], n);
  for (let i = 0; i < n; i += 2) store.remove(store.lookup(`/p/c${i}`));
  assert.equal(store.numChildren[p], n / 2);
  for (let i = 0; i < n; i++) assert.equal(store.lookup(`/p/c${i}`) !== NIL, i % 2 === 1, `c${i}`);
  const kids = store.childNames(p);
  assert.equal(kids.length, n / 2);
  assert.equal(kids[0], 'c1');
  assert.equal(kids[kids.length - 1], `c${n - 1}`);
  // Freed ids are reused: no growth for the next 50k.
  const before = store.reservedBytes;
  for (let i = 0; i < n; i += 2) {
    const path = `/p/d${i}`;
    store.createChild(p, path, 3, path.length);
  }
  assert.equal(store.count, 2 + n);
  assert.ok(store.reservedBytes <= before + 2 * CHUNK, `${store.reservedBytes} vs ${before}`);
  assert.equal(store.childNames(p)[n / 2], 'd0');
});

test('ephemeral owners are shared per session and let go with their last node', () => {
  const store = new NodeStore();
  store.createRoot();
  const ids: number[] = [];
  for (let i = 0; i < 300; i++) {
    const path = `/e${i}`;
    const id = store.createChild(ROOT, path, 1, path.length);
    store.setOwner(id, BigInt(0x1000 + (i % 3)));
    ids.push(id);
  }
  for (let i = 0; i < 300; i++) assert.equal(store.owner(ids[i]!), BigInt(0x1000 + (i % 3)));
  assert.equal(store.kind(ids[0]!), 'ephemeral');
  // Every node of session 0x1000 goes: its slot is free for the next session.
  for (let i = 0; i < 300; i += 3) store.remove(ids[i]!);
  const path = '/late';
  const late = store.createChild(ROOT, path, 1, path.length);
  store.setOwner(late, 0x2000n);
  assert.equal(store.owner(late), 0x2000n);
  for (let i = 1; i < 300; i += 3) assert.equal(store.owner(ids[i]!), 0x1001n);
  store.setOwner(late, 0n);
  assert.equal(store.owner(late), 0n);
  assert.equal(store.kind(late), 'persistent');
});
