// A follower's request pipeline in process, over real client sockets: writes, new sessions and syncs
// are forwarded instead of prepared here, and answered when the committed txn (or the leader's
// SYNC) comes back, matched by (session, cxid). A second server in leader role prepares what is
// forwarded; its commit stage commits at once and hands every txn to the follower too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkServer } from '../../src/server/ZkServer.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn } from '../../src/protocol/txn.js';
import type { CommitSink, CommitStage } from '../../src/server/pipeline/Commit.js';
import type { ForwardedWrite, RequestPipeline } from '../../src/server/pipeline/RequestPipeline.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';
import { dropConnection } from '../../src/server/QuorumPeer.js';

/** A commit stage that commits each txn at once, here and at the follower. */
function instantCommit(follower: () => CommitSink | null): (sink: CommitSink) => CommitStage {
  return (sink) => ({
    inFlight: 0,
    propose(txn: Txn) {
      setImmediate(() => {
        sink.committed(txn);
        follower()?.committed(txn);
      });
    },
    settled: async () => {},
    close: async () => {},
  });
}

test('a follower pipeline forwards writes, createSession and sync, and answers from the committed txns', async () => {
  const cfg = (id: number) => defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', serverId: id });
  const leader = new ZkServer(cfg(1), 'memory', { quorumMember: true });
  const follower = new ZkServer(cfg(2), 'memory', { quorumMember: true });
  await leader.start();
  await follower.start();
  const clients: ZooKeeper[] = [];
  try {
    let followerSink: CommitSink | null = null;
    const leaderPipeline = (await leader.switchRole('leader', instantCommit(() => followerSink)))!;
    leaderPipeline.startEpoch(0x100000001);
    leader.serving = true;
    const forwarded: ForwardedWrite[] = [];
    let reachable = true;
    const followerPipeline: RequestPipeline = (await follower.switchRole('follower', (sink) => {
      followerSink = sink;
      return {
        inFlight: 0,
        propose: (txn: Txn) => sink.fatal(new Error(`a follower proposed 0x${txn.hdr.zxid.toString(16)}`)),
        settled: async () => {},
        close: async () => {},
      };
    }))!;
    followerPipeline.forwarder = (req) => {
      if (!reachable) return false;
      forwarded.push(req);
      setImmediate(() => (req.type === OpCode.sync ? followerPipeline.syncAnswered() : leaderPipeline.submitForwarded(req)));
      return true;
    };
    follower.serving = true;
    assert.equal(follower.role, 'follower');

    const zk = await ZooKeeper.connect(`127.0.0.1:${follower.port}`, { sessionTimeout: 6000 });
    clients.push(zk);
    assert.equal(forwarded[0]?.type, OpCode.createSession, 'the new session went to the leader');
    assert.equal(forwarded[0]!.body.readInt32BE(0), 6000);
    assert.equal(zk.getSessionId() >> 56n, 2n, 'the follower picked the id');

    await zk.create('/f', Buffer.from('one'));
    await zk.setData('/f', Buffer.from('two'));
    assert.deepEqual(forwarded.slice(1).map((r) => r.type), [OpCode.create, OpCode.setData]);
    assert.equal((await zk.getData('/f')).data?.toString(), 'two', 'read locally after the committed txns came back');
    assert.equal(leader.tree.get('/f')?.data?.toString(), 'two');
    // A failed write is prepared (and fails) on the leader, and its error comes back.
    await assert.rejects(zk.create('/f', Buffer.from('dup')), (e: Error & { code?: number }) => /NODEEXISTS|NodeExists/i.test(e.message + String(e.code)));
    assert.equal(await zk.sync('/f'), '/f');
    assert.equal(forwarded[forwarded.length - 1]!.type, OpCode.sync);
    assert.equal(follower.tree.get('/f')?.version, 1);
    assert.equal(follower.tree.get('/f')?.mzxid, leader.tree.get('/f')?.mzxid);

    // The leader expires the session: the follower drops its client's connection, and the client
    // learns on reconnecting that the session is gone.
    followerPipeline.sessionClosed = (id) => dropConnection(follower, id);
    const doomed = await ZooKeeper.connect(`127.0.0.1:${follower.port}`, { sessionTimeout: 6000, retryDelay: 20 });
    clients.push(doomed);
    const doomedId = doomed.getSessionId();
    assert.ok(follower.sessionConns.has(doomedId));
    leaderPipeline.expire(doomedId);
    const deadline = Date.now() + 5000;
    while (follower.sessionConns.has(doomedId) || follower.tracker.isActive(doomedId)) {
      assert.ok(Date.now() < deadline, 'the follower kept the expired session connected');
      await new Promise((r) => setTimeout(r, 10));
    }
    // A read sent before the client saw its socket close fails with connection loss; the next
    // one, after the client reconnected, learns that the session expired.
    let outcome: Error | null = null;
    for (let attempt = 0; attempt < 50; attempt++) {
      outcome = await doomed.getData('/f').then(() => null, (e: Error) => e);
      if (!outcome || !/CONNECTIONLOSS|ConnectionLoss/i.test(outcome.message)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(String(outcome?.message), /SESSIONEXPIRED|SessionExpired|expired|closed/i);

    // No leader to forward to: the write fails with connection loss instead of waiting forever.
    reachable = false;
    await assert.rejects(zk.create('/g', Buffer.from('x')), (e: Error) => /CONNECTIONLOSS|ConnectionLoss|connection/i.test(e.message));
    assert.equal(leader.tree.get('/g'), undefined);
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    await follower.stop();
    await leader.stop();
  }
});
