// Runs each kazoo scenario (test/interop/kazoo/*.py) against Apache ZooKeeper 3.8 and our server
// and requires the normalised JSON results to be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { apacheZkAvailable, INTEROP_SRC, jsonLines, lineDiff, runKazoo, startBoth } from './harness.js';

const kazooAvailable = fs.existsSync('/usr/lib/python3/dist-packages/kazoo/client.py');
const scripts = fs
  .readdirSync(path.join(INTEROP_SRC, 'kazoo'))
  // peer_*.py are long-running peers driven by other tests, not comparison scenarios.
  .filter((f) => f.endsWith('.py') && f !== 'common.py' && !f.startsWith('peer_'))
  .sort();

for (const script of scripts) {
  test(`kazoo ${script}`, { skip: (!apacheZkAvailable() || !kazooAvailable) && 'Apache ZooKeeper or kazoo missing', timeout: 240000 }, async (t) => {
    const pair = await startBoth({ tickTime: 500 });
    try {
      const [a, o] = await Promise.all([
        runKazoo(script, pair.apache),
        pair.ours ? runKazoo(script, pair.ours) : Promise.resolve(null),
      ]);
      if (process.env.INTEROP_DUMP) fs.writeFileSync(path.join(process.env.INTEROP_DUMP, `${script}.apache.txt`), a.raw.out);
      assert.equal(a.raw.timedOut, false, `${script} against Apache timed out:\n${a.raw.out}`);
      assert.ok(Array.isArray(a.results), `no RESULT from ${script} against Apache:\n${a.raw.out}`);
      const crash = (a.results as unknown[][]).find((s) => s[0] === 'SCRIPT-CRASH');
      assert.equal(crash, undefined, `${script} crashed against Apache ZooKeeper:\n${a.raw.out}`);
      if (!o || !pair.ours) {
        t.skip('our server is not built yet (dist/src/cli/zk-server.js missing)');
        return;
      }
      if (process.env.INTEROP_DUMP) fs.writeFileSync(path.join(process.env.INTEROP_DUMP, `${script}.ours.txt`), o.raw.out);
      assert.equal(o.raw.timedOut, false, `${script} against our server timed out:\n${o.raw.out}`);
      assert.ok(Array.isArray(o.results), `no RESULT from ${script} against our server:\n${o.raw.out}`);
      const la = jsonLines(a.results);
      const lo = jsonLines(o.results);
      assert.deepEqual(lo, la, `kazoo ${script} results differ:\n${lineDiff(la, lo)}`);
    } finally {
      await pair.stop();
    }
  });
}
