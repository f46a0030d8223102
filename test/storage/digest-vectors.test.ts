// The tree digest against what Apache ZooKeeper 3.8.0 wrote into the recorded data directory:
// replaying its txn logs into our DataTree must give, after every txn, the digest Apache put
// into that txn's TxnDigest, and the snapshots' ZxidDigests must agree with our tree at their
// zxids. The expected values come from the recorded indexes (log-index.json,
// snapshot-index.json), not from our own reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { DataTree, setDigestAssertions, digestAssertionsEnabled } from '../../src/tree/DataTree.js';
import { readLogs } from '../../src/storage/TxnLogReader.js';
import { readSnapshotFile } from '../../src/storage/Snapshot.js';
import { recover } from '../../src/storage/Recovery.js';
import { adler32 } from '../../src/storage/Adler32.js';
import { RecordingLogger, copyVectorDataDir } from './helpers.js';

const CANDIDATES = [path.resolve(process.cwd(), '../shared/vectors/disk'), '/work/shared/vectors/disk'];
const DISK = CANDIDATES.find((d) => fs.existsSync(path.join(d, 'log-index.json'))) ?? CANDIDATES[1]!;
const DATA = path.join(DISK, 'data', 'version-2');

interface LogIndex {
  files: Record<string, { records: Array<{ txnHeader: { zxid: number; typeName: string }; txnDigest?: { version: number; treeDigest: number } }> }>;
}
interface SnapIndex {
  files: Record<string, { zxidDigest: { zxid: number; digestVersion: number; digest: number } }>;
}

// Digests in the indexes are below 2^53 (sums of a few dozen CRC-32s), so JSON numbers are exact.
function expectedTxnDigests(): Map<number, bigint | null> {
  const idx = JSON.parse(fs.readFileSync(path.join(DISK, 'log-index.json'), 'utf8')) as LogIndex;
  const out = new Map<number, bigint | null>();
  for (const f of Object.values(idx.files)) {
    for (const r of f.records) out.set(r.txnHeader.zxid, r.txnDigest ? BigInt(r.txnDigest.treeDigest) : null);
  }
  return out;
}

function snapshotDigests(): Map<string, { zxid: number; digest: bigint }> {
  const idx = JSON.parse(fs.readFileSync(path.join(DISK, 'snapshot-index.json'), 'utf8')) as SnapIndex;
  const out = new Map<string, { zxid: number; digest: bigint }>();
  for (const [name, f] of Object.entries(idx.files)) out.set(name, { zxid: f.zxidDigest.zxid, digest: BigInt(f.zxidDigest.digest) });
  return out;
}

const skip = !fs.existsSync(path.join(DISK, 'log-index.json')) && 'recorded vectors not found';

test('replaying Apache 3.8 logs from an empty tree reproduces every txn digest Apache wrote', { skip }, () => {
  const expected = expectedTxnDigests();
  const snaps = snapshotDigests();
  assert.equal(expected.size, 0x34, 'the index covers zxids 0x1..0x34');
  const db = new ZkDatabase(new DataTree());
  let compared = 0;
  let errors = 0;
  const afterZxid = new Map<number, bigint>();
  for (const txn of readLogs(DATA, 1)) {
    db.applyTxn(txn);
    const want = expected.get(txn.hdr.zxid);
    assert.ok(want !== undefined, `zxid 0x${txn.hdr.zxid.toString(16)} is in the index`);
    afterZxid.set(txn.hdr.zxid, db.tree.treeDigest());
    if (want === null) {
      // Error txns carry no digest in Apache's log, and our reader must not invent one.
      assert.equal(txn.hdr.type, -1);
      assert.equal(txn.digest, undefined);
      errors++;
      continue;
    }
    assert.equal(db.tree.treeDigest(), want, `digest after zxid 0x${txn.hdr.zxid.toString(16)}`);
    assert.deepEqual(txn.digest, { version: 2, treeDigest: want }, 'the TxnDigest our reader decoded');
    compared++;
  }
  assert.equal(compared, 0x34 - 1);
  assert.equal(errors, 1);
  assert.equal(db.tree.digestMismatches, 0);
  // Each snapshot's ZxidDigest is the tree digest at its zxid (0 / 0 for the startup snapshot).
  for (const [name, d] of snaps) {
    if (d.zxid === 0) {
      assert.equal(d.digest, 0n, name);
      continue;
    }
    assert.equal(afterZxid.get(d.zxid), d.digest, `${name}: ZxidDigest at 0x${d.zxid.toString(16)}`);
  }
  assert.equal(db.tree.lastProcessedZxidDigest?.zxid, 0x34);
  assert.equal(db.tree.lastProcessedZxidDigest?.digest, expected.get(0x34));
});

