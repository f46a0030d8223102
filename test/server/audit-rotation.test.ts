// zookeeper_audit.log rolls by size as Apache's RFAAUDIT appender does (10MB, 10 backups by
// default), with -Dzookeeper.auditlog.maxfilesize / maxbackupindex to change that; over a real
// server, client and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { ZooKeeper } from '../../src/client/index.js';
import { AUDIT_LOG_FILE, AuditSettingsError, auditRotation } from '../../src/server/AuditLog.js';

test('audit log rotation: a window of maxbackupindex files, .1 newest, every line kept in order within it', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-audit-rot-'));
  const logDir = path.join(dataDir, 'logs');
  const config = defaultConfig({
    clientPort: 0, clientPortAddress: '127.0.0.1', tickTime: 200, minSessionTimeout: 400, maxSessionTimeout: 4000,
    dataDir, dataLogDir: dataDir,
    systemProperties: new Map([
      ['zookeeper.audit.enable', 'true'],
      ['zookeeper.auditlog.maxfilesize', '1KB'],
      ['zookeeper.auditlog.maxbackupindex', '2'],
    ]),
  });
  const server = new ZkServer(config, undefined, { auditLogDir: logDir, logger: { warn: () => {}, error: (m) => console.error(m) } });
  await server.start();
  try {
    const zk = await ZooKeeper.connect(`127.0.0.1:${server.port}`, { sessionTimeout: 4000 });
    // ~140 bytes a line: 40 creates are ~5.6 KB, several times the 1 KB x (1 + 2) window.
    for (let i = 0; i < 40; i++) await zk.create(`/n-${i}`, null);
    await zk.close();
    await server.audit!.flushed();
  } finally {
    await server.stop();
  }
  const files = fs.readdirSync(logDir).sort();
  assert.deepEqual(files, [AUDIT_LOG_FILE, `${AUDIT_LOG_FILE}.1`, `${AUDIT_LOG_FILE}.2`]);
  for (const f of files) {
    const size = fs.statSync(path.join(logDir, f)).size;
    assert.ok(size <= 1024 + 300, `${f} is ${size} bytes`);
  }
  const lines = [`${AUDIT_LOG_FILE}.2`, `${AUDIT_LOG_FILE}.1`, AUDIT_LOG_FILE]
    .map((f) => fs.readFileSync(path.join(logDir, f), 'utf8'))
    .join('')
    .split('\n');
  const created = lines.map((l) => /operation=create\tznode=\/n-(\d+)\t/.exec(l)?.[1]).filter((x): x is string => x !== undefined).map(Number);
  assert.ok(created.length >= 5, `only ${created.length} creates kept`);
  assert.ok(created[0]! > 0, 'the oldest lines were rotated away');
  assert.deepEqual(created, Array.from({ length: created.length }, (_, i) => created[0]! + i));
  assert.equal(created[created.length - 1], 39);
  assert.match(lines[lines.length - 2]!, /operation=serverStop\tresult=invoked$/);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('audit log rotation settings: defaults as Apache (10MB, 10), bad values refused with the flag named', () => {
  const props = (m: Record<string, string>) => ({ systemProperties: new Map(Object.entries(m)) });
  assert.deepEqual(auditRotation(props({})), { maxBytes: 10 * 1024 * 1024, maxBackups: 10 });
  assert.deepEqual(auditRotation(props({ 'zookeeper.auditlog.maxfilesize': '512KB', 'zookeeper.auditlog.maxbackupindex': '3' })), { maxBytes: 512 * 1024, maxBackups: 3 });
  assert.throws(() => auditRotation(props({ 'zookeeper.auditlog.maxfilesize': '10 apples' })), (e: Error) => e instanceof AuditSettingsError && /maxfilesize: '10 apples' is not a file size/.test(e.message));
  assert.throws(() => auditRotation(props({ 'zookeeper.auditlog.maxbackupindex': '-1' })), /maxbackupindex: '-1' is not a whole number/);
});
