// zk-cli vs Apache's zkCli.sh: the same script against fresh Apache ZooKeeper 3.8 servers must give
// the same stdout and stderr modulo zxids and times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apacheZkAvailable, startApacheZk, ZKCLI } from '../../support/ApacheZk.js';
import { normalise, runCli, SCRIPT, ZK_CLI } from '../../cli/zkCliRun.js';

test('zk-cli output equals zkCli.sh output on a scripted session', { skip: !apacheZkAvailable() }, async () => {
  const a = await startApacheZk({ tickTime: 200 });
  let ref;
  try {
    ref = await runCli(ZKCLI, ['-server', a.connectString], SCRIPT);
  } finally {
    await a.stop();
  }
  const b = await startApacheZk({ tickTime: 200 });
  let ours;
  try {
    ours = await runCli(process.execPath, [ZK_CLI, '-server', b.connectString], SCRIPT);
  } finally {
    await b.stop();
  }
  const fix = (s: string, cs: string) => normalise(s).replaceAll(cs, 'HOST');
  assert.equal(fix(ours.stdout, b.connectString), fix(ref.stdout, a.connectString));
  assert.equal(fix(ours.stderr, b.connectString), fix(ref.stderr, a.connectString));
  assert.equal(ours.code, ref.code);
});
