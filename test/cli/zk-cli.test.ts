// zk-cli against our server: a scripted session whose expected output was captured from Apache
// ZooKeeper 3.8's zkCli.sh on the same script (test/interop/client/zkCli.interop.test.ts re-checks
// that live), plus one-shot mode and exit codes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/OurServer.js';
import { normalise, runCli, SCRIPT, ZK_CLI } from './zkCliRun.js';

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/cli/golden');

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 200, extendedTypesEnabled: true });
});
after(async () => {
  await server.stop();
});

test('scripted session matches zkCli.sh output (modulo zxids and times)', async () => {
  const run = await runCli(process.execPath, [ZK_CLI, '-server', server.connectString], SCRIPT);
  const want = (f: string) => normalise(fs.readFileSync(path.join(GOLDEN, f), 'utf8').replaceAll('127.0.0.1:32181', server.connectString));
  assert.equal(normalise(run.stdout), want('session.stdout'));
  assert.equal(normalise(run.stderr), want('session.stderr'));
});

test('one-shot mode: output and exit codes', async () => {
  const ok = await runCli(process.execPath, [ZK_CLI, '-server', server.connectString, 'ls', '/'], '');
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /\[.*zookeeper.*\]\n$/);
  const bad = await runCli(process.execPath, [ZK_CLI, '-server', server.connectString, 'get', '/does/not/exist'], '');
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'Node does not exist: /does/not/exist\n');
  const created = await runCli(process.execPath, [ZK_CLI, '-server', server.connectString, 'create', '/oneshot', 'two words'], '');
  assert.equal(created.code, 0);
  const got = await runCli(process.execPath, [ZK_CLI, '-server', server.connectString, 'get', '/oneshot'], '');
  assert.match(got.stdout, /two words\n$/);
});
