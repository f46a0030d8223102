// How a restarted member catches up with the ensemble, with real processes on loopback:
// - TRUNC: a leader logs (and, on restart, applies) a txn no follower ever saw, dies; the others
//   elect; the old leader comes back, is told to TRUNC, reloads its database without that txn.
// - DIFF from the txn log on disk (behind the 500-txn committed window) and DIFF from the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ourZkAvailable } from '../support/OurZk.js';
import { call, connectNzk, type NzkClient } from '../support/nzk.js';
import { getLastLoggedZxid } from '../../src/storage/TxnLogReader.js';
import { ProxiedEnsemble, createSurely, dumpTree, retry, sleep, srvrZxid, waitRoles } from './ensemble-net.js';

const skip = !ourZkAvailable() && 'dist CLI missing';
const hex = (z: bigint | number) => `0x${z.toString(16)}`;

async function connectTo(e: ProxiedEnsemble, id: number, clients: NzkClient[]): Promise<NzkClient> {
  const c = await retry(() => connectNzk(e.procs.get(id)!.connectString, 30000), 20000);
  clients.push(c);
  return c;
}

/** Waits until every member in `ids` has the same tree as the first; returns it. */
async function treesConverge(e: ProxiedEnsemble, ids: number[], clients: NzkClient[], timeoutMs = 20000): Promise<Map<string, string>> {
  const cs = await Promise.all(ids.map((id) => connectTo(e, id, clients)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dumps = await Promise.all(cs.map((c) => dumpTree(c)));
    const differs = dumps.findIndex((d) => d.size !== dumps[0]!.size || [...d].some(([k, v]) => dumps[0]!.get(k) !== v));
    if (differs < 0) return dumps[0]!;
    if (Date.now() > deadline) {
      assert.fail(`member ${ids[differs]} has ${dumps[differs]!.size} znodes, member ${ids[0]} ${dumps[0]!.size}, or different data`);
    }
    await sleep(200);
  }
}

test('TRUNC: an old leader with a txn nobody else logged rejoins by TRUNC and loses that txn', { skip, timeout: 120000 }, async () => {
  // A long syncLimit: the black-holed leader must not step down (and, LOOKING with the highest
  // zxid, win again) before it is killed; the kill itself is seen at once through the proxies.
  const e = await ProxiedEnsemble.create([1, 2, 3], { syncLimit: 25, portBase: 24000 });
  const clients: NzkClient[] = [];
  try {
    await e.startAll();
    const { leader, followers } = await waitRoles(e, e.ids, 30000);
    const lc = await connectTo(e, leader, clients);
    const acked: string[] = [];
    await call(lc, 'create', '/t', Buffer.from('t'));
    acked.push('/t');
    for (let i = 0; i < 5; i++) {
      await call(lc, 'create', `/t/a${i}`, Buffer.from(`a${i}`));
      acked.push(`/t/a${i}`);
    }
    // Every follower has applied what was acknowledged before the cut.
    for (const f of followers) {
      const fc = await connectTo(e, f, clients);
      await retry(async () => assert.ok((await call<[unknown]>(fc, 'exists', '/t/a4'))[0]), 10000, 50);
    }
    const committed = await srvrZxid(e.procs.get(leader)!);

    // Black-hole the followers' quorum links to the leader: its next PROPOSAL reaches only its own log.
    e.stallQuorumTo(leader);
    const lost = call(lc, 'create', '/t/uncommitted', Buffer.from('never committed')).catch((err: unknown) => err);
    const logDir = path.join(e.dataDir(leader), 'version-2');
    const uncommitted = committed + 1n;
    await retry(async () => assert.ok((await getLastLoggedZxid(logDir)) >= Number(uncommitted)), 10000, 20);
    e.kill(leader);
    e.heal(leader);
    const outcome = await lost;
    assert.ok(outcome instanceof Error || (outcome as { code?: number })?.code !== undefined, 'the unacknowledged create did not succeed');

    // The two others elect a leader of a new epoch.
    const after = await waitRoles(e, followers, 30000);
    assert.ok(followers.includes(after.leader));
    // The old leader restarts on its data: it replays the txn into its tree, then is told to TRUNC.
    await e.start(leader);
    const all = await waitRoles(e, e.ids, 30000);
    assert.equal(all.leader, after.leader, 'the new leader stays');
    const restartedLog = e.log(leader);
    assert.match(restartedLog, new RegExp(`loaded zxid ${hex(uncommitted)} from`), 'the restarted member had applied the uncommitted txn');
    assert.match(e.log(after.leader), new RegExp(`Synchronizing with learner sid: ${leader} by TRUNC ${hex(committed)}`));
    console.log(`old leader ${leader} rejoined by TRUNC to ${hex(committed)} (its uncommitted ${hex(uncommitted)} undone); new leader ${after.leader}`);
    assert.match(restartedLog, new RegExp(`Truncated to ${hex(committed)} \\(database was at ${hex(uncommitted)}\\); reloaded at ${hex(committed)}`));

    // Writes through the old leader, now a follower, reach everyone; the uncommitted txn is nowhere.
    const oc = await connectTo(e, leader, clients);
    for (let i = 0; i < 5; i++) {
      await retry(() => call(oc, 'create', `/t/b${i}`, Buffer.from(`b${i}`)), 20000);
      acked.push(`/t/b${i}`);
    }
    const tree = await treesConverge(e, e.ids, clients);
    assert.equal(tree.has('/t/uncommitted'), false, 'the uncommitted txn survived somewhere');
    for (const p of acked) assert.ok(tree.has(p), `${p} missing`);

    // The truncation is on disk too: restarted again, the member loads without the txn.
    await e.stop(leader);
    await e.start(leader);
    await waitRoles(e, e.ids, 30000);
    const again = await treesConverge(e, e.ids, clients);
    assert.equal(again.has('/t/uncommitted'), false);
  } finally {
    for (const c of clients) c.close();
    await e.close();
  }
});

test('DIFF from the leader\'s txn log (beyond the committed window) and from the window', { skip, timeout: 120000 }, async () => {
  // A log file padded to 64 KiB instead of 64 MiB, and a size factor that lets the log be scanned:
  // ZooKeeper's rule compares the log files to scan with snapshotSizeFactor × the newest snapshot.
  const e = await ProxiedEnsemble.create([1, 2, 3], {
    env: { SERVER_JVMFLAGS: '-Dzookeeper.preAllocSize=64 -Dzookeeper.snapshotSizeFactor=10000' },
    // Hundreds of writes at once on a loaded machine: no leader change wanted while they run.
    syncLimit: 20,
    portBase: 24100,
  });
  const clients: NzkClient[] = [];
  try {
    await e.startAll();
    const { leader, followers } = await waitRoles(e, e.ids, 30000);
    const lc = await connectTo(e, leader, clients);
    await createSurely(lc, '/d', Buffer.from(''));
    for (let i = 0; i < 20; i++) await createSurely(lc, `/d/pre${i}`, Buffer.from(`p${i}`));
    const behind = followers[0]!;
    await treesConverge(e, e.ids, clients);

    // Far behind: more than the 500-txn window is committed while the follower is down.
    await e.stop(behind);
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => createSurely(lc, `/d/n${batch * 100 + i}`, Buffer.from(`${batch * 100 + i}`))));
    }
    await e.start(behind);
    await waitRoles(e, e.ids, 30000);
    const fromLog = new RegExp(`Synchronizing with learner sid: ${behind} by DIFF 0x[0-9a-f]+ \\((\\d+) proposals; using the txn log and the committed log`);
    const m = fromLog.exec(e.log(leader));
    assert.ok(m, `leader did not DIFF from its txn log:\n${e.log(leader).split('\n').filter((l) => l.includes('Synchronizing')).join('\n')}`);
    assert.ok(Number(m[1]) >= 600, `proposals from the log: ${m[1]}`);
    const t1 = await treesConverge(e, e.ids, clients);
    assert.equal(t1.get('/d/n599'), Buffer.from('599').toString('base64'));

    // A little behind: DIFF from the in-memory window.
    await e.stop(behind);
    for (let i = 0; i < 10; i++) await retry(() => call(lc, 'setData', `/d/pre${i}`, Buffer.from(`q${i}`), -1), 30000);
    await e.start(behind);
    await waitRoles(e, e.ids, 30000);
    const inWindow = new RegExp(`Synchronizing with learner sid: ${behind} by DIFF 0x[0-9a-f]+ \\(10 proposals; using the committed log`);
    assert.match(e.log(leader), inWindow);
    const t2 = await treesConverge(e, e.ids, clients);
    assert.equal(t2.get('/d/pre9'), Buffer.from('q9').toString('base64'));
  } finally {
    for (const c of clients) c.close();
    await e.close();
  }
});
