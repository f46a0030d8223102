// Loading snapshots whose content runs ahead of their name zxid, or of their trailer digest, as
// ZooKeeper's background snapshot thread writes them, then replaying the logs after them: where
// a digest mismatch is counted (exactly where ZooKeeper 3.8 counts one), when assertion mode
// (ZK_DIGEST_ASSERT) fails, and what tree results. Each directory is built by hand from a known
// history, so every case happens on every run; when Apache ZooKeeper 3.8 is installed it loads the
// same directories and its zk_digest_mismatches_count and tree must be ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn, TxnBody } from '../../src/protocol/txn.js';
import { DIGEST_VERSION } from '../../src/tree/DigestCalculator.js';
import { DataTree, DigestMismatchError, digestAssertionsEnabled, setDigestAssertions } from '../../src/tree/DataTree.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { serializeSnapshotSync } from '../../src/storage/Snapshot.js';
import { encodeLogFileHeader, encodeLogRecords } from '../../src/storage/TxnLog.js';
import { loadDatabase } from '../../src/storage/Recovery.js';
import { ZooKeeper } from '../../src/client/index.js';
import { apacheZkAvailable, startApacheZk } from '../support/ApacheZk.js';
import { fourLetterWord } from '../support/ServerProcess.js';
import { RecordingLogger, tmpDir } from './helpers.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const SESSION = 0x1000000fade0001n;

const create = (path: string, data: string | null, parentCVersion: number, type: number = OpCode.create): TxnBody =>
  ({ type, path, data: data === null ? null : Buffer.from(data), acl: OPEN, ephemeral: false, parentCVersion }) as TxnBody;
const setData = (path: string, data: string, version: number): TxnBody => ({ type: OpCode.setData, path, data: Buffer.from(data), version });

/**
 * A history as a leader logs it: zxids from 1, each txn carrying the tree digest after it (error
 * txns carry none). `state(z)` is the tree right after txn z.
 */
class History {
  readonly txns: Txn[] = [];
  readonly digestAfter = new Map<number, bigint>();

  constructor(bodies: TxnBody[]) {
    const live = new ZkDatabase(new DataTree());
    for (const body of [{ type: OpCode.createSession, timeOut: 30000 } as TxnBody, ...bodies]) {
      const zxid = this.txns.length + 1;
      const t: Txn = { hdr: { clientId: SESSION, cxid: zxid, zxid, time: 1_795_000_000_000 + zxid * 1000, type: body.type }, body };
      live.applyTxn(t);
      // What the leader predicted at prep time: the live tree's digest after the txn.
      this.digestAfter.set(zxid, live.tree.treeDigest());
      if (body.type !== OpCode.error) t.digest = { version: DIGEST_VERSION, treeDigest: live.tree.treeDigest() };
      this.txns.push(t);
    }
  }

  get last(): number {
    return this.txns.length;
  }

  state(zxid: number): ZkDatabase {
    const db = new ZkDatabase(new DataTree());
    for (const t of this.txns) if (t.hdr.zxid <= zxid) db.applyTxn(t);
    return db;
  }
}

interface DirSpec {
  /** The tree the snapshot file holds. */
  content: ZkDatabase;
  /** The zxid in the file name: lastProcessedZxid when the snapshot thread started. */
  name: number;
  /** The trailer ZxidDigest: the last digest logged when the nodes were all written. */
  trailer: { zxid: number; digest: bigint };
  /** Logged txns after `name`. */
  log: Txn[];
}

function writeDir(spec: DirSpec): string {
  const dataDir = tmpDir('zk-fuzzy-replay-');
  const v2 = path.join(dataDir, 'version-2');
  fs.mkdirSync(v2);
  const snap = serializeSnapshotSync(spec.content, { digest: { ...spec.trailer, digestVersion: DIGEST_VERSION } });
  fs.writeFileSync(path.join(v2, `snapshot.${spec.name.toString(16)}`), Buffer.concat(snap.chunks));
  const first = spec.log[0]!.hdr.zxid;
  fs.writeFileSync(path.join(v2, `log.${first.toString(16)}`), Buffer.concat([encodeLogFileHeader(), encodeLogRecords(spec.log)]));
  return dataDir;
}

