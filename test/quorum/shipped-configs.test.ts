// The ready-made configs in conf/ensemble (the README's "An ensemble on one machine") form a
// working ensemble as written; only their ports are moved to free ones so the test cannot collide
// with anything already listening on 2181-2183/2888-2890/3888-3890.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { HOST, waitForRoles } from '../support/Ensemble.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { call, connectNzk } from '../support/nzk.js';

const CONF = path.resolve(path.dirname(OUR_ZK_CLI), '../../../conf/ensemble');

test('conf/ensemble/zoo{1,2,3}.cfg start a leader and two followers that replicate', { skip: !ourZkAvailable() && 'dist CLI missing', timeout: 90000 }, async () => {
  const work = makeTempDir('shipped-ensemble-');
  const shipped = [1, 2, 3].map((i) => fs.readFileSync(path.join(CONF, `zoo${i}.cfg`), 'utf8'));
  // Every fixed port of the shipped files gets one free port, the same in all three files.
  const fixed = new Set<string>();
  for (const text of shipped) for (const m of text.matchAll(/\b(2[18]8\d|3888|3889|3890|218[1-3])\b/g)) fixed.add(m[1]!);
  const moved = new Map<string, string>();
  for (const p of fixed) moved.set(p, String(await freePort()));
  const members: RunningServer[] = [];
  try {
    // Started together: a member alone answers srvr only once a quorum has formed.
    const starts = shipped.map((text, idx) => {
      const id = idx + 1;
      assert.match(text, new RegExp(`dataDir=\\./data/zk${id}`));
      const cfgText = text.replace(/\b(2[18]8\d|3888|3889|3890|218[1-3])\b/g, (p) => moved.get(p)!);
      // As the README says: a dataDir per member with its myid, relative to the working directory.
      fs.mkdirSync(path.join(work, 'data', `zk${id}`), { recursive: true });
      fs.writeFileSync(path.join(work, 'data', `zk${id}`, 'myid'), `${id}\n`);
      const cfg = path.join(work, `zoo${id}.cfg`);
      fs.writeFileSync(cfg, cfgText);
      const port = Number(/clientPort=(\d+)/.exec(cfgText)![1]);
      return startServerProcess(`shipped-${id}`, process.execPath, [OUR_ZK_CLI, 'start-foreground', cfg], HOST, port,
        path.join(work, 'data', `zk${id}`), false, makeTempDir('shipped-log-'), { startTimeoutMs: 30000, cwd: work });
    });
    const settled = await Promise.allSettled(starts);
    for (const r of settled) if (r.status === 'fulfilled') members.push(r.value);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const { leader, followers } = await waitForRoles(members, 30000);
    const writer = await connectNzk(followers[0]!.connectString);
    await call(writer, 'create', '/shipped', Buffer.from('yes'));
    writer.close();
    const reader = await connectNzk(leader.connectString);
    const [data] = await call<[Buffer]>(reader, 'getData', '/shipped');
    assert.equal(data.toString(), 'yes');
    reader.close();
  } finally {
    for (const m of members) await m.stop({ keepDataDir: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
});
