// Faults in a running ensemble of our zk-server processes on loopback:
// - 5 voters + 1 observer, the leader SIGKILLed while several clients write: time from the kill to
//   the first write acknowledged after it; every acknowledged write on every member afterwards;
//   `zk-server status` prints each member's Mode.
// - the leader cut off from the others by the test's TCP proxies: it steps down within about
//   syncLimit, the majority elects and serves writes, and after healing the cut member catches up.
// - a client moving from one member to another keeps its session: the new member asks the
//   leader (REVALIDATE); a closed session is refused the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { srvrMode } from '../support/Ensemble.js';
import { call, connectNzk, type NzkClient } from '../support/nzk.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';
import { ProxiedEnsemble, createSurely, dumpTree, retry, sleep, waitRoles } from './ensemble-net.js';

const skip = !ourZkAvailable() && 'dist CLI missing';

async function treesConverge(e: ProxiedEnsemble, ids: number[], timeoutMs = 30000): Promise<Map<string, string>> {
  const cs: NzkClient[] = [];
  try {
    for (const id of ids) cs.push(await retry(() => connectNzk(e.procs.get(id)!.connectString), 20000));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dumps = await Promise.all(cs.map((c) => dumpTree(c)));
      const differs = dumps.findIndex((d) => d.size !== dumps[0]!.size || [...d].some(([k, v]) => dumps[0]!.get(k) !== v));
      if (differs < 0) return dumps[0]!;
      if (Date.now() > deadline) assert.fail(`member ${ids[differs]} has ${dumps[differs]!.size} znodes, member ${ids[0]} ${dumps[0]!.size}, or different data`);
      await sleep(200);
    }
  } finally {
    for (const c of cs) c.close();
  }
}

function zkServerStatus(e: ProxiedEnsemble, id: number): string {
  const r = spawnSync(process.execPath, [OUR_ZK_CLI, 'status', e.cfgFile(id)], { encoding: 'utf8', timeout: 20000 });
  return `${r.stdout}${r.stderr}`;
}

test('5 voters + an observer: leader SIGKILLed under load from several clients; no acknowledged write lost', { skip, timeout: 180000 }, async () => {
  const ids = [1, 2, 3, 4, 5, 6];
  const e = await ProxiedEnsemble.create(ids, { observers: [6], direct: true, portBase: 24200 });
  const writers: ZooKeeper[] = [];
  try {
    await e.startAll();
    const { leader } = await waitRoles(e, ids, 30000);
    for (const id of ids) {
      const want = id === leader ? 'leader' : id === 6 ? 'observer' : 'follower';
      assert.match(zkServerStatus(e, id), new RegExp(`^Mode: ${want}$`, 'm'), `zk-server status of member ${id}`);
    }
    const all = ids.map((id) => e.procs.get(id)!.connectString).join(',');
    const setup = await ZooKeeper.connect(all, { sessionTimeout: 10000 });
    await setup.create('/load', Buffer.from(''));
    await setup.close();

    // Four writers, each starting on a different member (one on the leader), all able to move.
    const acked: { path: string; at: number; startedAt: number }[] = [];
    let failures = 0;
    let running = true;
    const starts = [leader, ...ids.filter((id) => id !== leader)].slice(0, 4);
    const loops = starts.map(async (first, w) => {
      const hosts = [e.procs.get(first)!.connectString, ...ids.filter((id) => id !== first).map((id) => e.procs.get(id)!.connectString)];
      const c = await ZooKeeper.connect(hosts.join(','), { sessionTimeout: 10000, retryDelay: 20, shuffleHosts: false });
      writers.push(c);
      for (let i = 0; running && i < 5000; i++) {
        const p = `/load/w${w}-${i}`;
        const startedAt = Date.now();
        try {
          await c.create(p, Buffer.from(`${w}:${i}`));
          acked.push({ path: p, at: Date.now(), startedAt });
        } catch {
          failures++;
          await sleep(20);
        }
      }
    });
    await sleep(1000);
    const before = acked.length;
    assert.ok(before > 0, 'writes before the kill');
    const killedAt = Date.now();
    e.kill(leader);
    // Load goes on until each writer has written again well after the kill.
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && acked.filter((a) => a.startedAt > killedAt).length < 100) await sleep(100);
    running = false;
    await Promise.all(loops);
    const afterKill = acked.filter((a) => a.startedAt > killedAt);
    assert.ok(afterKill.length >= 100, `only ${afterKill.length} writes acknowledged after the kill`);
    const firstWriteMs = Math.min(...afterKill.map((a) => a.at)) - killedAt;
    const survivors = ids.filter((id) => id !== leader);
    const after = await waitRoles(e, survivors, 30000);
    console.log(
      `5+1 ensemble: leader ${leader} SIGKILLed; first write acknowledged ${firstWriteMs} ms after the kill; ` +
        `new leader ${after.leader}; ${acked.length} writes acknowledged (${before} before the kill), ${failures} failed around it`,
    );
    for (const c of writers) await c.close().catch(() => {});
    writers.length = 0;

    // The killed leader comes back; every member, the observer included, ends with one tree
    // holding every acknowledged write.
    await e.start(leader);
    await waitRoles(e, ids, 30000);
    const tree = await treesConverge(e, ids);
    const missing = acked.filter((a) => !tree.has(a.path));
    assert.deepEqual(missing.map((a) => a.path), [], 'acknowledged writes missing');
    assert.match(zkServerStatus(e, leader), /^Mode: (follower|leader)$/m);
  } finally {
    for (const c of writers) await c.close().catch(() => {});
    await e.close();
  }
});

