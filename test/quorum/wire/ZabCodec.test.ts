// The Zab cores' messages over the recorded Apache traffic: every quorum byte stream of the
// vectors decodes into ZabMessages and those encode back to the identical bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZabStreamDecoder, encodeZabMessage, packetToZab, zabToPacket, type WireZabMessage } from '../../../src/quorum/wire/ZabCodec.js';
import {
  PacketType, QuorumPacket, QuorumStreamReader, QuorumWireError, encodePacket, packet, readInt64BE, writeInt64,
} from '../../../src/quorum/wire/QuorumPacket.js';
import { Reader, Writer } from '../../../src/jute/archive.js';
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

test('the decoder reads broadcast packets in place into what the general path gives, on every recorded stream', () => {
  let compared = 0;
  for (const name of vectorFiles()) {
    for (const run of contiguousRuns(loadVectorFile(name).frames)) {
      if (run[0]!.port !== 'quorum') continue;
      const fromLeader = run[0]!.dir === 's2c';
      const bytes = Buffer.concat(run.map((f) => Buffer.from(f.hex, 'hex')));
      // The general path: whole packet records from next(), then packetToZab.
      const general: WireZabMessage[] = [];
      const reader = new QuorumStreamReader({ keepSnapshotBytes: true });
      reader.push(bytes);
      let snap: QuorumPacket | null = null;
      for (let f = reader.next(); f; f = reader.next()) {
        if (f.kind === 'snapshot') general.push(packetToZab(snap!, fromLeader, f.snapshot));
        else if (f.packet.type === PacketType.SNAP) snap = f.packet;
        else general.push(packetToZab(f.packet, fromLeader));
      }
      // The decoder, fed one byte at a time and in whole, with txns kept as bytes or mapped.
      for (const chunks of [[...bytes].map((b) => Buffer.from([b])), [bytes]]) {
        const dec = new ZabStreamDecoder(fromLeader);
        const seen: Array<{ zxid: bigint; len: number }> = [];
        const mapped = new ZabStreamDecoder(fromLeader, {}, (type, zxid, data) => ({ type, zxid, len: data.length }));
        const msgs: WireZabMessage[] = [];
        for (const c of chunks) {
          dec.push(c);
          mapped.push(c);
          for (let m = dec.next(); m; m = dec.next()) msgs.push(m);
          for (let m = mapped.next(); m; m = mapped.next()) {
            if ('txn' in m) seen.push({ zxid: m.zxid, len: m.txn.len });
          }
        }
        assert.deepEqual(msgs, general, `${name} ${run[0]!.conn}/${run[0]!.dir}`);
        const withTxn = general.filter((m): m is Extract<WireZabMessage, { txn: Buffer }> => 'txn' in m);
        assert.deepEqual(seen, withTxn.map((m) => ({ zxid: m.zxid, len: m.txn.length })));
      }
      compared += general.length;
    }
  }
  assert.ok(compared > 500, `${compared} messages compared`);
});

test('decoded messages own their bytes: later chunks do not change a txn or a forwarded body', () => {
  const proposal = encodePacket(packet(PacketType.PROPOSAL, 0x100000001, Buffer.from('txn-bytes')));
  const request = encodePacket(packet(PacketType.REQUEST, -1, Buffer.concat([Buffer.alloc(16, 1), Buffer.from('body')]), [{ scheme: 'ip', id: '127.0.0.1' }]));
  const chunk = Buffer.concat([proposal, request]);
  const dec = new ZabStreamDecoder(false);
  dec.push(chunk);
  const p = dec.next() as Extract<WireZabMessage, { type: 'PROPOSAL' }>;
  const r = dec.next() as Extract<WireZabMessage, { type: 'REQUEST' }>;
  chunk.fill(0xee);
  assert.equal(p.txn.toString(), 'txn-bytes');
  assert.equal(Buffer.from(r.body).toString(), 'body');
  assert.equal(r.sessionId, 0x0101010101010101n);
  assert.deepEqual(r.authinfo, [{ scheme: 'ip', id: '127.0.0.1' }]);
  assert.equal(dec.next(), null);
});

test('a short REQUEST and a PROPOSAL without data fail on the decoder as in packetToZab', () => {
  const short = new ZabStreamDecoder(false);
  short.push(encodePacket(packet(PacketType.REQUEST, -1, Buffer.alloc(10))));
  assert.throws(() => short.next(), (e: unknown) => e instanceof QuorumWireError && /^REQUEST: truncated record/.test(e.message));
  const empty = new ZabStreamDecoder(true);
  empty.push(encodePacket(packet(PacketType.PROPOSAL, 5, null)));
  assert.throws(() => empty.next(), /PROPOSAL packet has no data/);
});

test('64-bit fields read and written in place match Reader.long and Writer.long', () => {
  for (const v of [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x8000000000000005n, 0x1000abcdn, 0xffffffffffffffffn, -0x123456789abcn]) {
    const w = new Writer(4); // grows while writing
    w.int(7);
    writeInt64(w, v);
    const expect = new Writer(16).int(7).long(v).toBuffer();
    assert.equal(w.toBuffer().toString('hex'), expect.toString('hex'), v.toString());
    assert.equal(readInt64BE(expect, 4), new Reader(expect, 4).long(), v.toString());
  }
});

test('authinfo repeated from one request to the next is decoded once; a change is decoded anew', () => {
  const ip = [{ scheme: 'ip', id: '127.0.0.1' }];
  const two = [{ scheme: 'digest', id: 'u:p' }, { scheme: 'ip', id: '127.0.0.1' }];
  const auths = [ip, ip, two, null, [], ip, ip];
  const dec = new ZabStreamDecoder(false);
  dec.push(Buffer.concat(auths.map((authinfo, i) => encodeZabMessage({ type: 'REQUEST', zxid: -1n, sessionId: BigInt(i), cxid: i, opType: 5, body: Buffer.alloc(0), authinfo }))));
  const got: Array<Extract<WireZabMessage, { type: 'REQUEST' }>> = [];
  for (let m = dec.next(); m; m = dec.next()) got.push(m as Extract<WireZabMessage, { type: 'REQUEST' }>);
  assert.deepEqual(got.map((m) => m.authinfo), auths);
  assert.equal(got[1]!.authinfo, got[0]!.authinfo, 'the same list for the same bytes');
  assert.notEqual(got[5]!.authinfo, got[0]!.authinfo, 'decoded again after a different list');
  assert.equal(got[6]!.authinfo, got[5]!.authinfo);
  // Shared between messages, so nobody may change it.
  assert.ok(Object.isFrozen(got[0]!.authinfo) && Object.isFrozen(got[0]!.authinfo![0]));
});

test('zxids that share a slot of the decoder\'s bigint table stay exact', () => {
  const zxids = [0x100000001, 0x100000101, 0x200000001, 0x100000001, 2 ** 53 - 1, -1, 0x100000101, 0];
  const dec = new ZabStreamDecoder(true);
  dec.push(Buffer.concat(zxids.map((z) => encodePacket(packet(PacketType.COMMIT, z)))));
  const got: bigint[] = [];
  for (let m = dec.next(); m; m = dec.next()) got.push(m.zxid);
  assert.deepEqual(got, zxids.map((z) => BigInt(z)));
});
