// Tree digests against Apache ZooKeeper 3.8, both ways. The same client operations run against
// Apache and against our server. Then:
//  1. Apache's own txn log, read by our reader and replayed into our DataTree, gives after every
//     txn exactly the digest Apache wrote into it, and our digest history equals Apache's `hash`.
//  2. Apache, started on a copy of the data directory our server wrote, replays our txn log and
//     our snapshots and compares each TxnDigest and ZxidDigest we computed at prep time with its
//     own tree: its digest_mismatches_count stays 0. Times and session ids differ between the two
//     runs (they enter ctime/mtime/ephemeralOwner and so the digests), which is why each server's
//     digests are checked against a replay of its own log rather than compared to each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apacheZkAvailable, ourZkAvailable } from './harness.js';
import { startApacheZk, type RunningServer } from '../support/ApacheZk.js';
import { startOurZk } from '../support/OurZk.js';
import { fourLetterWord } from '../support/ServerProcess.js';
import { ZooKeeper } from '../../src/client/index.js';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn } from '../../src/protocol/txn.js';
import { DataTree } from '../../src/tree/DataTree.js';
import { readLogFile, readLogs, type LogRecord } from '../../src/storage/TxnLogReader.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles } from '../../src/storage/FileNames.js';
import { adler32 } from '../../src/storage/Adler32.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ_ONLY = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

