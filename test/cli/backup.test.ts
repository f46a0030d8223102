// zk-server backup / restore against a running server under write load, over real sockets and
// files: the restored tree must equal the tree at the backup's zxid as the acknowledged writes
// define it (each reply carries its txn's zxid), not as our own recovery code would say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { loadZooCfg } from '../../src/config/ZooCfg.js';
import { makeTempDir } from '../support/ServerProcess.js';
import { RawClient } from '../support/RawClient.js';
import { Ledger, populate, readTree, runCli, startLoad, takeFuzzyBackup, treeDiff, writeCfg } from '../support/backupLoad.js';
import { OpCode, Err } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import { digestId } from '../../src/auth/AuthProviders.js';
import { listDataFiles } from '../../src/storage/FileNames.js';

async function startFrom(cfg: string): Promise<ZkServer> {
  const s = new ZkServer(loadZooCfg(cfg), undefined, { logger: { warn: () => {}, error: (m) => console.error(m) } });
  await s.start();
  return s;
}

test('backup under write load restores, with zk-server restore, to the tree at the backup zxid', async () => {
  const dir = makeTempDir('zk-backup-');
  // snapCount small: the server rolls its log and snapshots while the backup runs.
  const cfg = await writeCfg(dir, 'snapCount=2000\n');
  const server = await startFrom(cfg);
  const ledger = new Ledger();
  const count = 12000;
  let load: ReturnType<typeof startLoad> | null = null;
  try {
    await populate(server.port, ledger, count);
    load = startLoad(server.port, ledger, count, { clients: 3, window: 16 });
    await new Promise((r) => setTimeout(r, 200));
    const opsBefore = load.ops;
    const taken = await takeFuzzyBackup(cfg, dir);
    const opsDuring = load.ops - opsBefore;
    await load.stop();
    load = null;
    const { dir: backupDir, zxid, snapshotZxid: snapZxid } = taken;
    assert.ok(opsDuring > 0, 'writes ran while the backup was taken');
    assert.ok(zxid > snapZxid, `the snapshot was fuzzy: writes landed between 0x${snapZxid.toString(16)} and 0x${zxid.toString(16)} (${taken.attempts} attempts)`);
    assert.ok(ledger.maxZxid > zxid, 'writes went on after the backup zxid, so "the tree now" differs from the backup');
    const files = fs.readdirSync(path.join(backupDir, 'version-2')).sort();
    assert.deepEqual(files, [`log.${(snapZxid + 1).toString(16)}`, `snapshot.${snapZxid.toString(16)}`]);

    // Into an empty data directory of a second server, then serve it.
    const dir2 = makeTempDir('zk-restore-');
    const cfg2 = await writeCfg(dir2);
    const r = await runCli(['restore', backupDir, cfg2]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Restored zxid 0x${zxid.toString(16)} \\(\\d+ znodes\\): `));
    const restored = await startFrom(cfg2);
    try {
      assert.equal(restored.lastZxid, zxid);
      const expected = ledger.treeAt(zxid);
      const actual = await readTree(restored.port);
      assert.ok(expected.size > count / 2, `a substantial tree is compared (${expected.size} nodes)`);
      assert.deepEqual(treeDiff(expected, actual), []);
      // The live server has moved on: it is not what the backup equals.
      assert.notDeepEqual(treeDiff(ledger.treeAt(ledger.maxZxid), actual), []);
    } finally {
      await restored.stop();
    }

    // A data directory in use is refused: by the running server, and by files without --force.
    const again = await runCli(['restore', backupDir, cfg]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /a server is running for .* stop it first/);
    const busy = await runCli(['restore', backupDir, cfg2]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /already holds \d+ snapshot\/log file\(s\); restore into an empty data directory, or pass --force/);
    const forced = await runCli(['restore', backupDir, cfg2, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^Removed \d+ file\(s\) of the previous data: /);
    assert.deepEqual(listDataFiles(path.join(dir2, 'data', 'version-2'), 'snapshot').map((f) => f.zxid), [snapZxid]);
    // A second backup into the same directory would mix two; refused.
    const twice = await runCli(['backup', backupDir, cfg]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already holds a data directory/);
  } finally {
    await load?.stop();
    await server.stop();
  }
});

test('backup needs ALL on / for its Authorization identity, and says why when refused', async () => {
  const dir = makeTempDir('zk-backup-auth-');
  const cfg = await writeCfg(dir);
  const server = await startFrom(cfg);
  try {
    const c = await RawClient.connect(server.port);
    const setAcl = (acl: { perms: number; id: { scheme: string; id: string } }[]) => c.request(OpCode.setACL, R.SetACLRequest, { path: '/', acl, version: -1 });
    assert.equal((await setAcl([{ perms: 31, id: { scheme: 'digest', id: digestId('admin:secret') } }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }])).err, Err.OK);
    const base = `http://127.0.0.1:${server.admin!.port}/commands`;
    const missing = await fetch(`${base}/snapshot`);
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), { command: 'snapshot', error: 'Auth info is missing for the command' });
    const wrong = await fetch(`${base}/snapshot`, { headers: { authorization: 'digest admin:guess' } });
    assert.equal(wrong.status, 403);
    assert.equal((await fetch(`${base}/txns?after=0`, { headers: { authorization: 'ip' } })).status, 403);
    assert.equal((await fetch(`${base}/txns?after=zz`, { headers: { authorization: 'digest admin:secret' } })).status, 400);

    const denied = await runCli(['backup', path.join(dir, 'b1'), cfg]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /HTTP 403: Not authorized \(pass --auth "digest user:password"/);
    // Addressed by URL instead of a zoo.cfg (another host's server), credentials from the environment.
    const ok = await runCli(['backup', path.join(dir, 'b2'), '--admin-url', `http://127.0.0.1:${server.admin!.port}/commands`], { ZK_ADMIN_AUTH: 'digest admin:secret' });
    assert.doesNotMatch(ok.stderr, /Using config/);
    assert.equal(ok.code, 0, ok.stderr);
    const r = await runCli(['restore', path.join(dir, 'b2'), await writeCfg(makeTempDir('zk-restore-auth-'))]);
    assert.equal(r.code, 0, r.stderr);
    c.close();
  } finally {
    await server.stop();
  }
});

