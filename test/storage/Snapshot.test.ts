import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { DataTree } from '../../src/tree/DataTree.js';
import {
  looksLikeValidSnapshot, parseSnapshot, readSnapshotFile, serializeSnapshotSync, streamSnapshot, type SnapshotContent, type SnapshotStream,
} from '../../src/storage/Snapshot.js';
import { loadNewestValidSnapshot, writeSnapshotFile } from '../../src/storage/FileSnapshotStore.js';
import { readLogs } from '../../src/storage/TxnLogReader.js';
import { RecordingLogger, VECTOR_DATA, VECTOR_DIR, createSessionTxn, createTxn, deleteTxn, setDataTxn, tmpDir } from './helpers.js';

const index = JSON.parse(fs.readFileSync(path.join(VECTOR_DIR, 'snapshot-index.json'), 'utf8'));

async function collect(s: SnapshotStream): Promise<{ zxid: number; chunks: Buffer[] }> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c);
  return { zxid: s.zxid, chunks };
}

function dbFrom(c: SnapshotContent, zxid: number): ZkDatabase {
  const db = new ZkDatabase(DataTree.fromSnapshot(c.acls, c.nodes));
  for (const [id, t] of c.sessions) db.sessions.set(id, t);
  db.lastProcessedZxid = zxid;
  return db;
}

/** Everything observable about a tree: per path data, ACL list and persisted stat. */
function treeImage(db: ZkDatabase): Map<string, unknown> {
  const out = new Map<string, unknown>();
  db.tree.walk((p, n) => {
    out.set(p, { data: n.data?.toString('hex') ?? null, acl: db.tree.aclOf(n), stat: n.persisted(), children: [...n.children].sort() });
  });
  return out;
}

test('every recorded snapshot decodes to what the index says, both checksums verified', () => {
  for (const [name, want] of Object.entries<any>(index.files)) {
    const s = readSnapshotFile(path.join(VECTOR_DATA, name));
    assert.equal(s.header.magic, 0x5a4b534e);
    assert.equal(s.header.dbid, -1n);
    assert.deepEqual(
      [...s.sessions].map(([id, t]) => [id, t]),
      want.sessions.map((x: any) => [BigInt(x.id ?? x.sessionId), x.timeout ?? x.timeOut]),
      name,
    );
    assert.deepEqual(s.acls.map(([i, a]) => [i, a.map((x) => [x.perms, x.id.scheme, x.id.id])]), want.aclCache.map((e: any) => [e.index, e.acl.map((x: any) => [x.perms, x.scheme, x.id])]));
    assert.equal(s.nodes.length, want.nodes.length);
    s.nodes.forEach((n, i) => {
      const w = want.nodes[i];
      assert.equal(n.path, w.path);
      assert.equal(n.data === null ? null : n.data.toString('hex'), w.data);
      assert.equal(n.aclIndex, w.aclRef);
      const { ephemeralOwnerHex, ...stat } = w.statPersisted;
      assert.deepEqual({ ...n.stat, ephemeralOwner: BigInt.asUintN(64, n.stat.ephemeralOwner) }, { ...stat, ephemeralOwner: BigInt(ephemeralOwnerHex) }, `${name} ${n.path}`);
    });
    assert.equal(s.digest!.zxid, want.zxidDigest.zxid);
    assert.equal(s.digest!.digest, BigInt(want.zxidDigest.digest));
  }
});

test('a fresh tree serializes byte-for-byte like ZooKeeper 3.8.0 snapshot.0', () => {
  const ours = Buffer.concat(serializeSnapshotSync(new ZkDatabase()).chunks);
  assert.equal(ours.toString('hex'), fs.readFileSync(path.join(VECTOR_DATA, 'snapshot.0')).toString('hex'));
});

test('round trip: recorded snapshot -> tree -> our snapshot -> same tree, sessions and ACLs', () => {
  const src = readSnapshotFile(path.join(VECTOR_DATA, 'snapshot.31'));
  const db = dbFrom(src, 0x31);
  const ser = serializeSnapshotSync(db);
  assert.equal(ser.zxid, 0x31);
  const back = parseSnapshot(Buffer.concat(ser.chunks));
  assert.deepEqual(back.sessions, src.sessions);
  assert.deepEqual(treeImage(dbFrom(back, 0x31)), treeImage(db));
  // Nodes come parents-first (the reader requires it), root as "".
  assert.equal(back.nodes[0]!.path, '');
  const seen = new Set<string>();
  for (const n of back.nodes) {
    if (n.path !== '') assert.ok(seen.has(n.path.substring(0, n.path.lastIndexOf('/'))), `parent of ${n.path} first`);
    seen.add(n.path);
  }
  // Only referenced ACL entries are written, and every referenced one is.
  const used = new Set(back.nodes.map((n) => n.aclIndex).filter((i) => i !== -1));
  assert.deepEqual(new Set(back.acls.map(([i]) => i)), used);
});