test('a leader cut off from the others steps down within syncLimit; the majority serves; healed, it catches up', { skip, timeout: 180000 }, async () => {
  const ids = [1, 2, 3];
  const tickTime = 200;
  const syncLimit = 5;
  const e = await ProxiedEnsemble.create(ids, { tickTime, syncLimit, portBase: 24300 });
  const clients: NzkClient[] = [];
  try {
    await e.startAll();
    const { leader, followers } = await waitRoles(e, ids, 30000);
    const lc = await connectNzk(e.procs.get(leader)!.connectString, 30000);
    clients.push(lc);
    await call(lc, 'create', '/p', Buffer.from('before'));

    const cutAt = Date.now();
    e.isolate(leader);
    // Black-holed links: only the missing ACKs and PINGs tell the leader, after syncLimit ticks.
    let stepDownMs = -1;
    while (Date.now() - cutAt < 20000) {
      if ((await srvrMode(e.procs.get(leader)!)) !== 'leader') {
        stepDownMs = Date.now() - cutAt;
        break;
      }
      await sleep(25);
    }
    assert.ok(stepDownMs >= 0, 'the cut-off leader never stepped down');
    const limitMs = syncLimit * tickTime;
    // A tick of detection granularity and a loaded machine on top of syncLimit.
    assert.ok(stepDownMs <= limitMs + 3000, `stepped down ${stepDownMs} ms after the cut (syncLimit ${limitMs} ms)`);

    const majority = await waitRoles(e, followers, 30000);
    const mc = await retry(() => connectNzk(e.procs.get(majority.leader)!.connectString, 30000), 20000);
    clients.push(mc);
    const acked: string[] = [];
    await createSurely(mc, '/p/m0', Buffer.from('majority'));
    const firstWriteMs = Date.now() - cutAt;
    acked.push('/p/m0');
    for (let i = 1; i < 50; i++) {
      await createSurely(mc, `/p/m${i}`, Buffer.from('majority'));
      acked.push(`/p/m${i}`);
    }
    // The cut member serves nothing meanwhile (it cannot find a quorum).
    assert.notEqual(await srvrMode(e.procs.get(leader)!), 'leader');
    assert.notEqual(await srvrMode(e.procs.get(leader)!), 'follower');
    console.log(`partition: cut leader ${leader} stepped down ${stepDownMs} ms after the cut (syncLimit ${limitMs} ms); ` +
      `majority leader ${majority.leader} acknowledged a write ${firstWriteMs} ms after the cut`);

    const healedAt = Date.now();
    e.heal(leader);
    try {
      await waitRoles(e, ids, 60000);
    } catch (err) {
      console.log(e.log(leader).split('\n').slice(-80).join('\n'));
      throw err;
    }
    const tree = await treesConverge(e, ids);
    console.log(`partition healed: member ${leader} back in sync ${Date.now() - healedAt} ms later`);
    for (const p of ['/p', ...acked]) assert.ok(tree.has(p), `${p} missing`);
  } finally {
    for (const c of clients) c.close();
    await e.close();
  }
});

test('a session moves between members: revalidated through the leader; a closed one is refused', { skip, timeout: 120000 }, async () => {
  const ids = [1, 2, 3];
  const e = await ProxiedEnsemble.create(ids, { direct: true, portBase: 24400 });
  const open: ZooKeeper[] = [];
  try {
    await e.startAll();
    const { leader, followers } = await waitRoles(e, ids, 30000);
    const [a, b] = followers as [number, number];
    const first = await ZooKeeper.connect(e.procs.get(a)!.connectString, { sessionTimeout: 20000 });
    open.push(first);
    const sessionId = first.getSessionId();
    const sessionPassword = first.getSessionPassword();
    await first.create('/eph', Buffer.from('mine'), { mode: 'EPHEMERAL' });

    // The same session resumed on the other follower (the first connection is displaced there).
    const moved = await ZooKeeper.connect(e.procs.get(b)!.connectString, { sessionId, sessionPassword, sessionTimeout: 20000 });
    open.push(moved);
    assert.equal(moved.getSessionId(), sessionId, 'session kept');
    const idHex = BigInt.asUintN(64, sessionId).toString(16);
    await retry(async () => assert.match(e.log(leader), new RegExp(`Revalidated session 0x${idHex} for learner ${b}: valid`)), 10000, 50);
    const st = await moved.exists('/eph');
    assert.ok(st, 'the ephemeral survives the move');
    assert.equal(BigInt(st.ephemeralOwner), sessionId);
    await moved.setData('/eph', Buffer.from('moved'));

    // Closed through the second member; resuming it on the first one is refused by the leader.
    await moved.close();
    open.length = 0;
    await first.close().catch(() => {});
    const stale = new ZooKeeper(e.procs.get(a)!.connectString, { sessionId, sessionPassword, sessionTimeout: 20000 });
    open.push(stale);
    const outcome = await new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), 20000);
      stale.once('expired', () => {
        clearTimeout(t);
        resolve('expired');
      });
      stale.once('connected', () => {
        clearTimeout(t);
        resolve('connected');
      });
    });
    assert.equal(outcome, 'expired');
    assert.match(e.log(leader), new RegExp(`Revalidated session 0x${idHex} for learner ${a}: invalid`));
  } finally {
    for (const c of open) await c.close().catch(() => {});
    await e.close();
  }
});