test('txns beyond the in-memory committed window come from the log on disk, contiguous and in ZooKeeper\'s log format', async () => {
  const { readLogFile } = await import('../../src/storage/TxnLogReader.js');
  const dir = makeTempDir('zk-backup-txns-');
  const cfg = await writeCfg(dir, 'snapCount=300\n');
  const server = await startFrom(cfg);
  try {
    const ledger = new Ledger();
    await populate(server.port, ledger, 1500);
    const last = server.lastZxid;
    assert.ok(!server.db.committedLog.covers(5), 'the window no longer reaches back to 0x5');
    const res = await fetch(`http://127.0.0.1:${server.admin!.port}/commands/txns?after=0x5&upto=0x${last.toString(16)}`, { headers: { authorization: 'ip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('first_zxid'), '0x6');
    assert.equal(res.headers.get('last_zxid'), `0x${last.toString(16)}`);
    const file = path.join(dir, 'log.6');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const zxids: number[] = [];
    const it = readLogFile(file);
    for (let r = it.next(); !r.done; r = it.next()) zxids.push(r.value.txn.hdr.zxid);
    assert.deepEqual(zxids, Array.from({ length: last - 5 }, (_, i) => i + 6));
    // One snapshot stream at a time: a second request while the first is read slowly gets 429.
    // Big nodes, so that the snapshot outgrows the socket buffers and a paused reader holds it.
    const big = await RawClient.connect(server.port);
    for (let i = 0; i < 24; i++) {
      const r = await big.request(OpCode.create, R.CreateRequest, { path: `/big-${i}`, data: Buffer.alloc(900_000, i), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 });
      assert.equal(r.err, Err.OK);
    }
    big.close();
    const { default: http } = await import('node:http');
    const slow = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      http.get(`http://127.0.0.1:${server.admin!.port}/commands/snapshot`, { headers: { authorization: 'ip' } }, resolve).on('error', reject);
    });
    slow.pause();
    assert.equal(slow.statusCode, 200);
    assert.match(String(slow.headers.last_zxid), /^0x[0-9a-f]+$/);
    const second = await fetch(`http://127.0.0.1:${server.admin!.port}/commands/snapshot`, { headers: { authorization: 'ip' } });
    assert.equal(second.status, 429);
    slow.resume();
    await new Promise((r) => slow.on('end', r));
    assert.match(String(slow.trailers.zxid_complete), /^0x[0-9a-f]+$/);
    // A reader that goes away mid-stream releases the slot too.
    const gone = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      http.get(`http://127.0.0.1:${server.admin!.port}/commands/snapshot`, { headers: { authorization: 'ip' } }, resolve).on('error', reject);
    });
    gone.pause();
    gone.destroy();
    let third: Response | null = null;
    for (let i = 0; i < 50; i++) {
      third = await fetch(`http://127.0.0.1:${server.admin!.port}/commands/snapshot`, { headers: { authorization: 'ip' } });
      if (third.status !== 429) break;
      await third.arrayBuffer();
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(third!.status, 200);
    assert.ok((await third!.arrayBuffer()).byteLength > 24 * 900_000);
    // Past what was applied: refused, not answered with a shorter log.
    const ahead = await fetch(`http://127.0.0.1:${server.admin!.port}/commands/txns?after=0x5&upto=${server.lastZxid + 10}`, { headers: { authorization: 'ip' } });
    assert.equal(ahead.status, 400);
  } finally {
    await server.stop();
  }
});

test('backup and restore refuse what they cannot do, with the reason', async () => {
  const dir = makeTempDir('zk-backup-errors-');
  const noAdmin = path.join(dir, 'no-admin.cfg');
  fs.writeFileSync(noAdmin, `tickTime=200\ndataDir=${dir}/data\nclientPort=2181\nadmin.enableServer=false\n`);
  const off = await runCli(['backup', path.join(dir, 'b'), noAdmin]);
  assert.equal(off.code, 1);
  assert.match(off.stderr, /the AdminServer is disabled in .*no-admin\.cfg \(admin\.enableServer=false\)/);
  // Nothing listens there: the connection error, not a half-written backup.
  const down = await runCli(['backup', path.join(dir, 'b'), await writeCfg(dir)]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /zk-server backup: http:\/\/127\.0\.0\.1:\d+\/commands\/snapshot\?streaming=true: .*ECONNREFUSED/);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'b', 'version-2')), []);
  const notBackup = await runCli(['restore', dir, await writeCfg(makeTempDir('zk-restore-errors-'))]);
  assert.equal(notBackup.code, 1);
  assert.match(notBackup.stderr, /holds no snapshot \(expected .*version-2\/snapshot\.<zxid>\)/);
  const badUrl = await runCli(['backup', path.join(dir, 'c'), '--admin-url', 'zk1:8080']);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /^--admin-url: only http:\/\/ is served by the AdminServer, got zk1:/);
  const usage = await runCli(['backup']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^backup needs a directory to write the backup to\nUsage: zk-server/);
});
