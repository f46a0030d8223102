// The quorum port over real loopback TCP: packets a channel gathers within one turn of the event
// loop arrive complete and in order, what was sent before close() still arrives, and a learner
// that dials before the leader listens gets through once it does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LeaderListener, QuorumChannel, dialLeader, type PeerMessage } from '../../../src/quorum/net/QuorumChannels.js';
import { freePort } from '../../support/ServerProcess.js';
import { createTxn } from '../../storage/helpers.js';

const HOST = '127.0.0.1';

/** A learner channel that records what the leader sends and when the connection ends. */
async function learner(port: number): Promise<{ ch: QuorumChannel; got: PeerMessage[]; closed: Promise<string> }> {
  const socket = await dialLeader(HOST, port, Date.now() + 10000);
  const got: PeerMessage[] = [];
  let ended!: (r: string) => void;
  const closed = new Promise<string>((r) => (ended = r));
  const ch = new QuorumChannel(socket, true, (m) => got.push(m), (reason) => ended(reason));
  return { ch, got, closed };
}

test('packets sent in one turn arrive whole and in order; what was sent before close() arrives; one write per turn', async () => {
  const port = await freePort();
  const fromLearner: PeerMessage[] = [];
  const listener = new LeaderListener(HOST, port, { message: (_sid, m) => fromLearner.push(m), disconnected: () => {} });
  await listener.listen();
  const l = await learner(port);
  try {
    l.ch.send({ type: 'FOLLOWERINFO', zxid: 0n, sid: 2n, protocolVersion: 0x10000, configVersion: 0n });
    const deadline = Date.now() + 10000;
    while (fromLearner.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(fromLearner[0]?.type, 'FOLLOWERINFO');

    // The leader's side: count the socket writes its channel makes for 300 packets sent in one turn.
    const writes: number[] = [];
    const sock = (listener as unknown as { bySid: Map<number, QuorumChannel> }).bySid.get(2)!.socket as net.Socket;
    const realWrite = sock.write.bind(sock);
    (sock as unknown as { write: (...a: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
      writes.push((chunk as Buffer).length);
      return (realWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
    };
    const txns = Array.from({ length: 150 }, (_, i) => createTxn(0x100000001 + i, `/n${i}`, `v${i}`, i));
    for (const t of txns) {
      listener.send(2, { type: 'PROPOSAL', zxid: BigInt(t.hdr.zxid), txn: t });
      listener.send(2, { type: 'COMMIT', zxid: BigInt(t.hdr.zxid) });
    }
    assert.equal(writes.length, 0, 'nothing written before the turn ends');
    while (l.got.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(writes.length, 1, `one socket write for the turn, got ${writes.length}`);
    assert.equal(l.got.length, 300);
    l.got.forEach((m, i) => {
      const t = txns[i >> 1]!;
      assert.equal(m.type, i % 2 === 0 ? 'PROPOSAL' : 'COMMIT');
      assert.equal(m.zxid, BigInt(t.hdr.zxid));
      if (m.type === 'PROPOSAL') assert.equal(m.txn.hdr.zxid, t.hdr.zxid);
    });
    assert.deepEqual(listener.stats(2)?.packetsSent, 300);

    // Sent, then the connection closed in the same turn: the packets still go out first.
    listener.send(2, { type: 'TRUNC', zxid: 0x100000005n });
    listener.disconnect(2, 'test');
    assert.match(await l.closed, /closed|ECONNRESET/);
    assert.equal(l.got.at(-1)?.type, 'TRUNC');
  } finally {
    l.ch.close('done');
    await listener.close();
  }
});

test('a learner that dials before the leader listens connects once it does', async () => {
  const port = await freePort();
  const dialing = dialLeader(HOST, port, Date.now() + 10000);
  await new Promise((r) => setTimeout(r, 150));
  const server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(port, HOST, r));
  try {
    const s = await dialing;
    assert.equal(s.remotePort, port);
    s.destroy();
  } finally {
    await new Promise((r) => server.close(r));
  }
  // Nobody listens until the deadline: a clear error naming the address.
  const none = await freePort();
  await assert.rejects(dialLeader(HOST, none, Date.now() + 300), new RegExp(`cannot connect to the leader at ${HOST}:${none}`));
});