test('validity check and corruption: truncated and bit-flipped snapshots are rejected with the file named', () => {
  const dir = tmpDir();
  const good = fs.readFileSync(path.join(VECTOR_DATA, 'snapshot.31'));
  const cut = path.join(dir, 'snapshot.31');
  fs.writeFileSync(cut, good.subarray(0, good.length - 7));
  assert.equal(looksLikeValidSnapshot(cut), false);
  const flipped = Buffer.from(good);
  flipped[200]! ^= 0x01;
  const fp = path.join(dir, 'snapshot.32');
  fs.writeFileSync(fp, flipped);
  assert.equal(looksLikeValidSnapshot(fp), true, 'the cheap check only looks at the tail');
  assert.throws(() => readSnapshotFile(fp), (e: Error) => e.message.includes(fp) && /checksum1|Unreasonable|truncated/.test(e.message));
});

test('gzip-compressed snapshots are read', () => {
  const dir = tmpDir();
  const gz = path.join(dir, 'snapshot.31.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(path.join(VECTOR_DATA, 'snapshot.31'))));
  assert.equal(looksLikeValidSnapshot(gz), true);
  assert.equal(readSnapshotFile(gz).nodes.length, 35);
});

test('newest valid snapshot wins; corrupt newer ones fall back with a warning', async () => {
  const dir = tmpDir();
  for (const n of ['snapshot.0', 'snapshot.1e', 'snapshot.28', 'snapshot.31']) fs.copyFileSync(path.join(VECTOR_DATA, n), path.join(dir, n));
  const b = fs.readFileSync(path.join(dir, 'snapshot.31'));
  b[300]! ^= 0xff;
  fs.writeFileSync(path.join(dir, 'snapshot.31'), b);
  fs.writeFileSync(path.join(dir, 'snapshot.40'), Buffer.from('partial'));
  const logger = new RecordingLogger();
  const got = loadNewestValidSnapshot(dir, logger);
  assert.equal(got!.file.name, 'snapshot.28');
  assert.ok(logger.warnings.some((w) => w.includes('snapshot.31')));
  // All invalid: the error lists the files.
  const bad = tmpDir();
  fs.writeFileSync(path.join(bad, 'snapshot.5'), b);
  assert.throws(() => loadNewestValidSnapshot(bad, logger), (e: Error) => /Not able to find valid snapshots/.test(e.message) && e.message.includes('snapshot.5'));
  assert.equal(loadNewestValidSnapshot(tmpDir(), logger), null);
});

test('writeSnapshotFile names the file after the zxid and leaves no temporary behind', async () => {
  const dir = tmpDir();
  const db = dbFrom(readSnapshotFile(path.join(VECTOR_DATA, 'snapshot.28')), 0x28);
  const p = await writeSnapshotFile(dir, serializeSnapshotSync(db));
  assert.equal(p, path.join(dir, 'snapshot.28'));
  assert.deepEqual(fs.readdirSync(dir), ['snapshot.28']);
  assert.deepEqual(treeImage(dbFrom(readSnapshotFile(p), 0x28)), treeImage(db));
});

test('fuzzy snapshot: the tree changes while it is written; snapshot + replay converges to the final tree', async () => {
  const db = new ZkDatabase();
  let zxid = 0;
  const log: ReturnType<typeof createTxn>[] = [];
  const apply = (t: ReturnType<typeof createTxn>) => {
    db.applyTxn(t);
    log.push(t);
  };
  apply(createSessionTxn(++zxid, 0x77n, 30000));
  // 300 parents with 3 children each; cversions follow what the server would produce.
  for (let i = 0; i < 300; i++) {
    apply(createTxn(++zxid, `/p${i}`, `p${i}`, i + 1));
    for (let j = 0; j < 3; j++) apply(createTxn(++zxid, `/p${i}/c${j}`, `c${j}`, j + 1, j === 2));
  }
  const snapZxid = db.lastProcessedZxid;
  const pending = collect(streamSnapshot(db, { nodesPerSlice: 25 }));
  // Keep mutating between slices: deletes, re-creates, data changes, new subtrees.
  let k = 0;
  let cver = 300;
  const parentCv = new Map<string, number>();
  while (k < 200) {
    await new Promise((r) => setImmediate(r));
    const i = k % 300;
    apply(setDataTxn(++zxid, `/p${i}`, `changed-${k}`, 1));
    apply(deleteTxn(++zxid, `/p${i}/c0`));
    const cv = (parentCv.get(`/p${i}`) ?? 3) + 1;
    parentCv.set(`/p${i}`, cv);
    apply(createTxn(++zxid, `/p${i}/n${k}`, 'new', cv));
    apply(createTxn(++zxid, `/q${k}`, 'q', ++cver));
    k++;
  }
  const snap = await pending;
  assert.equal(snap.zxid, snapZxid);
  const parsed = parseSnapshot(Buffer.concat(snap.chunks));
  const restored = dbFrom(parsed, snap.zxid);
  for (const t of log) if (t.hdr.zxid > snap.zxid) restored.applyTxn(t);
  assert.deepEqual(treeImage(restored), treeImage(db));
  assert.deepEqual(restored.sessions, db.sessions);
});
