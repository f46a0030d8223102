// Issue 10's compact paths: a snapshot decoded straight into the tree gives the same tree as
// the record-by-record path (Apache's files and ours, binary data and big values included);
// an intact file whose nodes form no tree is still fatal; a big tree's startup snapshot is
// written in the background and is a valid snapshot of the state; znode data kept in the node
// store's arena round-trips every byte value and size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpCode } from '../../src/protocol/constants.js';
import type { TreeEvent } from '../../src/tree/DataTree.js';
import { DataTree } from '../../src/tree/DataTree.js';
import type { ZNode } from '../../src/tree/ZNode.js';

const INLINE_DATA_MAX = 4096;
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import {
  parseSnapshot, parseSnapshotToTree, readSnapshotFile, readSnapshotFileToTree, serializeSnapshotSync, TreeRebuildError,
} from '../../src/storage/Snapshot.js';
import { loadDatabase, openStorage, BACKGROUND_STARTUP_SNAPSHOT_NODES } from '../../src/storage/Recovery.js';
import { writeSnapshotFile } from '../../src/storage/FileSnapshotStore.js';
import { FileTxnLog } from '../../src/storage/TxnLog.js';
import { SNAPSHOT_PREFIX, listDataFiles } from '../../src/storage/FileNames.js';
import { Writer } from '../../src/jute/archive.js';
import { OPEN_ACL_INDEX } from '../../src/tree/ACLCache.js';
import { adler32 } from '../../src/storage/Adler32.js';
import { DataNodeRecord, FileHeader } from '../../src/storage/PersistenceRecords.js';
import { SLASH_MARKER, SNAP_MAGIC } from '../../src/storage/Snapshot.js';
import { RecordingLogger, VECTOR_DATA, createTxn, tmpDir } from './helpers.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function nodesOf(t: DataTree): Array<[string, ZNode]> {
  const out: Array<[string, ZNode]> = [];
  t.walk((p, n) => out.push([p === '' ? '/' : p, n]));
  return out;
}

function sameTree(a: DataTree, b: DataTree, sizes = true): void {
  assert.equal(a.nodeCount, b.nodeCount);
  for (const [p, n] of nodesOf(a)) {
    const m = b.get(p);
    assert.ok(m, `missing ${p}`);
    assert.deepEqual(m.persisted(), n.persisted(), `stat of ${p}`);
    assert.deepEqual(m.data, n.data, `data of ${p}`);
    // A snapshot lists children in walk order, so a reload may hold them in another order.
    assert.deepEqual([...m.children].sort(), [...n.children].sort(), `children of ${p}`);
    assert.deepEqual(b.aclOf(m), a.aclOf(n), `acl of ${p}`);
  }
  assert.equal(b.treeDigest(), a.treeDigest());
  // A loaded tree counts the root's path too (as fromSnapshot always did); a built one does not.
  if (sizes) assert.equal(b.approximateDataSize, a.approximateDataSize);
}

test('every recorded Apache snapshot loads into the same tree either way', () => {
  const snaps = fs.readdirSync(VECTOR_DATA).filter((f) => f.startsWith('snapshot.'));
  assert.ok(snaps.length >= 3);
  for (const f of snaps) {
    const file = path.join(VECTOR_DATA, f);
    const c = readSnapshotFile(file);
    const viaRecords = DataTree.fromSnapshot(c.acls, c.nodes);
    const direct = readSnapshotFileToTree(file);
    assert.equal(direct.nodeCount, c.nodes.length, f);
    assert.deepEqual(direct.digest, c.digest, f);
    assert.deepEqual([...direct.sessions], [...c.sessions], f);
    sameTree(viaRecords, direct.tree);
  }
});

function applyCreate(tree: DataTree, zxid: number, p: string, data: Buffer | null, owner = 0n, acl = OPEN): void {
  const events: TreeEvent[] = [];
  tree.apply(
    { hdr: { clientId: owner, cxid: 1, zxid, time: 1_700_000_000_000 + zxid, type: OpCode.create },
      body: { type: OpCode.create, path: p, data, acl, ephemeral: owner !== 0n, parentCVersion: -1 } },
    events,
  );
}

