// Three zk-server processes of ours as an ensemble on 127.0.0.1: one leader and two followers by
// srvr, a write through a follower read back from every member, then the leader SIGKILLed: the two
// survivors elect a new leader, writes resume, and every acknowledged write is on both survivors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { HOST, allocatePorts, waitForRoles, writeMemberConfig } from '../support/Ensemble.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { call, connectNzk, type NzkClient } from '../support/nzk.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** getData until it returns `want` (a follower applies a commit shortly after the leader); bounded. */
async function readEventually(c: NzkClient, p: string, want: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let got = '';
  while (Date.now() < deadline) {
    try {
      const [data] = await call<[Buffer]>(c, 'getData', p);
      got = data?.toString() ?? '';
      if (got === want) return;
    } catch (e) {
      got = String(e);
    }
    await sleep(20);
  }
  assert.fail(`${p}: wanted ${JSON.stringify(want)}, last read ${JSON.stringify(got)}`);
}

test('a 3-member ensemble of our servers: roles by srvr, writes through a follower, leader SIGKILL and failover', { skip: !ourZkAvailable() && 'dist CLI missing', timeout: 120000 }, async () => {
  const ids = [1, 2, 3];
  const ports = await allocatePorts(ids);
  const root = makeTempDir('ensemble-');
  const members: RunningServer[] = [];
  const clients: NzkClient[] = [];
  try {
    const starts = ids.map((id) => {
      const workDir = path.join(root, `m${id}`);
      const { cfgFile, dataDir } = writeMemberConfig(workDir, id, ports);
      // A member answers srvr with a Mode only once it serves, which needs a quorum: start all at once.
      return startServerProcess(`member${id}`, process.execPath, [OUR_ZK_CLI, 'start-foreground', cfgFile], HOST, ports.get(id)!.client,
        dataDir, true, workDir, { startTimeoutMs: 30000 });
    });
    const started = await Promise.allSettled(starts);
    for (const s of started) if (s.status === 'fulfilled') members.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;

    const t0 = Date.now();
    const { leader, followers } = await waitForRoles(members, 20000);
    const logOf = (m: RunningServer) => fs.readFileSync(m.logFile, 'utf8');
    for (const m of members) {
      const log = logOf(m);
      assert.match(log, /LOOKING/);
      assert.match(log, m === leader ? /LEADING - LEADER ELECTION TOOK - \d+ MS/ : /FOLLOWING - LEADER ELECTION TOOK - \d+ MS/);
    }
    const took = members.map((m) => Number(/LEADER ELECTION TOOK - (\d+) MS/.exec(logOf(m))![1]));
    console.log(`initial election took ${took.join('/')} ms (per member, as logged); roles seen ${Date.now() - t0} ms after all served`);

    // Writes through a follower: forwarded to the leader, answered once committed.
    const via = await connectNzk(followers[0]!.connectString);
    clients.push(via);
    const acked: string[] = [];
    await call(via, 'create', '/ens', Buffer.from('v0'));
    acked.push('/ens');
    for (let i = 0; i < 10; i++) {
      await call(via, 'create', `/ens/k${i}`, Buffer.from(`d${i}`));
      acked.push(`/ens/k${i}`);
    }
    await call(via, 'setData', '/ens', Buffer.from('v1'), -1);
    // The follower's own reads see its session's writes at once.
    const [own] = await call<[Buffer]>(via, 'getData', '/ens');
    assert.equal(own.toString(), 'v1');
    for (const m of members) {
      const c = await connectNzk(m.connectString);
      clients.push(c);
      await readEventually(c, '/ens', 'v1');
      await readEventually(c, '/ens/k9', 'd9');
      const [children] = await call<[string[]]>(c, 'getChildren', '/ens');
      assert.equal(children.length, 10, `children on ${m.connectString}`);
    }

    // SIGKILL the leader: the survivors elect a new one among themselves.
    const killedAt = Date.now();
    process.kill(leader.pid, 'SIGKILL');
    const survivors = members.filter((m) => m !== leader);
    const after = await waitForRoles(survivors, 20000);
    const failoverMs = Date.now() - killedAt;
    console.log(`failover: a new leader (port ${after.leader.port}) serving ${failoverMs} ms after SIGKILL`);

    // Writes resume, through each survivor; a write is counted only once acknowledged.
    const deadline = Date.now() + 20000;
    for (const m of survivors) {
      const c = await connectNzk(m.connectString);
      clients.push(c);
      for (let i = 0; i < 5; i++) {
        const p = `/ens/after-${m.port}-${i}`;
        for (;;) {
          try {
            await call(c, 'create', p, Buffer.from(`a${i}`));
            acked.push(p);
            break;
          } catch (e) {
            if (Date.now() > deadline) throw e;
            await sleep(100);
          }
        }
      }
    }
    assert.equal(acked.length, 1 + 10 + 10);
    for (const m of survivors) {
      const c = await connectNzk(m.connectString);
      clients.push(c);
      await readEventually(c, acked[acked.length - 1]!, 'a4');
      for (const p of acked) {
        const [stat] = await call<[unknown]>(c, 'exists', p);
        assert.ok(stat, `${p} missing on ${m.connectString}`);
      }
      const [data] = await call<[Buffer]>(c, 'getData', '/ens');
      assert.equal(data.toString(), 'v1');
    }
  } finally {
    for (const c of clients) c.close();
    for (const m of members) await m.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
