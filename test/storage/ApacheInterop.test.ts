// Apache ZooKeeper 3.8 started on a data directory our storage wrote serves the same tree:
// every path's data, Stat and ACL compared through the client protocol. Three layouts:
// snapshot.0 + logs, snapshots + logs (fuzzy background snapshots mid-stream), snapshot only.
// (The other direction, our recovery of a directory Apache wrote, is in Recovery.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { OpCode } from '../../src/protocol/constants.js';
import { GetACLRequest, GetACLResponse, GetDataRequest, GetDataResponse, type ACL } from '../../src/protocol/records.js';
import type { Txn, TxnBody } from '../../src/protocol/txn.js';
import type { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { recover, type Recovered } from '../../src/storage/Recovery.js';
import { storageSettings } from '../../src/server/StorageSettings.js';
import { apacheZkAvailable, startApacheZk } from '../support/ApacheZk.js';
import { fourLetterWord } from '../support/ServerProcess.js';
import { RawClient } from '../support/RawClient.js';
import { RecordingLogger, tmpDir } from './helpers.js';

const WORLD_ALL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const WORLD_READ: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
const ALICE_PLUS_READ: ACL[] = [
  { perms: 31, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } },
  { perms: 1, id: { scheme: 'world', id: 'anyone' } },
];
const OWNER = 0x1000000abcd0001n;
const GONE = 0x1000000abcd0002n;

/** Drives the database the way the server would: parentCVersion and versions from the tree. */
class Writer {
  zxid = 0;
  time = 1_795_000_000_000;
  constructor(private readonly r: Recovered) {}

  private get db(): ZkDatabase {
    return this.r.db;
  }

  async commit(body: TxnBody, clientId = OWNER): Promise<void> {
    const zxid = ++this.zxid;
    const txn: Txn = { hdr: { clientId, cxid: zxid, zxid, time: (this.time += 7), type: body.type }, body };
    await this.r.log.append([txn]);
    this.db.applyTxn(txn);
    this.r.snapshotter.afterApply(this.db);
  }

  /** parentCVersion for a new child of `parent`. */
  nextCVersion(parent: string): number {
    return this.db.tree.get(parent)!.cversion + 1;
  }

  private cv(p: string): number {
    return this.nextCVersion(p.substring(0, p.lastIndexOf('/')) || '/');
  }

  create(p: string, data: Buffer | null, acl = WORLD_ALL, ephemeral = false, clientId = OWNER) {
    return this.commit({ type: OpCode.create, path: p, data, acl, ephemeral, parentCVersion: this.cv(p) }, clientId);
  }
  setData(p: string, data: string) {
    return this.commit({ type: OpCode.setData, path: p, data: Buffer.from(data), version: this.db.tree.get(p)!.version + 1 });
  }
}

