// The tree digest through the running server: what it logs (TxnDigest on each txn), what its
// snapshots end with (ZxidDigest), what `hash` and /commands/hash report, the
// zookeeper.digest.enabled switch, and the container reaper re-checking a node at prep time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { startServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { fourLetterWord } from '../support/ServerProcess.js';
import { CreateMode, Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import { Writer } from '../../src/jute/archive.js';
import type { Codec } from '../../src/jute/codec.js';
import { parseZooCfg } from '../../src/config/ZooCfg.js';
import type { Txn } from '../../src/protocol/txn.js';
import { DataTree } from '../../src/tree/DataTree.js';
import { readLogs } from '../../src/storage/TxnLogReader.js';
import { readSnapshotFile } from '../../src/storage/Snapshot.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles } from '../../src/storage/FileNames.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** A request body already encoded (a multi built op by op). */
const RAW: Codec<Buffer> = {
  write: (w, b) => void w.raw(b),
  read: () => {
    throw new Error('not used');
  },
};

function multiBody(ops: Array<{ type: number; write: (w: Writer) => void }>): Buffer {
  const w = new Writer(256);
  for (const op of ops) {
    R.MultiHeader.write(w, { type: op.type, done: false, err: -1 });
    op.write(w);
  }
  R.MultiHeader.write(w, { type: -1, done: true, err: -1 });
  return w.toBuffer();
}

/** A mixed workload, most of it pipelined (requests sent without waiting for replies). */
async function workload(port: number, rounds: number): Promise<void> {
  const owner = await RawClient.connect(port, { timeout: 10000 });
  const c = await RawClient.connect(port, { timeout: 10000 });
  await c.request(OpCode.create, R.CreateRequest, { path: '/w', data: Buffer.from('root'), acl: OPEN, flags: 0 });
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < rounds; i++) {
    const p = `/w/n${i}`;
    inflight.push(c.request(OpCode.create, R.CreateRequest, { path: p, data: Buffer.from(`v${i}`), acl: OPEN, flags: 0 }));
    inflight.push(c.request(OpCode.setData, R.SetDataRequest, { path: p, data: Buffer.from(`w${i}`), version: 0 }));
    inflight.push(owner.request(OpCode.create, R.CreateRequest, { path: `/w/e${i}`, data: null, acl: OPEN, flags: CreateMode.EPHEMERAL_SEQUENTIAL }));
    if (i % 3 === 0) inflight.push(c.request(OpCode.delete, R.DeleteRequest, { path: p, version: 1 }));
    if (i % 5 === 0) inflight.push(c.request(OpCode.setACL, R.SetACLRequest, { path: '/w', acl: OPEN, version: -1 }));
    if (i % 7 === 0) inflight.push(c.request(OpCode.delete, R.DeleteRequest, { path: '/w/missing', version: -1 })); // an error txn
    if (i % 11 === 0) {
      inflight.push(c.request(OpCode.multi, RAW, multiBody([
        { type: OpCode.create, write: (w) => R.CreateRequest.write(w, { path: `/w/m${i}`, data: null, acl: OPEN, flags: 0 }) },
        { type: OpCode.setData, write: (w) => R.SetDataRequest.write(w, { path: '/w', data: Buffer.from(`m${i}`), version: -1 }) },
      ])));
      // A failing multi (bad version) is logged as a multi of error results, with a digest.
      inflight.push(c.request(OpCode.multi, RAW, multiBody([
        { type: OpCode.create, write: (w) => R.CreateRequest.write(w, { path: `/w/x${i}`, data: null, acl: OPEN, flags: 0 }) },
        { type: OpCode.setData, write: (w) => R.SetDataRequest.write(w, { path: '/w', data: null, version: 1_000_000 }) },
      ])));
    }
  }
  await Promise.all(inflight);
  // closeSession right behind ephemeral creates still in flight.
  const last = owner.request(OpCode.create, R.CreateRequest, { path: '/w/last', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
  const close = owner.request(OpCode.closeSession);
  await Promise.all([last, close]);
  await c.request(OpCode.closeSession);
  c.close();
  owner.close();
}

function logTxns(dataDir: string): Txn[] {
  return [...readLogs(path.join(dataDir, 'version-2'), 1)];
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    }).on('error', reject);
  });
}

