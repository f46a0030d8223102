// The Zab cores' messages over the recorded Apache traffic: every quorum byte stream of the
// vectors decodes into ZabMessages and those encode back to the identical bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZabStreamDecoder, encodeZabMessage, packetToZab, zabToPacket, type WireZabMessage } from '../../../src/quorum/wire/ZabCodec.js';
import { PacketType, QuorumPacket, QuorumWireError, encodePacket, packet } from '../../../src/quorum/wire/QuorumPacket.js';
import { chunked, contiguousRuns, loadVectorFile, vectorFiles } from './vectors.js';

test('every recorded quorum stream round-trips through Zab messages byte for byte', () => {
  const counts: Record<string, number> = {};
  let streams = 0;
  for (const name of vectorFiles()) {
    for (const run of contiguousRuns(loadVectorFile(name).frames)) {
      if (run[0]!.port !== 'quorum') continue;
      streams++;
      const bytes = Buffer.concat(run.map((f) => Buffer.from(f.hex, 'hex')));
      const dec = new ZabStreamDecoder(run[0]!.dir === 's2c');
      const msgs: WireZabMessage[] = [];
      for (const c of chunked(bytes, streams)) {
        dec.push(c);
        for (let m = dec.next(); m; m = dec.next()) msgs.push(m);
      }
      assert.equal(dec.pending(), 0, `${name} ${run[0]!.conn}`);
      assert.equal(msgs.length, run.filter((f) => f.kind !== 'snapshot').length, `${name} ${run[0]!.conn}: one message per packet`);
      for (const m of msgs) counts[m.type] = (counts[m.type] ?? 0) + 1;
      assert.equal(Buffer.concat(msgs.map(encodeZabMessage)).toString('hex'), bytes.toString('hex'), `${name} ${run[0]!.conn}/${run[0]!.dir}`);
      // Zxids are exact bigints, -1 included.
      run.forEach((f, i) => {
        if (f.kind === 'packet') assert.equal(msgs[run.slice(0, i).filter((x) => x.kind !== 'snapshot').length]!.zxid.toString(), f.decoded.zxid);
      });
    }
  }
  assert.ok(streams > 40, `${streams} streams`);
  for (const t of ['REQUEST', 'PROPOSAL', 'ACK', 'COMMIT', 'PING', 'REVALIDATE', 'SYNC', 'INFORM', 'NEWLEADER', 'FOLLOWERINFO', 'UPTODATE', 'DIFF', 'TRUNC', 'SNAP', 'OBSERVERINFO', 'LEADERINFO', 'ACKEPOCH']) {
    assert.ok(counts[t]! > 0, `${t} seen`);
  }
  console.log(`Zab messages round-tripped over ${streams} streams: ${JSON.stringify(counts)}`);
});

test('reconfig packets and edge cases map as Apache lays them out', () => {
  const txn = Buffer.from('0011223344', 'hex');
  for (const m of [
    { type: 'INFORMANDACTIVATE', zxid: 0x500000001n, designatedLeader: 3n, txn },
    { type: 'COMMITANDACTIVATE', zxid: 0x500000001n, designatedLeader: 2n },
    { type: 'REVALIDATE', zxid: -1n, sessionId: 0x10000abcdn, timeout: 4000 },
  ] as WireZabMessage[]) {
    const p = zabToPacket(m);
    assert.deepEqual(packetToZab(p, m.type !== 'REVALIDATE'), m);
  }
  const iaa = zabToPacket({ type: 'INFORMANDACTIVATE', zxid: 1n, designatedLeader: 3n, txn });
  assert.equal(iaa.data!.toString('hex'), '0000000000000003' + '0011223344');
  assert.throws(() => packetToZab(packet(PacketType.SNAP, 5), true), /SNAP without its database stream/);
  assert.throws(() => packetToZab(packet(PacketType.FOLLOWERINFO, 0, null), false), /without a server id/);
  assert.throws(() => packetToZab(packet(42, 0), false), (e: unknown) => e instanceof QuorumWireError && /unknown quorum packet type 42/.test(e.message));
  assert.throws(() => zabToPacket({ type: 'REVALIDATE', zxid: -1n, sessionId: 1n }), /needs a timeout/);
});

test('REQUEST, written in place, has the bytes of its generic packet (any body view, authinfo or none)', () => {
  const backing = Buffer.from('xx\u0000\u0000\u0000\u0005/a/b\u0000body-bytesyy', 'latin1');
  const bodies = [Buffer.from('abc'), new Uint8Array(backing.buffer, backing.byteOffset + 2, backing.length - 4), Buffer.alloc(0)];
  for (const body of bodies) {
    for (const authinfo of [null, [], [{ scheme: 'digest', id: 'u:p' }, { scheme: 'ip', id: '127.0.0.1' }]]) {
      const m: WireZabMessage = { type: 'REQUEST', zxid: -1n, sessionId: 0x1000abcdn, cxid: 7, opType: 5, body, authinfo };
      const generic = encodePacket(zabToPacket(m));
      assert.equal(encodeZabMessage(m).toString('hex'), generic.toString('hex'));
      const back = packetToZab(QuorumPacket.decode(generic), false) as Extract<WireZabMessage, { type: 'REQUEST' }>;
      assert.deepEqual(Buffer.from(back.body), Buffer.from(body));
    }
  }
});
