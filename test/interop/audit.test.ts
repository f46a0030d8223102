// Our audit log against Apache ZooKeeper 3.8's own, for the same client workload: the messages
// (AuditEvent's tab-separated fields) must be the same line for line, sessions aside (each server
// makes its own ids; they are compared by order of appearance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { ZooKeeper } from '../../src/client/index.js';
import { AUDIT_LOG_FILE } from '../../src/server/AuditLog.js';
import { digestId } from '../../src/auth/AuthProviders.js';
import { apacheZkAvailable, startApacheZk } from '../support/ApacheZk.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

async function workload(connectString: string): Promise<void> {
  const zk = await ZooKeeper.connect(connectString, { sessionTimeout: 4000 });
  await zk.addAuth('digest', 'alice:secret');
  await zk.create('/a', Buffer.from('1'));
  await zk.create('/a/s-', null, { mode: 'PERSISTENT_SEQUENTIAL' });
  await zk.create('/c', null, { mode: 'CONTAINER' });
  await zk.setData('/a', Buffer.from('2'));
  await assert.rejects(zk.setData('/a', Buffer.from('3'), 7));
  await assert.rejects(zk.create('/a', null));
  await assert.rejects(zk.create('/no/parent', null));
  await zk.setACL('/a', [{ perms: 31, id: { scheme: 'digest', id: digestId('alice:secret') } }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  await assert.rejects(zk.setACL('/a', OPEN, 9));
  await zk.multi([
    { type: 'create', path: '/m', data: null, acl: OPEN, mode: 0 },
    { type: 'create', path: '/m/q-', data: null, acl: OPEN, mode: 2 },
    { type: 'setData', path: '/m', data: Buffer.from('x'), version: -1 },
    { type: 'check', path: '/m', version: 1 },
    { type: 'delete', path: '/a/s-0000000000', version: -1 },
  ]);
  await assert.rejects(zk.multi([
    { type: 'create', path: '/n', data: null, acl: OPEN, mode: 0 },
    { type: 'delete', path: '/missing', version: -1 },
  ]));
  await zk.delete('/m/q-0000000000');
  await zk.delete('/m');
  await assert.rejects(zk.delete('/missing'));
  await zk.getData('/a');
  const eph = await ZooKeeper.connect(connectString, { sessionTimeout: 4000 });
  await eph.create('/e', null, { mode: 'EPHEMERAL' });
  await eph.create('/f-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
  await eph.close();
  await zk.close();
}

/** The audit messages, sessions renamed s0, s1, ... by first appearance; server start/stop left out. */
function normalise(messages: string[]): string[] {
  const sessions = new Map<string, string>();
  return messages
    .filter((m) => !/operation=server(Start|Stop)/.test(m))
    .map((m) => m.replace(/session=(0x[0-9a-f]+)/, (_all, id: string) => {
      if (!sessions.has(id)) sessions.set(id, `s${sessions.size}`);
      return `session=${sessions.get(id)}`;
    }));
}

test('our audit log says what Apache ZooKeeper 3.8 says for the same writes', { skip: !apacheZkAvailable() && 'Apache ZooKeeper not installed' }, async () => {
  const apache = await startApacheZk({
    extraConfig: { 'audit.enable': true },
    jvmFlags: ['-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper.audit.Slf4jAuditLogger=info'],
  });
  let theirs: string[];
  try {
    await workload(apache.connectString);
    // The ephemerals' deletion is logged when the closeSession is applied; give it a moment.
    await new Promise((r) => setTimeout(r, 300));
    theirs = fs.readFileSync(apache.logFile, 'utf8').split('\n')
      .filter((l) => l.includes('Slf4jAuditLogger - '))
      .map((l) => l.substring(l.indexOf('Slf4jAuditLogger - ') + 'Slf4jAuditLogger - '.length));
  } finally {
    await apache.stop();
  }

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-interop-'));
  const server = new ZkServer(
    defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200, dataDir, dataLogDir: dataDir, extendedTypesEnabled: true, systemProperties: new Map([['zookeeper.audit.enable', 'true']]) }),
    undefined,
    { auditLogDir: dataDir, logger: { warn: () => {}, error: () => {} } },
  );
  await server.start();
  try {
    await workload(`127.0.0.1:${server.port}`);
  } finally {
    await server.stop();
  }
  const ours = fs.readFileSync(path.join(dataDir, AUDIT_LOG_FILE), 'utf8').trimEnd().split('\n')
    .map((l) => l.substring(l.indexOf('Slf4jAuditLogger: ') + 'Slf4jAuditLogger: '.length));
  assert.ok(theirs.length >= 15, `Apache logged its audit lines (${theirs.length})`);
  assert.deepEqual(normalise(ours), normalise(theirs));
});