/** Sequential operations, so that both servers log the same txns in the same order. */
async function workload(connectString: string): Promise<void> {
  const owner = await ZooKeeper.connect(connectString, { sessionTimeout: 10000 });
  const zk = await ZooKeeper.connect(connectString, { sessionTimeout: 10000 });
  try {
    await zk.create('/d', Buffer.from('root'));
    for (let i = 0; i < 60; i++) await zk.create(`/d/n${i}`, Buffer.from(`value-${i}`));
    for (let i = 0; i < 60; i += 2) await zk.setData(`/d/n${i}`, Buffer.from(`changed-${i}`));
    for (let i = 1; i < 60; i += 6) await zk.delete(`/d/n${i}`);
    await zk.setACL('/d/n0', READ_ONLY);
    await zk.create('/d/seq-', null, { mode: 'PERSISTENT_SEQUENTIAL' });
    await zk.create('/d/seq-', Buffer.alloc(0), { mode: 'PERSISTENT_SEQUENTIAL' });
    await zk.create('/box', null, { mode: 'CONTAINER' });
    await zk.create('/box/item', Buffer.from([0, 1, 2, 255]));
    await zk.create('/ttl', null, { mode: 'PERSISTENT_WITH_TTL', ttl: 3_600_000 });
    await zk.create('/unicode-ключ', Buffer.from('ü'));
    await zk.create('/zookeeper/quota/d', null); // under /zookeeper/: hashes to 0
    await assert.rejects(zk.create('/d', null)); // NodeExists: an error txn, no digest
    await zk.multi([
      { type: 'create', path: '/m', data: Buffer.from('m'), acl: OPEN, mode: 0 },
      { type: 'setData', path: '/d', data: Buffer.from('root2'), version: -1 },
      { type: 'delete', path: '/d/n2', version: -1 },
    ]);
    await assert.rejects(zk.multi([
      { type: 'create', path: '/never', data: null, acl: OPEN, mode: 0 },
      { type: 'setData', path: '/d', data: null, version: 99 },
    ]));
    for (let i = 0; i < 3; i++) await owner.create(`/d/eph${i}`, Buffer.from('e'), { mode: 'EPHEMERAL' });
    await owner.create('/d/eseq-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
    for (let i = 0; i < 20; i++) await zk.setData('/m', Buffer.from(`tick-${i}`));
  } finally {
    await owner.close(); // closeSession deleting four ephemerals
    await zk.close();
  }
}

function txnsOf(dataDir: string): Txn[] {
  return [...readLogs(path.join(dataDir, 'version-2'), 1)];
}

function copyDataDir(src: string, keepSnapshots: boolean): string {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-digest-'));
  fs.cpSync(src, dst, { recursive: true });
  fs.rmSync(path.join(dst, 'zookeeper_server.pid'), { force: true });
  if (!keepSnapshots) {
    // Only snapshot.0 stays: Apache then replays (and checks) every txn we logged.
    for (const f of listDataFiles(path.join(dst, 'version-2'), SNAPSHOT_PREFIX)) if (f.zxid !== 0) fs.rmSync(f.path);
  }
  return dst;
}

/** Add 1 to the TxnDigest of the last record of the newest log file (and fix its checksum). */
function alterLastDigest(v2: string): void {
  const newest = listDataFiles(v2, LOG_PREFIX).pop()!;
  let last: LogRecord | undefined;
  for (const r of readLogFile(newest.path)) last = r;
  assert.ok(last?.txn.digest, 'the last record carries a digest');
  const buf = fs.readFileSync(newest.path);
  const payloadStart = last.offset + 12;
  const payloadEnd = last.endOffset - 1;
  buf.writeBigInt64BE(buf.readBigInt64BE(payloadEnd - 8) + 1n, payloadEnd - 8);
  buf.writeBigUInt64BE(BigInt(adler32(buf, 1, payloadStart, payloadEnd)), last.offset);
  fs.writeFileSync(newest.path, buf);
}

function mntrValue(mntr: string, key: string): string | undefined {
  return mntr.split('\n').find((l) => l.startsWith(`${key}\t`))?.split('\t')[1];
}

const skip = (!apacheZkAvailable() || !ourZkAvailable()) && 'Apache ZooKeeper or our build missing';

test('tree digests: Apache\'s log replayed by us, and our log and snapshots checked by Apache', { skip, timeout: 300_000 }, async () => {
  // Data directories of our own, so that they outlive the servers.
  const apacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-digest-apache-'));
  const ourDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-digest-ours-'));
  const dirs: string[] = [apacheDir, ourDir];
  let apacheHash = '';
  try {
    // snapCount 40: both servers also take fuzzy background snapshots during the workload.
    const opts = { extraConfig: { snapCount: 40 } };
    const [apacheSrv, ourSrv] = await Promise.all([startApacheZk({ ...opts, dataDir: apacheDir }), startOurZk({ ...opts, dataDir: ourDir })]);
    try {
      await Promise.all([workload(apacheSrv.connectString), workload(ourSrv.connectString)]);
      apacheHash = await fourLetterWord('127.0.0.1', apacheSrv.port, 'hash');
      const ourHash = await fourLetterWord('127.0.0.1', ourSrv.port, 'hash');
      assert.match(apacheHash, /^80: -?\d+\n$/, 'one digest recorded at zxid 0x80');
      assert.match(ourHash, /^80: -?\d+\n$/);
    } finally {
      await Promise.all([apacheSrv.stop(), ourSrv.stop()]);
    }

    // 1. Apache's log through our reader and DataTree.
    const apacheTxns = txnsOf(apacheDir);
    const ourTxns = txnsOf(ourDir);
    assert.deepEqual(ourTxns.map((t) => t.hdr.type), apacheTxns.map((t) => t.hdr.type), 'the same txn types in the same order');
    assert.deepEqual(ourTxns.map((t) => t.digest === undefined), apacheTxns.map((t) => t.digest === undefined), 'digests on the same txns');
    const tree = new DataTree();
    let compared = 0;
    for (const t of apacheTxns) {
      tree.apply(t, []);
      if (t.hdr.type === OpCode.error) continue;
      assert.ok(t.digest, `Apache wrote a digest on zxid 0x${t.hdr.zxid.toString(16)} (type ${t.hdr.type})`);
      assert.equal(tree.treeDigest(), t.digest.treeDigest, `our digest after Apache's zxid 0x${t.hdr.zxid.toString(16)} (type ${t.hdr.type})`);
      compared++;
    }
    assert.ok(compared > 130, `${compared} digests compared`);
    assert.equal(tree.digestLog().map((d) => `${d.zxid.toString(16)}: ${d.digest}\n`).join(''), apacheHash, 'our digest history = Apache\'s hash');

    // 2. Apache on our data directory: every txn replayed; the newest snapshot + replay; and, to
    // show the check is live, one of our digests altered.
    for (const variant of ['all-logs', 'snapshots', 'tampered'] as const) {
      const dir = copyDataDir(ourDir, variant === 'snapshots');
      dirs.push(dir);
      if (variant === 'tampered') alterLastDigest(path.join(dir, 'version-2'));
      let apache: RunningServer | null = null;
      try {
        apache = await startApacheZk({ dataDir: dir });
        const mntr = await fourLetterWord('127.0.0.1', apache.port, 'mntr');
        const mismatches = mntrValue(mntr, 'zk_digest_mismatches_count');
        if (variant === 'tampered') assert.equal(mismatches, '1', 'Apache notices the one altered digest');
        else assert.equal(mismatches, '0', `Apache found no digest mismatch in our data (${variant})`);
      } finally {
        await apache?.stop();
      }
    }
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
});
