// The ensemble view's rules on a member's quorum information (no processes needed): members with
// no client address keep the role this member knows, an unreachable one says so, a live one
// answers srvr for itself, and lag is counted only within the newest epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ensembleView, probeSrvr } from '../../src/server/console/Figures.js';
import type { QuorumInfo, ServerView } from '../../src/server/ServerView.js';

/** A one-shot fake member: answers srvr with the given text. */
async function fakeMember(answer: string): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer((s) => s.once('data', () => s.end(answer)));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const member = (sid: number, clientPort?: number) => ({
  sid, type: 'participant' as const, addresses: [{ host: '127.0.0.1', quorumPort: 3000 + sid, electionPort: 4000 + sid }],
  clientHost: clientPort ? '127.0.0.1' : undefined, clientPort,
});

function view(q: QuorumInfo, lastZxid: number): ServerView {
  return { quorumInfo: () => q, lastZxid, role: 'follower', myid: q.myid, port: 2181, config: { clientPortAddress: '127.0.0.1' } } as unknown as ServerView;
}

test('ensemble view: self, srvr answers, unreachable and address-less members; lag within the newest epoch', async () => {
  const leader = await fakeMember('Zookeeper version: x\nZxid: 0x200000010\nMode: leader\nNode count: 5\n');
  const oldEpoch = await fakeMember('Zxid: 0x1000000ff\nMode: follower\n');
  const gone = await closedPort();
  try {
    const q: QuorumInfo = {
      myid: 1, zabState: 'broadcast', leaderId: 2, observers: [],
      members: [member(1, 2181), member(2, leader.port), member(3, oldEpoch.port), member(4, gone), member(5)],
    };
    const v = (await ensembleView(view(q, 0x20000000c))) as any;
    assert.equal(v.standalone, false);
    assert.equal(v.leaderId, 2);
    const by = new Map<number, any>(v.members.map((m: any) => [m.sid, m]));
    assert.deepEqual(by.get(1), { sid: 1, self: true, type: 'participant', address: '127.0.0.1:3001:4001', clientAddress: '127.0.0.1:2181', role: 'follower', zxid: '0x20000000c', lag: 4, source: 'self' });
    assert.deepEqual([by.get(2).role, by.get(2).zxid, by.get(2).lag, by.get(2).source], ['leader', '0x200000010', 0, 'srvr']);
    assert.deepEqual([by.get(3).role, by.get(3).zxid, by.get(3).lag], ['follower', '0x1000000ff', null], 'an older epoch has no comparable lag');
    assert.deepEqual([by.get(4).role, by.get(4).zxid, by.get(4).source], [null, null, 'unreachable'], 'a member that does not answer has no role we could vouch for');
    assert.ok(by.get(4).error);
    assert.deepEqual([by.get(5).role, by.get(5).clientAddress, by.get(5).source], [null, null, 'quorum']);
    // The leader is known from this member's own view even when it cannot be asked.
    const noAddresses = (await ensembleView(view({ ...q, members: [member(1, 2181), member(2)] }, 1))) as any;
    assert.deepEqual(noAddresses.members.map((m: any) => [m.sid, m.role, m.source]), [[1, 'follower', 'self'], [2, 'leader', 'quorum']]);
  } finally {
    await leader.close();
    await oldEpoch.close();
  }
});

test('srvr probe: a refusal (4lw not whitelisted) or silence is an error, bounded in time', async () => {
  const refuses = await fakeMember('srvr is not executed because it is not in the whitelist.\n');
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    await assert.rejects(probeSrvr('127.0.0.1', refuses.port), /not in the whitelist/);
    const t0 = Date.now();
    await assert.rejects(probeSrvr('127.0.0.1', (silent.address() as net.AddressInfo).port, 300), /timeout/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await refuses.close();
    silent.close();
  }
});