test('logged digests, snapshot trailers, hash and /commands/hash agree with a replay of the log', { timeout: 120_000 }, async () => {
  const srv = await startServer({ snapCount: 60, adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 });
  let stopped = false;
  try {
    await workload(srv.port, 80);
    const txns = logTxns(srv.dataDir);
    assert.ok(txns.length > 256, `enough txns for two hash entries (${txns.length})`);
    // Replay our own log into a fresh tree: each txn's digest must be the tree's after it.
    const tree = new DataTree();
    const digestAt = new Map<number, bigint>();
    let withDigest = 0, errors = 0, failedMultis = 0;
    for (const t of txns) {
      tree.apply(t, []);
      digestAt.set(t.hdr.zxid, tree.treeDigest());
      if (t.hdr.type === OpCode.error) {
        errors++;
        assert.equal(t.digest, undefined, 'no digest on error txns');
        continue;
      }
      assert.equal(t.digest?.version, 2, `zxid ${t.hdr.zxid} (type ${t.hdr.type}) has a digest`);
      assert.equal(t.digest.treeDigest, tree.treeDigest(), `digest after zxid ${t.hdr.zxid}`);
      if (t.body.type === OpCode.multi && t.body.txns.some((s) => s.type === OpCode.error)) failedMultis++;
      withDigest++;
    }
    assert.ok(errors > 0 && failedMultis > 0 && withDigest > 250);
    assert.ok(txns.some((t) => t.body.type === OpCode.closeSession && t.body.paths2Delete.includes('/w/last')), 'closeSession lists the in-flight ephemeral');
    assert.equal(srv.server.db.tree.treeDigest(), tree.treeDigest());

    // hash: "<hex zxid>: <digest>" for zxids that are multiples of 128.
    const expected = [...digestAt].filter(([z]) => z % 128 === 0).map(([z, d]) => `${z.toString(16)}: ${d}`);
    assert.ok(expected.length >= 2);
    const hash = await fourLetterWord('127.0.0.1', srv.port, 'hash');
    assert.deepEqual(hash.split('\n').filter((l) => l !== ''), expected);
    const json = JSON.parse(await get(`http://127.0.0.1:${srv.server.admin!.port}/commands/hash`)) as { digests: Array<{ zxid: number; digest: number; digest_version: number }>; command: string; error: null };
    assert.equal(json.command, 'hash');
    assert.deepEqual(json.digests.map((d) => `${d.zxid.toString(16)}: ${d.digest}`), expected);
    assert.ok(json.digests.every((d) => d.digest_version === 2));

    await srv.stop();
    stopped = true;
    // Every snapshot (background ones are fuzzy) ends with the digest at a zxid it covers.
    const snaps = listDataFiles(path.join(srv.dataDir, 'version-2'), SNAPSHOT_PREFIX);
    assert.ok(snaps.length >= 2, `snapshots taken (${snaps.length})`);
    let checked = 0;
    for (const f of snaps) {
      const s = readSnapshotFile(f.path);
      assert.ok(s.digest, `${f.path} has a ZxidDigest`);
      if (s.digest.zxid === 0) {
        assert.equal(s.digest.digest, 0n);
        continue;
      }
      assert.ok(s.digest.zxid >= f.zxid, 'the digest zxid is at or after the name zxid');
      assert.equal(s.digest.digest, digestAt.get(s.digest.zxid), `${f.path}: digest at 0x${s.digest.zxid.toString(16)}`);
      checked++;
    }
    assert.ok(checked >= 1);
    // And a restart replays with no mismatch (assertions on in the test runner would throw).
    const again = await startServer({ dataDir: srv.dataDir, dataLogDir: srv.dataDir });
    try {
      assert.equal(again.server.db.tree.digestMismatches, 0);
      assert.equal(again.server.db.tree.treeDigest(), tree.treeDigest());
    } finally {
      await again.stop();
    }
  } finally {
    if (!stopped) await srv.stop();
  }
});