test('a file read a small window at a time gives the same tree, and a damaged one still fails its checksum', () => {
  const dir = tmpDir('window');
  const tree = new DataTree();
  let zxid = 1;
  for (let i = 0; i < 60; i++) applyCreate(tree, zxid++, `/n${i}`, Buffer.alloc(i * 997 % 5000, i));
  applyCreate(tree, zxid++, '/big', Buffer.alloc(300_000, 7)); // bigger than any window below
  for (let i = 0; i < 40; i++) applyCreate(tree, zxid++, `/n7/c${'x'.repeat(i * 13)}`, null);
  const db = new ZkDatabase(tree);
  for (let i = 0; i < 500; i++) db.sessions.set(BigInt(0x100 + i), 30000); // sessions span windows too
  const file = path.join(dir, 'snapshot.1');
  fs.writeFileSync(file, Buffer.concat(serializeSnapshotSync(db).chunks));
  const whole = parseSnapshotToTree(fs.readFileSync(file));
  for (const window of [64, 1000, 4096, 70_000]) {
    const viaWindow = readSnapshotFileToTree(file, {}, undefined, window);
    sameTree(whole.tree, viaWindow.tree);
    assert.deepEqual([...viaWindow.sessions], [...whole.sessions], `sessions, window ${window}`);
    assert.deepEqual(viaWindow.digest, whole.digest, `digest, window ${window}`);
  }
  for (const file of fs.readdirSync(VECTOR_DATA).filter((f) => f.startsWith('snapshot.'))) {
    const p = path.join(VECTOR_DATA, file);
    sameTree(parseSnapshotToTree(fs.readFileSync(p)).tree, readSnapshotFileToTree(p, {}, undefined, 100).tree);
  }
  const damaged = fs.readFileSync(file);
  damaged[damaged.length - 200] ^= 0xff;
  const bad = path.join(dir, 'snapshot.2');
  fs.writeFileSync(bad, damaged);
  assert.throws(() => readSnapshotFileToTree(bad, {}, undefined, 512), /invalid snapshot.*mismatch|invalid snapshot/);
});

test('data of every byte value and size round-trips through the tree and a snapshot', () => {
  const tree = new DataTree();
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const values: Array<Buffer | null> = [
    null, Buffer.alloc(0), all, Buffer.from('héllo wörld ✓', 'utf8'), Buffer.alloc(INLINE_DATA_MAX, 0xff),
    Buffer.alloc(INLINE_DATA_MAX + 1, 0x80), Buffer.concat([all, all, all, all, all, all, all, all, all, all, all, all, all, all, all, all, all]),
  ];
  let z = 1;
  applyCreate(tree, z++, '/d', null);
  values.forEach((v, i) => applyCreate(tree, z++, `/d/v${i}`, v, i % 2 ? 0x55n : 0n, i % 3 ? OPEN : [{ perms: 1, id: { scheme: 'digest', id: 'u:h' } }]));
  values.forEach((v, i) => {
    const n = tree.get(`/d/v${i}`)!;
    assert.deepEqual(n.data, v, `value ${i}`);
    assert.equal(n.dataLength, v?.length ?? 0);
    assert.equal(n.stat().dataLength, v?.length ?? 0);
  });
  // A reader's copy is its own: changing it does not change the node.
  const copy = tree.get('/d/v2')!.data!;
  copy[0] = 99;
  assert.equal(tree.get('/d/v2')!.data![0], 0);

  const db = new ZkDatabase(tree);
  const bytes = Buffer.concat(serializeSnapshotSync(db).chunks);
  const c = parseSnapshot(bytes);
  const direct = parseSnapshotToTree(bytes);
  sameTree(tree, direct.tree, false);
  const viaRecords = DataTree.fromSnapshot(c.acls, c.nodes);
  sameTree(viaRecords, direct.tree);
  const again = (t: DataTree) => Buffer.concat(serializeSnapshotSync(new ZkDatabase(t)).chunks);
  assert.ok(again(direct.tree).equals(again(viaRecords)), 'both reloads write the same bytes');
});

test('a node\'s children follow creates and deletes, in creation order', () => {
  const tree = new DataTree();
  applyCreate(tree, 1, '/p', null);
  applyCreate(tree, 2, '/p/a', null);
  applyCreate(tree, 3, '/p/b', null);
  const p = tree.get('/p')!;
  assert.deepEqual([...p.children], ['a', 'b']);
  tree.apply({ hdr: { clientId: 0n, cxid: 1, zxid: 4, time: 1, type: OpCode.delete }, body: { type: OpCode.delete, path: '/p/a' } }, []);
  tree.apply({ hdr: { clientId: 0n, cxid: 1, zxid: 5, time: 1, type: OpCode.delete }, body: { type: OpCode.delete, path: '/p/b' } }, []);
  assert.equal(p.numChildren, 0);
  assert.deepEqual([...p.children], []);
  applyCreate(tree, 6, '/p/c', null);
  assert.deepEqual([...p.children], ['c']);
  assert.equal(p.stat().numChildren, 1);
  assert.equal(tree.get('/p/c')!.children.length, 0);
});