/** loadDatabase with assertions on or off; the error, if it throws. */
function loadOurs(dataDir: string, asserting: boolean): { db?: ZkDatabase; error?: Error; logger: RecordingLogger } {
  const v2 = path.join(dataDir, 'version-2');
  const logger = new RecordingLogger();
  const was = digestAssertionsEnabled();
  setDigestAssertions(asserting);
  try {
    return { db: loadDatabase({ snapDir: v2, logDir: v2 }, { logger }).db, logger };
  } catch (e) {
    return { error: e as Error, logger };
  } finally {
    setDigestAssertions(was);
  }
}

type TreeView = Record<string, string>;

function view(db: ZkDatabase): TreeView {
  const out: TreeView = {};
  db.tree.walk((p, n) => {
    const s = n.stat();
    out[p === '' ? '/' : p] = JSON.stringify({ data: n.data?.toString('utf8') ?? null, ...s, ephemeralOwner: String(s.ephemeralOwner) });
  });
  return out;
}

const apacheSkip = apacheZkAvailable() ? false : 'Apache ZooKeeper (Debian package) is not installed';

/** Apache ZooKeeper 3.8 started on a copy of the directory: its mismatch count and tree. */
async function loadApache(dataDir: string): Promise<{ mismatches: number; tree: TreeView }> {
  const copy = tmpDir('zk-fuzzy-replay-apache-');
  fs.cpSync(dataDir, copy, { recursive: true });
  const apache = await startApacheZk({ dataDir: copy, jvmFlags: ['-Dzookeeper.preAllocSize=64'] });
  try {
    const mntr = await fourLetterWord(apache.host, apache.port, 'mntr');
    const m = /zk_digest_mismatches_count\s+(\d+)/.exec(mntr);
    assert.ok(m, `mntr reports digest mismatches:\n${mntr}`);
    const zk = await ZooKeeper.connect(apache.connectString, { sessionTimeout: 10000 });
    const tree: TreeView = {};
    try {
      const walk = async (p: string): Promise<void> => {
        const { data, stat } = await zk.getData(p);
        tree[p] = JSON.stringify({ data: data?.toString('utf8') ?? null, ...stat, ephemeralOwner: String(stat.ephemeralOwner) });
        for (const c of await zk.getChildren(p)) await walk(p === '/' ? `/${c}` : `${p}/${c}`);
      };
      await walk('/');
    } finally {
      await zk.close();
    }
    return { mismatches: Number(m[1]), tree };
  } finally {
    await apache.stop();
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the cases

/**
 * ZooKeeper's snapshot thread reads the trailer digest while the next txn may be applied already:
 * the file holds txn 5's node but carries the digest after txn 4, which is also its name.
 */
function trailerLagsContent(): { h: History; spec: DirSpec } {
  const h = new History([create('/a', 'a', 1), create('/a/b', 'b', 1), setData('/a', 'a2', 1), create('/c', 'c', 2), setData('/a/b', 'b2', 1)]);
  // zxids: 1 createSession, 2 /a, 3 /a/b, 4 setData /a, 5 /c, 6 setData /a/b
  return { h, spec: { content: h.state(5), name: 4, trailer: { zxid: 4, digest: h.digestAfter.get(4)! }, log: h.txns.slice(4) } };
}

/**
 * The same inside a fuzzy range: named 2, trailer at 4 (whose txn carries that same digest), the
 * content already has txn 5. ZooKeeper counts the snapshot's mismatch at 4 and the txn's.
 */
function trailerLagsInsideFuzzyRange(): { h: History; spec: DirSpec } {
  const h = new History([create('/a', 'a', 1), create('/a/b', 'b', 1), setData('/a', 'a2', 1), create('/a/c', 'c', 2), create('/d', null, 2)]);
  return { h, spec: { content: h.state(5), name: 2, trailer: { zxid: 4, digest: h.digestAfter.get(4)! }, log: h.txns.slice(2) } };
}

/** A snapshot that really diverged: a node no logged txn made, which replay never removes. */
function divergedSnapshot(withLaterTxns: boolean): { h: History; spec: DirSpec } {
  const h = new History([create('/a', 'a', 1), setData('/a', 'a2', 1), create('/b', 'b', 2)]);
  const content = h.state(3);
  content.applyTxn({ hdr: { clientId: SESSION, cxid: 99, zxid: 3, time: 1, type: OpCode.create }, body: create('/rogue', 'x', -1) });
  const spec: DirSpec = { content, name: 3, trailer: { zxid: 3, digest: h.digestAfter.get(3)! }, log: h.txns.slice(3) };
  if (!withLaterTxns) spec.log = h.txns.slice(2, 3); // only txn 3 itself, which the reader skips
  return { h, spec };
}

/**
 * Replay meets nodes the fuzzy snapshot already holds while their parents lag: a multi's create,
 * a top-level create2 and a top-level create. ZooKeeper moves the parent to the txn's
 * parentCVersion (and pzxid) for `create` ops, a multi's included, never for create2.
 */
function existingNodesWithLaggingParents(): { h: History; spec: DirSpec } {
  const h = new History([
    create('/p', null, 1), create('/q', null, 2), create('/r', null, 3),
    create('/p/x', 'x', 1), create('/q/y', 'y', 1), create('/r/z', 'z', 1),
    { type: OpCode.multi, txns: [create('/p/x', 'x', 5), setData('/p', 'm', 0)] },
    create('/q/y', 'y', 7, OpCode.create2),
    create('/r/z', 'z', 9),
  ]);
  // The snapshot holds the state after txn 7 (the children); the last three are replayed over it.
  return { h, spec: { content: h.state(7), name: 7, trailer: { zxid: 7, digest: h.digestAfter.get(7)! }, log: h.txns.slice(7) } };
}

/**
 * A quota's zookeeper_stats node caught by the snapshot as its create txn wrote it ("count=0,
 * bytes=0"), before the server filled in the usage: replaying the create finds it and does not
 * recount, so the usage has to be recounted when the snapshot is read, as ZooKeeper does.
 */
function quotaStatsCaughtUnfilled(): { h: History; spec: DirSpec } {
  const h = new History([
    create('/app', 'root', 1), create('/app/k', 'xyz', 1),
    create('/zookeeper/quota/app', null, 1),
    create('/zookeeper/quota/app/zookeeper_limits', 'count=100,bytes=-1', 1),
    create('/zookeeper/quota/app/zookeeper_stats', 'count=0,bytes=0', 2),
    create('/app/after', 'q', 2),
  ]);
  // zxids: 6 creates the stats node; the snapshot (named 5, trailer 5) holds it unfilled.
  const content = h.state(6);
  const stats = content.tree.get('/zookeeper/quota/app/zookeeper_stats')!;
  assert.equal(stats.data?.toString(), 'count=2,bytes=7', 'the live server filled the usage in');
  stats.data = Buffer.from('count=0,bytes=0');
  return { h, spec: { content, name: 5, trailer: { zxid: 5, digest: h.digestAfter.get(5)! }, log: h.txns.slice(5) } };
}

test("a snapshot holding the next txn's changes under the previous digest: one mismatch, as ZooKeeper counts; assertion mode waits for the next txn digest, which agrees", () => {
  const { h, spec } = trailerLagsContent();
  const dataDir = writeDir(spec);
  try {
    for (const asserting of [false, true]) {
      const { db, error, logger } = loadOurs(dataDir, asserting);
      assert.equal(error, undefined, `asserting=${asserting}: ${error?.message}`);
      assert.equal(db!.tree.digestMismatches, 1, logger.warnings.join('\n'));
      assert.match(logger.warnings.join('\n'), /Digests are not matching\. Value is Zxid\. 4: snapshot digest at zxid 0x4/);
      assert.equal(db!.tree.treeDigest(), h.digestAfter.get(h.last));
      assert.deepEqual(view(db!), view(h.state(h.last)));
      if (asserting) assert.match(logger.warnings.join('\n'), /the tree agrees with txn 0x5/);
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the same inside a fuzzy range: the snapshot digest and the txn at its zxid both count; the next txn settles it', () => {
  const { h, spec } = trailerLagsInsideFuzzyRange();
  const dataDir = writeDir(spec);
  try {
    for (const asserting of [false, true]) {
      const { db, error, logger } = loadOurs(dataDir, asserting);
      assert.equal(error, undefined, `asserting=${asserting}: ${error?.message}`);
      assert.equal(db!.tree.digestMismatches, 2, logger.warnings.join('\n'));
      assert.equal(db!.tree.treeDigest(), h.digestAfter.get(h.last));
      assert.deepEqual(view(db!), view(h.state(h.last)));
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a snapshot that really diverged still fails in assertion mode: at the next txn digest, or at the end of replay when none follows', () => {
  for (const withLaterTxns of [true, false]) {
    const { spec } = divergedSnapshot(withLaterTxns);
    const dataDir = writeDir(spec);
    try {
      const counted = loadOurs(dataDir, false);
      assert.equal(counted.error, undefined);
      // The snapshot's mismatch, then every later txn's: the tree never converges.
      assert.equal(counted.db!.tree.digestMismatches, withLaterTxns ? 2 : 1, counted.logger.warnings.join('\n'));
      const asserted = loadOurs(dataDir, true);
      assert.ok(asserted.error, 'assertion mode throws');
      assert.ok(asserted.error instanceof DigestMismatchError || /carries digest/.test(asserted.error.message), asserted.error.message);
      assert.match(asserted.error.message, withLaterTxns ? /the snapshot's did not settle either/ : /no later txn digest shows the tree converged/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
});

test("replayed creates of existing nodes move a lagging parent for create ops, a multi's included, not for create2", () => {
  const { h, spec } = existingNodesWithLaggingParents();
  const dataDir = writeDir(spec);
  try {
    const { db, error, logger } = loadOurs(dataDir, false);
    assert.equal(error, undefined);
    const p = db!.tree.get('/p')!, q = db!.tree.get('/q')!, r = db!.tree.get('/r')!;
    assert.deepEqual([p.cversion, p.pzxid], [5, 8], 'multi create: parentCVersion 5 at zxid 8');
    assert.deepEqual([q.cversion, q.pzxid], [1, 6], 'create2: parent untouched');
    assert.deepEqual([r.cversion, r.pzxid], [9, 10], 'create: parentCVersion 9 at zxid 10');
    assert.equal(p.data?.toString(), 'm', "the multi's other op is applied");
    // The digests the txns carry were computed with the same rule (and Apache agrees with them below).
    assert.equal(db!.tree.digestMismatches, 0, logger.warnings.join('\n'));
    assert.deepEqual(view(db!), view(h.state(h.last)));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('quota usage is recounted when a snapshot is read: a stats node caught before the server filled it in', () => {
  const { h, spec } = quotaStatsCaughtUnfilled();
  const dataDir = writeDir(spec);
  try {
    const { db, error, logger } = loadOurs(dataDir, true);
    assert.equal(error, undefined, error?.message);
    assert.equal(db!.tree.digestMismatches, 0, logger.warnings.join('\n'));
    assert.equal(db!.tree.get('/zookeeper/quota/app/zookeeper_stats')!.data?.toString(), 'count=3,bytes=8');
    assert.deepEqual(view(db!), view(h.state(h.last)));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('Apache ZooKeeper 3.8 loads the same directories with the same mismatch count and the same tree', { skip: apacheSkip, timeout: 180_000 }, async () => {
  const cases: Array<[string, DirSpec]> = [
    ['trailer lags content', trailerLagsContent().spec],
    ['trailer lags inside a fuzzy range', trailerLagsInsideFuzzyRange().spec],
    ['diverged snapshot', divergedSnapshot(true).spec],
    ['existing nodes with lagging parents', existingNodesWithLaggingParents().spec],
    ['quota stats caught unfilled', quotaStatsCaughtUnfilled().spec],
  ];
  for (const [name, spec] of cases) {
    const dataDir = writeDir(spec);
    try {
      const ours = loadOurs(dataDir, false);
      assert.equal(ours.error, undefined, `${name}: ${ours.error?.message}`);
      const apache = await loadApache(dataDir);
      assert.equal(ours.db!.tree.digestMismatches, apache.mismatches, `${name}: digest_mismatches_count`);
      const mine = view(ours.db!);
      // Apache's standalone server keeps its /zookeeper/config as it likes; everything else must match.
      delete mine['/zookeeper/config'];
      delete apache.tree['/zookeeper/config'];
      assert.deepEqual(mine, apache.tree, `${name}: tree`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
});
