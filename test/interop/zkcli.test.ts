// Runs each scripted zkCli.sh session (test/interop/zkcli/*.zk) against Apache ZooKeeper 3.8 and
// against our server, and requires the normalised outputs to be identical line by line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  apacheZkAvailable,
  INTEROP_SRC,
  lineDiff,
  normaliseZkCli,
  ourZkAvailable,
  parseZkCliScript,
  runZkCli,
  startBoth,
} from './harness.js';

const dir = path.join(INTEROP_SRC, 'zkcli');
const scripts = fs.readdirSync(dir).filter((f) => f.endsWith('.zk')).sort();

for (const file of scripts) {
  const script = parseZkCliScript(file, fs.readFileSync(path.join(dir, file), 'utf8'));
  test(`zkCli ${file}`, { skip: !apacheZkAvailable() && 'Apache ZooKeeper not installed', timeout: 180000 }, async (t) => {
    const pair = await startBoth({ extraConfig: script.config, jvmFlags: script.jvmFlags });
    try {
      const [a, o] = await Promise.all([
        runZkCli(pair.apache, script.commands),
        pair.ours ? runZkCli(pair.ours, script.commands) : Promise.resolve(null),
      ]);
      assert.equal(a.timedOut, false, 'zkCli against Apache ZooKeeper timed out');
      const na = normaliseZkCli(a.out, pair.apache);
      // The script itself must be sane against the reference: it ran to the end.
      assert.ok(na.lines.length > script.commands.length / 4, `too little output from Apache:\n${a.out}`);
      if (process.env.INTEROP_DUMP) fs.writeFileSync(path.join(process.env.INTEROP_DUMP, `${file}.apache.txt`), a.out);
      if (!o || !pair.ours) {
        t.skip('our server is not built yet (dist/src/cli/zk-server.js missing)');
        return;
      }
      if (process.env.INTEROP_DUMP) fs.writeFileSync(path.join(process.env.INTEROP_DUMP, `${file}.ours.txt`), o.out);
      assert.equal(o.timedOut, false, 'zkCli against our server timed out');
      const no = normaliseZkCli(o.out, pair.ours);
      assert.deepEqual(no.lines, na.lines, `zkCli output differs for ${file}:\n${lineDiff(na.lines, no.lines)}`);
      assert.deepEqual(no.events, na.events, `watch events differ for ${file}:\n${lineDiff(na.events, no.events)}`);
    } finally {
      await pair.stop();
    }
  });
}