test('an intact snapshot whose nodes form no tree fails as a tree error, a damaged one as a bad file', () => {
  const tree = new DataTree();
  applyCreate(tree, 1, '/a', Buffer.from('x'));
  applyCreate(tree, 2, '/a/b', Buffer.from('y'));
  const good = Buffer.concat(serializeSnapshotSync(new ZkDatabase(tree)).chunks);
  // Damage one data byte: the checksum no longer agrees.
  const damaged = Buffer.from(good);
  const at = damaged.indexOf(Buffer.from('/a/b')) + 4 + 4;
  damaged[at] ^= 0xff;
  assert.throws(() => parseSnapshotToTree(damaged), /checksum1 mismatch/);
  const dir = tmpDir('zk-scale-load-');
  try {
    // Written by hand with good checksums: the root, then /a/b without /a.
    const w = new Writer(1024);
    FileHeader.write(w, { magic: SNAP_MAGIC, version: 2, dbid: -1n });
    w.int(0);
    w.int(0);
    const stat = { czxid: 1, mzxid: 1, ctime: 1, mtime: 1, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 1 };
    w.ustring('');
    DataNodeRecord.write(w, { data: null, acl: OPEN_ACL_INDEX, stat });
    w.ustring('/a/b');
    DataNodeRecord.write(w, { data: Buffer.from('y'), acl: OPEN_ACL_INDEX, stat });
    w.raw(SLASH_MARKER);
    w.longNum(adler32(w.view(), 1));
    w.raw(SLASH_MARKER);
    const file = path.join(dir, 'snapshot.2');
    fs.writeFileSync(file, w.view());
    assert.throws(() => parseSnapshot(w.view()) && DataTree.fromSnapshot([], parseSnapshot(w.view()).nodes), /unable to find parent \/a/);
    assert.throws(() => readSnapshotFileToTree(file), (e: unknown) => e instanceof TreeRebuildError && /cannot rebuild the tree.*unable to find parent \/a/.test((e as Error).message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(`above ${BACKGROUND_STARTUP_SNAPSHOT_NODES} znodes the startup snapshot is written in the background and holds the state`, async () => {
  const dataDir = tmpDir('zk-scale-start-');
  const v2 = path.join(dataDir, 'version-2');
  fs.mkdirSync(v2);
  try {
    // A snapshot at zxid 1, then a log with the big tree's creates: recovery replays them and
    // must write a new startup snapshot.
    const base = new DataTree();
    applyCreate(base, 1, '/big', null);
    const baseDb = new ZkDatabase(base);
    await writeSnapshotFile(v2, { zxid: 1, chunks: serializeSnapshotSync(baseDb).chunks });
    const log = new FileTxnLog({ dir: v2, preAllocSizeKb: 0, forceSync: false, lastLoggedZxid: 1 });
    const n = BACKGROUND_STARTUP_SNAPSHOT_NODES + 10;
    const batch = [];
    for (let i = 0; i < n; i++) {
      batch.push(createTxn(2 + i, `/big/n${i}`, 'v', i));
      if (batch.length === 5000) await log.append(batch.splice(0));
    }
    if (batch.length) await log.append(batch.splice(0));
    await log.close();

    const logger = new RecordingLogger();
    const { db, report } = loadDatabase({ snapDir: v2, logDir: v2 }, { logger });
    assert.equal(report.replayedTxns, n);
    const opened = await openStorage({ snapDir: v2, logDir: v2, snapCount: 100000, preAllocSizeKb: 0, forceSync: false }, db, { logger, loaded: report });
    assert.equal(opened.startupSnapshotInBackground, true);
    assert.equal(opened.startupSnapshot, null);
    await opened.snapshotter.close();
    await opened.log.close();
    const snaps = listDataFiles(v2, SNAPSHOT_PREFIX).map((f) => f.zxid);
    assert.ok(snaps.includes(1 + n), `snapshot.${(1 + n).toString(16)} written (have ${snaps.map((z) => z.toString(16))})`);
    const again = loadDatabase({ snapDir: v2, logDir: v2 }, { logger: new RecordingLogger() });
    assert.equal(again.report.snapshotZxid, 1 + n);
    assert.equal(again.db.tree.get('/big')!.numChildren, n);
    assert.equal(again.report.replayedTxns, 0);
    assert.equal(again.db.tree.treeDigest(), db.tree.treeDigest());
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