async function writeWorkload(r: Recovered): Promise<void> {
  const w = new Writer(r);
  await w.commit({ type: OpCode.createSession, timeOut: 40000 }, OWNER);
  await w.commit({ type: OpCode.createSession, timeOut: 30000 }, GONE);
  await w.create('/app', Buffer.from('application root'));
  await w.create('/app/config', Buffer.from('{"v":1}'));
  for (let i = 0; i < 25; i++) await w.create(`/app/w-${String(w.nextCVersion('/app')).padStart(10, '0')}`, Buffer.from(`worker ${i}`));
  for (let i = 0; i < 10; i++) await w.setData('/app/config', `{"v":${i + 2}}`);
  await w.create('/null', null);
  await w.create('/empty', Buffer.alloc(0));
  await w.create('/bin', Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  await w.create('/readonly', Buffer.from('ro'), WORLD_READ);
  await w.create('/secure', Buffer.from('alice'), ALICE_PLUS_READ);
  await w.create('/unicode-ключ', Buffer.from('данные'));
  await w.create('/app/eph', Buffer.from('mine'), WORLD_ALL, true, OWNER);
  await w.create('/app/gone', Buffer.from('closed with its session'), WORLD_ALL, true, GONE);
  await w.commit({ type: OpCode.setACL, path: '/readonly', acl: WORLD_ALL, version: 1 });
  await w.commit({ type: OpCode.delete, path: '/app/w-0000000003' });
  await w.commit({ type: OpCode.error, err: -101 });
  await w.commit({
    type: OpCode.multi,
    txns: [
      { type: OpCode.create, path: '/tx', data: Buffer.from('multi'), acl: WORLD_ALL, ephemeral: false, parentCVersion: w.nextCVersion('/') },
      { type: OpCode.create, path: '/tx/a', data: Buffer.from('A'), acl: WORLD_ALL, ephemeral: false, parentCVersion: 1 },
      { type: OpCode.check, path: '/app', version: 0 },
    ],
  });
  await w.commit({ type: OpCode.createContainer, path: '/container', data: Buffer.from('c'), acl: WORLD_ALL, parentCVersion: w.nextCVersion('/') });
  await w.create('/container/item', Buffer.from('keeps it'));
  await w.commit({ type: OpCode.createTTL, path: '/ttl', data: Buffer.from('ttl'), acl: WORLD_ALL, parentCVersion: w.nextCVersion('/'), ttl: 3_600_000 });
  await w.commit({ type: OpCode.closeSession, paths2Delete: ['/app/gone'] }, GONE);
  for (let i = 0; i < 15; i++) await w.setData('/app/config', `{"late":${i}}`);
}

async function compareWithApache(dataDir: string, db: ZkDatabase): Promise<void> {
  const zk = await startApacheZk({ dataDir, extraConfig: { extendedTypesEnabled: true } });
  try {
    const srvr = await fourLetterWord(zk.host, zk.port, 'srvr');
    assert.match(srvr, new RegExp(`Zxid: 0x${db.lastProcessedZxid.toString(16)}\\b`), srvr);
    const c = await RawClient.connect(zk.port);
    try {
      let compared = 0;
      const paths: string[] = [];
      db.tree.walk((p) => paths.push(p === '' ? '/' : p));
      for (const p of paths) {
        const node = db.tree.get(p)!;
        const d = await c.request(OpCode.getData, GetDataRequest, { path: p, watch: false });
        assert.equal(d.err, 0, `getData ${p} on Apache: err ${d.err}`);
        const got = GetDataResponse.read(d.body);
        const want = node.stat();
        assert.equal(got.data?.toString('hex') ?? '', node.data?.toString('hex') ?? '', `data of ${p}`);
        assert.deepEqual(got.stat, want, `stat of ${p}`);
        const a = await c.request(OpCode.getACL, GetACLRequest, { path: p });
        assert.equal(a.err, 0, `getACL ${p}`);
        // Apache masks digest credentials for clients without ADMIN on the node: 'alice:x'.
        const masked = db.tree.aclOf(node).map((x) =>
          x.id.scheme === 'digest' ? { perms: x.perms, id: { scheme: 'digest', id: x.id.id.split(':')[0] + ':x' } } : x,
        );
        assert.deepEqual(GetACLResponse.read(a.body).acl, masked, `acl of ${p}`);
        compared++;
      }
      assert.ok(compared > 40, `compared ${compared} nodes`);
      // Nothing extra on the Apache side either: child counts matched in every Stat above.
    } finally {
      c.close();
    }
    // Loading our files produced no complaint (bad checksum, digest mismatch, replay errors).
    // Apache can log an NPE when our readiness probe (a four-letter word) lands before its
    // database is loaded ("Error closing a command socket"): its startup race, not our files.
    const log = fs
      .readFileSync(zk.logFile, 'utf8')
      .replace(/^.*ERROR org\.apache\.zookeeper\.server\.ServerCnxn - Error closing a command socket[\s\S]*?(?=^\[|(?![\s\S]))/gm, '');
    // (A client hanging up shows as an EndOfStreamException warning; that is not about the files.)
    assert.doesNotMatch(log, /ERROR|mismatch|CRC|Unreasonable|Invalid|corrupt|partial/i, log);
  } finally {
    await zk.stop({ keepDataDir: true });
  }
}

const skip = apacheZkAvailable() ? false : 'Apache ZooKeeper (Debian package) is not installed';

async function build(snapCount: number): Promise<{ dataDir: string; r: Recovered }> {
  const dataDir = tmpDir('zk-ours-for-apache-');
  const r = await recover(storageSettings(defaultConfig({ dataDir, dataLogDir: dataDir, snapCount, preAllocSizeKb: 64 })), { logger: new RecordingLogger() });
  await writeWorkload(r);
  await r.snapshotter.idle();
  await r.log.close();
  return { dataDir, r };
}

test('Apache ZooKeeper serves our snapshot.0 + txn logs', { skip, timeout: 120_000 }, async () => {
  const { dataDir, r } = await build(1_000_000);
  const files = fs.readdirSync(path.join(dataDir, 'version-2')).sort();
  // Apache's standalone server ignores the epoch files a quorum peer would read.
  assert.deepEqual(files, ['acceptedEpoch', 'currentEpoch', 'log.1', 'snapshot.0']);
  await compareWithApache(dataDir, r.db);
});

test('Apache ZooKeeper serves our fuzzy snapshots + the logs after them', { skip, timeout: 120_000 }, async () => {
  const { dataDir, r } = await build(16);
  const files = fs.readdirSync(path.join(dataDir, 'version-2'));
  assert.ok(files.filter((f) => f.startsWith('snapshot.')).length >= 4, files.join(' '));
  assert.ok(files.filter((f) => f.startsWith('log.')).length >= 4, files.join(' '));
  await compareWithApache(dataDir, r.db);
});

test('Apache ZooKeeper serves our snapshot alone', { skip, timeout: 120_000 }, async () => {
  const { dataDir, r } = await build(1_000_000);
  const v2 = path.join(dataDir, 'version-2');
  await r.snapshotter.snapshotNow(r.db);
  for (const f of fs.readdirSync(v2)) if (f.startsWith('log.') || f === 'snapshot.0') fs.unlinkSync(path.join(v2, f));
  assert.equal(fs.readdirSync(v2).filter((f) => /^(log|snapshot)\./.test(f)).length, 1);
  await compareWithApache(dataDir, r.db);
});
