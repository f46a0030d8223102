// The audit log (audit.enable=true) over real sockets: each write a client makes, failed ones
// included, and a closed session's ephemerals, give the lines Apache ZooKeeper 3.8 writes
// (AuditEvent's tab-separated fields after logback's "%d{ISO8601} %p %c{2}: " prefix).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { ZooKeeper } from '../../src/client/index.js';
import { AUDIT_LOG_FILE, aclString, formatAuditEvent } from '../../src/server/AuditLog.js';
import { digestId } from '../../src/auth/AuthProviders.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function config(dataDir: string, audit: boolean) {
  return defaultConfig({
    clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200, minSessionTimeout: 400, maxSessionTimeout: 4000,
    dataDir, dataLogDir: dataDir, systemProperties: new Map(audit ? [['zookeeper.audit.enable', 'true']] : []),
  });
}

test('audit log: create, setData, delete, setAcl, multi, failed writes and session close, as ZooKeeper writes them', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-'));
  const logDir = path.join(dataDir, 'logs');
  const server = new ZkServer(config(dataDir, true), undefined, { auditLogDir: logDir, logger: { warn: () => {}, error: (m) => console.error(m) } });
  await server.start();
  const me = os.userInfo().username;
  let session = '';
  let other = '';
  try {
    const zk = await ZooKeeper.connect(`127.0.0.1:${server.port}`, { sessionTimeout: 4000 });
    session = `0x${zk.getSessionId().toString(16)}`;
    await zk.addAuth('digest', 'alice:secret');
    await zk.create('/a', Buffer.from('1'));
    await zk.create('/a/s-', null, { mode: 'PERSISTENT_SEQUENTIAL' });
    await zk.setData('/a', Buffer.from('2'));
    await assert.rejects(zk.setData('/a', Buffer.from('3'), 7)); // BadVersion
    await assert.rejects(zk.create('/a', null)); // NodeExists
    await zk.setACL('/a', [{ perms: 31, id: { scheme: 'digest', id: digestId('alice:secret') } }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    await zk.multi([
      { type: 'create', path: '/m', data: null, acl: OPEN, mode: 0 },
      { type: 'setData', path: '/m', data: Buffer.from('x'), version: -1 },
      { type: 'delete', path: '/a/s-0000000000', version: -1 },
    ]);
    await assert.rejects(zk.multi([
      { type: 'create', path: '/n', data: null, acl: OPEN, mode: 0 },
      { type: 'delete', path: '/missing', version: -1 },
    ]));
    await zk.delete('/m');
    await assert.rejects(zk.delete('/missing'));
    await zk.getData('/a'); // reads are not audited
    const eph = await ZooKeeper.connect(`127.0.0.1:${server.port}`, { sessionTimeout: 4000 });
    other = `0x${eph.getSessionId().toString(16)}`;
    await eph.create('/e', null, { mode: 'EPHEMERAL' });
    await eph.close();
    await zk.close();
  } finally {
    await server.stop();
  }
  const text = fs.readFileSync(path.join(logDir, AUDIT_LOG_FILE), 'utf8');
  const lines = text.trimEnd().split('\n');
  const prefix = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|ERROR) audit\.Slf4jAuditLogger: /;
  for (const l of lines) assert.match(l, prefix);
  const bodies = lines.map((l) => l.replace(prefix, '$1 '));
  const who = (user: string) => ({ session, user, ip: '127.0.0.1' });
  const info = (f: Parameters<typeof formatAuditEvent>[0], r: 'success' | 'invoked' = 'success') => `INFO ${formatAuditEvent(f, r)}`;
  const error = (f: Parameters<typeof formatAuditEvent>[0]) => `ERROR ${formatAuditEvent(f, 'failure')}`;
  const aliceAcl = aclString([{ perms: 31, id: { scheme: 'digest', id: digestId('alice:secret') } }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  const u = 'alice,127.0.0.1'; // the identity set's order, as Apache prints it
  assert.deepEqual(bodies, [
    info({ user: me, operation: 'serverStart' }),
    info({ ...who(u), operation: 'create', znode: '/a', znode_type: 'persistent' }),
    info({ ...who(u), operation: 'create', znode: '/a/s-0000000000', znode_type: 'persistent_sequential' }),
    info({ ...who(u), operation: 'setData', znode: '/a' }),
    error({ ...who(u), operation: 'setData', znode: '/a' }),
    error({ ...who(u), operation: 'create', znode: '/a', znode_type: 'persistent' }),
    info({ ...who(u), operation: 'setAcl', znode: '/a', acl: aliceAcl }),
    info({ ...who(u), operation: 'create', znode: '/m', znode_type: 'persistent' }),
    info({ ...who(u), operation: 'setData', znode: '/m' }),
    info({ ...who(u), operation: 'delete', znode: '/a/s-0000000000' }),
    error({ ...who(u), operation: 'multiOperation' }),
    info({ ...who(u), operation: 'delete', znode: '/m' }),
    error({ ...who(u), operation: 'delete', znode: '/missing' }),
    info({ session: other, user: '127.0.0.1', ip: '127.0.0.1', operation: 'create', znode: '/e', znode_type: 'ephemeral' }),
    info({ session: other, user: me, operation: 'ephemeralZNodeDeletionOnSessionCloseOrExpire', znode: '/e' }),
    info({ user: me, operation: 'serverStop' }, 'invoked'),
  ]);
  // The exact bytes of one line: tabs between the pairs, result last.
  assert.ok(lines.some((l) => l.endsWith(`INFO audit.Slf4jAuditLogger: session=${session}\tuser=alice,127.0.0.1\tip=127.0.0.1\toperation=setAcl\tznode=/a\tacl=digest:${digestId('alice:secret')}:cdrwaworld:anyone:r\tresult=success`)));
});

test('no audit log unless audit.enable is true', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-off-'));
  const server = new ZkServer(config(dataDir, false), undefined, { auditLogDir: dataDir });
  await server.start();
  try {
    const zk = await ZooKeeper.connect(`127.0.0.1:${server.port}`);
    await zk.create('/x', null);
    await zk.close();
    assert.equal(server.audit, null);
  } finally {
    await server.stop();
  }
  assert.equal(fs.existsSync(path.join(dataDir, AUDIT_LOG_FILE)), false);
});

test('audit.enable=true in zoo.cfg turns it on; an expired session\'s ephemerals are audited as the server\'s user', async () => {
  const { loadZooCfg } = await import('../../src/config/ZooCfg.js');
  const { auditEnabled } = await import('../../src/server/AuditLog.js');
  const { RawClient } = await import('../support/RawClient.js');
  const { OpCode } = await import('../../src/protocol/constants.js');
  const R = await import('../../src/protocol/records.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-cfg-'));
  const cfg = path.join(dir, 'zoo.cfg');
  const { freePort } = await import('../support/ServerProcess.js');
  fs.writeFileSync(cfg, `tickTime=200\ndataDir=${dir}\nclientPort=${await freePort()}\nclientPortAddress=127.0.0.1\naudit.enable=true\n`);
  const config = loadZooCfg(cfg);
  assert.equal(auditEnabled(config), true);
  fs.writeFileSync(cfg, `tickTime=200\ndataDir=${dir}\nclientPort=2181\naudit.enable=false\n`);
  assert.equal(auditEnabled(loadZooCfg(cfg)), false);

  const server = new ZkServer(config, undefined, { logger: { warn: () => {}, error: () => {} } });
  await server.start();
  try {
    const c = await RawClient.connect(server.port, { timeout: 400 });
    assert.equal((await c.request(OpCode.create, R.CreateRequest, { path: '/gone', data: null, acl: OPEN, flags: 1 })).err, 0);
    const session = `0x${c.sessionId.toString(16)}`;
    c.sock.destroy(); // no closeSession: the session expires
    const file = path.join(dir, AUDIT_LOG_FILE);
    const want = `session=${session}\tuser=${os.userInfo().username}\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/gone\tresult=success`;
    for (let i = 0; i < 100; i++) {
      await server.audit!.flushed();
      if (fs.readFileSync(file, 'utf8').includes(want)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(fs.readFileSync(file, 'utf8').includes(want), fs.readFileSync(file, 'utf8'));
  } finally {
    await server.stop();
  }
});

test('zk-server start-foreground writes zookeeper_audit.log into ZOO_LOG_DIR', async () => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { freePort } = await import('../support/ServerProcess.js');
  const { RawClient } = await import('../support/RawClient.js');
  const { OpCode } = await import('../../src/protocol/constants.js');
  const R = await import('../../src/protocol/records.js');
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-server.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-cli-'));
  const logDir = path.join(dir, 'logs');
  const port = await freePort();
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfg, `tickTime=200\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\naudit.enable=true\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, ZOO_LOG_DIR: logDir };
  delete env.ZOOCFGDIR;
  const child = spawn(process.execPath, [cli, 'start-foreground', cfg], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    for (let i = 0; i < 200 && !out.includes('started in standalone mode'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /ZKAuditProvider\] - ZooKeeper audit is enabled\./);
    const c = await RawClient.connect(port);
    assert.equal((await c.request(OpCode.create, R.CreateRequest, { path: '/cli', data: null, acl: OPEN, flags: 0 })).err, 0);
    c.close();
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
  const lines = fs.readFileSync(path.join(logDir, AUDIT_LOG_FILE), 'utf8').trimEnd().split('\n').map((l) => l.replace(/^.*Slf4jAuditLogger: /, ''));
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0]!, /^user=\S+\toperation=serverStart\tresult=success$/);
  assert.match(lines[1]!, /^session=0x[0-9a-f]+\tuser=127\.0\.0\.1\tip=127\.0\.0\.1\toperation=create\tznode=\/cli\tznode_type=persistent\tresult=success$/);
  assert.match(lines[2]!, /^user=\S+\toperation=serverStop\tresult=invoked$/);
});