test('every Apache snapshot loads with a digest that replay confirms (fuzzy ones once their zxid is replayed)', { skip }, () => {
  const expected = expectedTxnDigests();
  const snaps = snapshotDigests();
  let fuzzy = 0;
  let exact = 0;
  for (const [name, want] of snaps) {
    const content = readSnapshotFile(path.join(DATA, name));
    assert.equal(content.digest?.zxid, want.zxid, `${name}: trailer zxid as indexed`);
    assert.equal(content.digest?.digest, want.digest, `${name}: trailer digest as indexed`);
    const nameZxid = parseInt(name.substring('snapshot.'.length), 16);
    const tree = DataTree.fromSnapshot(content.acls, content.nodes);
    const reports: string[] = [];
    tree.digestReporter = (m) => reports.push(m);
    const db = new ZkDatabase(tree);
    db.lastProcessedZxid = nameZxid;
    if (want.zxid === nameZxid && want.zxid > 0) {
      // Not fuzzy: the loaded tree must already have the snapshot's digest.
      assert.equal(tree.treeDigest(), want.digest, `${name}: loaded tree digest`);
      exact++;
    }
    tree.loadSnapshotDigest(content.digest, nameZxid);
    if (want.zxid > nameZxid) {
      fuzzy++;
      assert.deepEqual(tree.digestFromLoadedSnapshot?.zxid, want.zxid, `${name}: waits for zxid 0x${want.zxid.toString(16)}`);
    } else {
      assert.equal(tree.digestFromLoadedSnapshot, null);
    }
    for (const txn of readLogs(DATA, nameZxid + 1)) {
      db.applyTxn(txn);
      const w = expected.get(txn.hdr.zxid);
      // Past the fuzzy range the tree is whole again: each digest must be Apache's.
      if (w != null && tree.digestFromLoadedSnapshot === null && txn.hdr.zxid >= want.zxid) {
        assert.equal(tree.treeDigest(), w, `${name} + replay: digest after 0x${txn.hdr.zxid.toString(16)}`);
      }
    }
    assert.equal(tree.digestFromLoadedSnapshot, null, `${name}: replay covered the snapshot digest's zxid`);
    assert.equal(tree.digestMismatches, 0, `${name}: ${reports.join('; ')}`);
    assert.equal(tree.treeDigest(), expected.get(0x34));
  }
  assert.equal(fuzzy, 3, 'snapshot.8, snapshot.1e and snapshot.28 are fuzzy');
  assert.equal(exact, 3, 'snapshot.e, snapshot.15 and snapshot.31 are not');
});

test('recovery of the Apache directory: no mismatch, and the startup snapshot ends with the last digest', { skip }, async () => {
  const dataDir = copyVectorDataDir();
  const logger = new RecordingLogger();
  const r = await recover(storageSettings(defaultConfig({ dataDir })), { logger });
  try {
    assert.equal(r.db.tree.digestMismatches, 0, logger.warnings.join('\n'));
    assert.equal(r.report.lastProcessedZxid, 0x34);
    assert.ok(r.report.startupSnapshot, 'a snapshot is written after replaying txns');
    const snap = readSnapshotFile(r.report.startupSnapshot);
    assert.deepEqual(snap.digest, { zxid: 0x34, digestVersion: 2, digest: expectedTxnDigests().get(0x34)! });
    // And that snapshot reloads cleanly: its own digest is checked at once (not fuzzy).
    const again = DataTree.fromSnapshot(snap.acls, snap.nodes);
    again.lastProcessedZxid = 0x34;
    again.loadSnapshotDigest(snap.digest, 0x34);
    assert.equal(again.digestMismatches, 0);
  } finally {
    await r.log.close();
    await r.snapshotter.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a txn digest that disagrees is counted and logged, and changes nothing else', { skip }, async () => {
  const dataDir = copyVectorDataDir();
  // Recovery starts from snapshot.31, so the txn to tamper with must come after it.
  const file = path.join(dataDir, 'version-2', 'log.33');
  const buf = fs.readFileSync(file);
  // First record of log.33 (zxid 0x33, a closeSession): its TxnDigest ends the payload.
  const len = buf.readInt32BE(16 + 8);
  const payloadStart = 16 + 12;
  const digestAt = payloadStart + len - 8;
  buf.writeBigInt64BE(buf.readBigInt64BE(digestAt) + 1n, digestAt);
  buf.writeBigUInt64BE(BigInt(adler32(buf, 1, payloadStart, payloadStart + len)), 16);
  fs.writeFileSync(file, buf);
  const logger = new RecordingLogger();
  const wasAsserting = digestAssertionsEnabled();
  setDigestAssertions(false);
  try {
    const r = await recover(storageSettings(defaultConfig({ dataDir })), { logger });
    try {
      assert.equal(r.db.tree.digestMismatches, 1);
      assert.ok(logger.warnings.some((w) => /Digests are not matching/.test(w) && w.includes('0x33')), logger.warnings.join('\n'));
      assert.equal(r.report.lastProcessedZxid, 0x34);
      assert.equal(r.db.tree.treeDigest(), expectedTxnDigests().get(0x34));
    } finally {
      await r.log.close();
      await r.snapshotter.close();
    }
  } finally {
    setDigestAssertions(wasAsserting);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