test('digest.enabled=false: no TxnDigest in the log, no ZxidDigest in snapshots, hash reports 0', { timeout: 60_000 }, async () => {
  const srv = await startServer({ digestEnabled: false, snapCount: 60 });
  try {
    await workload(srv.port, 45);
    const txns = logTxns(srv.dataDir);
    assert.ok(txns.length > 128);
    assert.ok(txns.every((t) => t.digest === undefined));
    const hash = await fourLetterWord('127.0.0.1', srv.port, 'hash');
    assert.match(hash, /^80: 0\n/);
  } finally {
    await srv.stop();
  }
  const snaps = listDataFiles(path.join(srv.dataDir, 'version-2'), SNAPSHOT_PREFIX);
  assert.ok(snaps.length >= 2);
  for (const f of snaps) assert.equal(readSnapshotFile(f.path).digest, null, `${f.path} ends after checksum1`);
  assert.ok(listDataFiles(path.join(srv.dataDir, 'version-2'), LOG_PREFIX).length >= 1);
  fs.rmSync(srv.dataDir, { recursive: true, force: true });
});

test('zookeeper.digest.enabled is read from zoo.cfg (digest.enabled) and from -D flags', () => {
  const base = 'dataDir=/tmp/zk-digest-cfg\nclientPort=2181\n';
  const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseZooCfg(text, { env, ignoreMyId: true });
  assert.equal(parse(base).digestEnabled, true);
  assert.equal(parse(base + 'digest.enabled=false\n').digestEnabled, false);
  assert.equal(parse(base, { JVMFLAGS: '-Dzookeeper.digest.enabled=false' }).digestEnabled, false);
  assert.equal(parse(base, { SERVER_JVMFLAGS: '-Dzookeeper.digest.enabled=FALSE' }).digestEnabled, false);
  assert.throws(() => parse(base + 'digest.enabled=nope\n'), /digest\.enabled/);
});

test('the reaper does not delete a container that was recreated as a plain node while it waited', { timeout: 30_000 }, async () => {
  // 60 deletions a minute: the reaper waits 1 s between two candidates of one pass.
  const srv = await startServer({ containerCheckIntervalMs: 100, containerMaxPerMinute: 60 });
  try {
    const c = await RawClient.connect(srv.port, { timeout: 10000 });
    for (const p of ['/ra', '/rb']) {
      await c.request(OpCode.createContainer, R.CreateRequest, { path: p, data: null, acl: OPEN, flags: CreateMode.CONTAINER });
      await c.request(OpCode.create, R.CreateRequest, { path: `${p}/child`, data: null, acl: OPEN, flags: 0 });
    }
    // Both become candidates in the same pass: one multi empties both.
    const both = multiBody([
      { type: OpCode.delete, write: (w) => R.DeleteRequest.write(w, { path: '/ra/child', version: -1 }) },
      { type: OpCode.delete, write: (w) => R.DeleteRequest.write(w, { path: '/rb/child', version: -1 }) },
    ]);
    assert.equal((await c.request(OpCode.multi, RAW, both)).err, 0);
    const deadline = Date.now() + 5000;
    while ((await c.request(OpCode.exists, R.ExistsRequest, { path: '/ra', watch: false })).err === 0) {
      assert.ok(Date.now() < deadline, '/ra reaped');
      await new Promise((r) => setTimeout(r, 10));
    }
    // The reaper now waits before deleting /rb: swap /rb for a persistent node.
    const swap = multiBody([
      { type: OpCode.delete, write: (w) => R.DeleteRequest.write(w, { path: '/rb', version: -1 }) },
      { type: OpCode.create, write: (w) => R.CreateRequest.write(w, { path: '/rb', data: Buffer.from('mine'), acl: OPEN, flags: 0 }) },
    ]);
    assert.equal((await c.request(OpCode.multi, RAW, swap)).err, 0);
    await new Promise((r) => setTimeout(r, 1500));
    const d = await c.request(OpCode.getData, R.GetDataRequest, { path: '/rb', watch: false });
    assert.equal(d.err, Err.OK, 'the recreated /rb is still there');
    assert.equal(R.GetDataResponse.read(d.body).data?.toString(), 'mine');
    // The refused delete was logged as an error txn (BadVersion), as ZooKeeper logs failed prep.
    const refused = logTxns(srv.dataDir).filter((t) => t.hdr.clientId === 0n && t.body.type === OpCode.error);
    assert.deepEqual(refused.map((t) => t.body), [{ type: OpCode.error, err: Err.BadVersion }]);
    c.close();
  } finally {
    await srv.stop();
  }
});
