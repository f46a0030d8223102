// Bad bytes on either port: truncated frames wait for more, impossible ones fail at once with an
// error that names what was wrong; nothing crashes, allocates an absurd length, or waits forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ElectionStreamReader, ElectionWireError, decodeNotification, encodeInitialMessage, encodeLegacyInitialMessage, encodeNotification,
  encodeNotificationFrame, frameElectionMessage, scanInitialMessage, voteNotification, ELECTION_PROTOCOL_V2, MAX_ELECTION_MESSAGE_BYTES,
  Notification28Record, Notification40Record, ServerState, NON_VOTER_PROPOSAL, describeNotification,
} from '../../../src/quorum/wire/ElectionWire.js';
import {
  PacketType, QuorumStreamReader, QuorumWireError, decodeLearnerInfo, decodePingSessions, decodeProposalTxn, decodeSnapStream,
  decodeAckEpoch, decodeForwardedRequest, encodePacket, encodeSnapStream, packet, DEFAULT_MAX_PACKET_DATA,
} from '../../../src/quorum/wire/QuorumPacket.js';
import type { SnapshotNode } from '../../../src/storage/Snapshot.js';
import { loadVectorFile } from './vectors.js';

const CONFIG = 'server.1=127.0.0.1:2888:3888:participant\nversion=0';

function drain(r: { next(): unknown }): unknown[] {
  const out: unknown[] = [];
  for (let f = r.next(); f; f = r.next()) out.push(f);
  return out;
}

test('quorum reader: a packet cut anywhere yields nothing until the rest arrives', () => {
  const bytes = encodePacket(packet(PacketType.REQUEST, -1, Buffer.from('0123456789abcdef'), [{ scheme: 'ip', id: '127.0.0.1' }]));
  for (let cut = 0; cut < bytes.length; cut++) {
    const r = new QuorumStreamReader();
    r.push(bytes.subarray(0, cut));
    assert.deepEqual(drain(r), [], `cut at ${cut}`);
    r.push(bytes.subarray(cut));
    const frames = drain(r) as Array<{ bytes: Buffer }>;
    assert.equal(frames.length, 1, `cut at ${cut}`);
    assert.deepEqual(frames[0]!.bytes, bytes);
  }
});

test('quorum reader: 20-byte packets keep empty data and empty authinfo apart from null', () => {
  // Same length on the wire; only null data and null authinfo take the reader's short path.
  const cases = [
    packet(PacketType.ACK, 0x500000007, null, null),
    packet(PacketType.COMMIT, -1, null, null),
    packet(PacketType.PING, 0x100000002, Buffer.alloc(0), null),
    packet(PacketType.ACK, 0x200000001, null, []),
    packet(PacketType.PING, 3, Buffer.alloc(0), []),
  ];
  const r = new QuorumStreamReader();
  r.push(Buffer.concat(cases.map((p) => encodePacket(p))));
  const frames = drain(r) as Array<{ packet: unknown }>;
  assert.deepEqual(frames.map((f) => f.packet), cases);
});

test('quorum reader: unknown packet type fails at its first 4 bytes', () => {
  const r = new QuorumStreamReader();
  r.push(Buffer.from([0, 0, 0, 99]));
  assert.throws(() => r.next(), (e: unknown) => e instanceof QuorumWireError && /unknown quorum packet type 99/.test(e.message));
  const r2 = new QuorumStreamReader();
  r2.push(Buffer.from([0, 0, 0, 0]));
  assert.throws(() => r2.next(), /unknown quorum packet type 0/);
});

test('quorum reader: absurd data length fails before any buffering', () => {
  const head = Buffer.alloc(16);
  head.writeInt32BE(PacketType.PROPOSAL, 0);
  head.writeInt32BE(0x7fffffff, 12);
  const r = new QuorumStreamReader();
  r.push(head);
  assert.throws(() => r.next(), (e: unknown) => e instanceof QuorumWireError && /data length 2147483647 outside -1\.\.1049599/.test(e.message));
  head.writeInt32BE(-2, 12);
  const r2 = new QuorumStreamReader();
  r2.push(head);
  assert.throws(() => r2.next(), /data length -2/);
  assert.equal(DEFAULT_MAX_PACKET_DATA, 1049599);
  // A smaller configured limit is honoured.
  const small = new QuorumStreamReader({ maxDataBytes: 8 });
  small.push(encodePacket(packet(PacketType.PROPOSAL, 1, Buffer.alloc(9))));
  assert.throws(() => small.next(), /data length 9 outside -1\.\.8/);
});

test('quorum reader: absurd authinfo count or string length fails', () => {
  const p = encodePacket(packet(PacketType.REQUEST, -1, null, null));
  p.writeInt32BE(5_000_000, 16);
  const r = new QuorumStreamReader();
  r.push(p);
  assert.throws(() => r.next(), /authinfo count 5000000/);
  const q = encodePacket(packet(PacketType.REQUEST, -1, null, [{ scheme: 'ip', id: 'x' }]));
  q.writeInt32BE(-7, 20);
  const r2 = new QuorumStreamReader();
  r2.push(q);
  assert.throws(() => r2.next(), /authinfo string length -7/);
});

test('SNAP stream: the recorded stream cut anywhere is incomplete, never an error; garbage signature is an error', () => {
  const file = loadVectorFile('follower-restart-snap.jsonl');
  const i = file.frames.findIndex((f) => f.kind === 'snapshot');
  const snapPacket = Buffer.from(file.frames[i - 1]!.hex, 'hex');
  const stream = Buffer.from(file.frames[i]!.hex, 'hex');
  for (let cut = 0; cut < stream.length; cut += 7) {
    const r = new QuorumStreamReader();
    r.push(snapPacket);
    r.push(stream.subarray(0, cut));
    assert.equal(drain(r).length, 1, `cut ${cut}: only the SNAP packet`);
    assert.ok(r.inSnapshot());
    r.push(stream.subarray(cut));
    const rest = drain(r) as Array<{ kind: string }>;
    assert.equal(rest.length, 1);
    assert.equal(rest[0]!.kind, 'snapshot');
  }
  assert.throws(() => decodeSnapStream(stream.subarray(0, stream.length - 3)), /SNAP stream truncated/);
  const bad = Buffer.from(stream);
  bad.write('X', bad.length - 1, 'latin1');
  assert.throws(() => decodeSnapStream(bad), /missing signature: got "BenWasHerX"/);
  const r = new QuorumStreamReader({ maxSnapshotBytes: 100 });
  r.push(snapPacket);
  assert.ok(r.next());
  r.push(stream.subarray(0, 200));
  assert.throws(() => r.next(), /SNAP stream exceeds 100 bytes/);
  // An empty database round-trips.
  const empty = { sessions: new Map(), acls: [], nodes: [] };
  assert.deepEqual(decodeSnapStream(encodeSnapStream(empty)), empty);
  // A negative session count is refused.
  const neg = Buffer.alloc(4);
  neg.writeInt32BE(-5, 0);
  assert.throws(() => decodeSnapStream(neg), /negative session count -5/);
});

test('payload decoders refuse wrong sizes with the packet named', () => {
  assert.throws(() => decodeLearnerInfo(Buffer.alloc(7)), /LearnerInfo of 7 bytes has no server id/);
  assert.deepEqual(decodeLearnerInfo(Buffer.from('0000000000000007', 'hex')), { serverid: 7n, protocolVersion: 1, configVersion: null });
  assert.deepEqual(decodeLearnerInfo(Buffer.from('000000000000000300010000', 'hex')), { serverid: 3n, protocolVersion: 0x10000, configVersion: null });
  assert.deepEqual(decodeLearnerInfo(Buffer.from('00000000000000030001000000000000000000050000', 'hex')), { serverid: 3n, protocolVersion: 0x10000, configVersion: 5n });
  assert.deepEqual(decodeLearnerInfo(null), { serverid: null, protocolVersion: 1, configVersion: null });
  assert.throws(() => decodePingSessions(Buffer.alloc(13)), /not a multiple of 12/);
  assert.throws(() => decodeAckEpoch(packet(PacketType.ACKEPOCH, 0, Buffer.alloc(5))), /ACKEPOCH: 1 unexpected trailing bytes/);
  assert.throws(() => decodeAckEpoch(packet(PacketType.ACKEPOCH, 0, null)), /ACKEPOCH packet has no data/);
  assert.throws(() => decodeForwardedRequest(Buffer.alloc(10)), /REQUEST: truncated/);
  assert.throws(() => decodeProposalTxn(packet(PacketType.PROPOSAL, 5, Buffer.alloc(3))), /PROPOSAL 0x5: truncated/);
  // A header zxid that disagrees with the packet's is a protocol error, not silently accepted.
  const file = loadVectorFile('broadcast.jsonl');
  const prop = file.frames.find((f) => f.decoded?.typeName === 'PROPOSAL')!;
  const r = new QuorumStreamReader();
  r.push(Buffer.from(prop.hex, 'hex'));
  const p = (r.next() as { packet: ReturnType<typeof packet> }).packet;
  assert.throws(() => decodeProposalTxn({ ...p, zxid: p.zxid + 1 }), /but txn header zxid/);
});

test('election reader: initial message forms Apache accepts and refuses', () => {
  const v1 = encodeInitialMessage(5n, ['10.0.0.5:3888']);
  assert.deepEqual(scanInitialMessage(v1)?.msg, { protocolVersion: -65536n, sid: 5n, addrs: ['10.0.0.5:3888'], legacy: false });
  for (let cut = 0; cut < v1.length; cut++) assert.equal(scanInitialMessage(v1.subarray(0, cut)), null, `cut ${cut}`);
  const v2 = encodeInitialMessage(6n, ['a:1', '[::1]:2'], ELECTION_PROTOCOL_V2);
  assert.deepEqual(scanInitialMessage(v2)?.msg.addrs, ['a:1', '[::1]:2']);
  // Pre-3.5: a bare non-negative sid, nothing else.
  assert.deepEqual(scanInitialMessage(encodeLegacyInitialMessage(9n)), { length: 8, msg: { protocolVersion: 9n, sid: 9n, addrs: [], legacy: true } });
  const unknown = Buffer.from(v1);
  unknown.writeBigInt64BE(-3n, 0);
  assert.throws(() => scanInitialMessage(unknown), (e: unknown) => e instanceof ElectionWireError && /unrecognized election protocol version -3/.test(e.message));
  const huge = Buffer.from(v1);
  huge.writeInt32BE(2049, 16);
  assert.throws(() => scanInitialMessage(huge), /unreasonable initial-message address length 2049/);
  huge.writeInt32BE(0, 16);
  assert.throws(() => scanInitialMessage(huge), /address length 0/);
  assert.throws(() => scanInitialMessage(encodeInitialMessage(1n, ['no-port'])), /badly formed address "no-port"/);
  assert.throws(() => scanInitialMessage(encodeInitialMessage(1n, ['h:99999'])), /bad port/);
});

test('election reader: message lengths outside 1..512 KiB drop the connection; partial frames wait', () => {
  for (const len of [0, -1, MAX_ELECTION_MESSAGE_BYTES + 1, 0x7fffffff]) {
    const r = new ElectionStreamReader({ expectInitial: false });
    const b = Buffer.alloc(4);
    b.writeInt32BE(len, 0);
    r.push(b);
    assert.throws(() => r.next(), /invalid length/, `length ${len}`);
  }
  const frame = encodeNotificationFrame(voteNotification(ServerState.LOOKING, 3, 0x100000005, 2, 1, CONFIG));
  const r = new ElectionStreamReader({ expectInitial: true });
  r.push(encodeInitialMessage(3n, ['127.0.0.1:3888']));
  r.push(frame.subarray(0, 10));
  const got = drain(r) as Array<{ kind: string }>;
  assert.deepEqual(got.map((f) => f.kind), ['initial']);
  r.push(frame.subarray(10));
  const msg = drain(r) as Array<{ kind: string; body: Buffer }>;
  assert.equal(msg.length, 1);
  assert.deepEqual(decodeNotification(msg[0]!.body), voteNotification(ServerState.LOOKING, 3, 0x100000005, 2, 1, CONFIG));
});

test('notification layouts: 28 and 40 bytes (older servers), version 1, version 2; malformed ones refused', () => {
  const n28 = Notification28Record.encode({ state: 0, leader: 2, zxid: 0x300000007, electionEpoch: 4 });
  assert.equal(n28.length, 28);
  assert.deepEqual(decodeNotification(n28), {
    state: 0, leader: 2, zxid: 0x300000007, electionEpoch: 4, peerEpoch: 3, version: 0, config: null, layout: 'v28',
  });
  assert.deepEqual(encodeNotification(decodeNotification(n28)), n28);
  // 3.4.x: 40 bytes whose last int (its version, 1) Apache 3.8 does not read.
  const n40 = Notification40Record.encode({ state: 1, leader: 2, zxid: 7, electionEpoch: 4, peerEpoch: 1, unused: 1 });
  assert.equal(n40.length, 40);
  assert.deepEqual(decodeNotification(n40), {
    state: 1, leader: 2, zxid: 7, electionEpoch: 4, peerEpoch: 1, version: 0, config: null, layout: 'v40', v40Trailer: 1,
  });
  assert.deepEqual(encodeNotification(decodeNotification(n40)), n40);
  const v1 = encodeNotification({ ...voteNotification(0, 1, 0, 1, 0, ''), version: 1, config: null });
  assert.deepEqual(v1, Notification40Record.encode({ state: 0, leader: 1, zxid: 0, electionEpoch: 1, peerEpoch: 0, unused: 1 }));
  // 36 bytes: Apache reads a version past the end and skips the message.
  assert.throws(() => decodeNotification(n40.subarray(0, 36)), /malformed 36-byte notification/);
  // Version 1 followed by anything: no config text is read, the rest ignored.
  const v1long = Buffer.concat([v1, Buffer.alloc(8)]);
  assert.deepEqual(decodeNotification(v1long), { ...voteNotification(0, 1, 0, 1, 0, ''), version: 1, config: null });
  assert.throws(() => decodeNotification(Buffer.alloc(27)), /shorter than 28/);
  const v2 = encodeNotification(voteNotification(2, 1, 5, 1, 0, CONFIG));
  const lying = Buffer.from(v2);
  lying.writeInt32BE(v2.length + 1, 40);
  assert.throws(() => decodeNotification(lying), /config length \d+ in a \d+-byte notification/);
  lying.writeInt32BE(-2, 40);
  assert.throws(() => decodeNotification(lying), /config length -2/);
  lying.writeInt32BE(v2.length - 44 + 1, 40);
  assert.throws(() => decodeNotification(lying), /malformed .*truncated/);
  // Unknown states pass through for the election to ignore.
  assert.equal(decodeNotification(encodeNotification(voteNotification(7, 1, 5, 1, 0, CONFIG))).state, 7);
  assert.equal(frameElectionMessage(v2).readInt32BE(0), v2.length);
  // The log line of an observer's vote, as Apache words it (Long.MIN_VALUE in decimal and hex).
  const observerVote = voteNotification(ServerState.OBSERVING, NON_VOTER_PROPOSAL, NON_VOTER_PROPOSAL, 2, NON_VOTER_PROPOSAL, CONFIG);
  assert.equal(describeNotification(observerVote, 4, ServerState.FOLLOWING),
    'Notification: my state:FOLLOWING; n.sid:4, n.state:OBSERVING, n.leader:-9223372036854775808, n.round:0x2, ' +
    'n.peerEpoch:0x8000000000000000, n.zxid:0x8000000000000000, message format version:0x2, n.config version:0x0');
});

test('a large SNAP stream arriving in small chunks is parsed in one pass', () => {
  // 200,000 nodes of 100 bytes (~37 MB with paths and stats) in 64 KiB chunks: joining each chunk to everything
  // received so far would copy terabytes; dropping parsed elements keeps it linear.
  const nodes: SnapshotNode[] = [{ path: '', data: null, aclIndex: -1, stat: stat() }, { path: '/big', data: null, aclIndex: -1, stat: stat() }];
  for (let i = 0; i < 200_000; i++) nodes.push({ path: `/big/n${i}`, data: Buffer.alloc(100, i & 255), aclIndex: -1, stat: stat() });
  const stream = encodeSnapStream({ sessions: new Map([[5n, 4000]]), acls: [], nodes });
  const r = new QuorumStreamReader({ maxDataBytes: 1 << 20 });
  r.push(encodePacket(packet(PacketType.SNAP, 77)));
  assert.equal((r.next() as { kind: string }).kind, 'packet');
  const started = process.hrtime.bigint();
  let got: unknown = null;
  for (let at = 0; at < stream.length; at += 65536) {
    r.push(stream.subarray(at, at + 65536));
    got = r.next() ?? got;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const frame = got as { kind: string; length: number; bytes: Buffer | null; snapshot: { nodes: unknown[] } };
  assert.equal(frame.kind, 'snapshot');
  assert.equal(frame.length, stream.length);
  assert.equal(frame.bytes, null, 'raw bytes are not kept by default');
  assert.equal(frame.snapshot.nodes.length, nodes.length);
  assert.equal(r.pending(), 0);
  console.log(`SNAP stream of ${stream.length} bytes in 64 KiB chunks parsed in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 20_000, `took ${ms} ms`);

  function stat() {
    return { czxid: 1, mzxid: 1, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 1 };
  }
});

test('a large packet trickling in byte by byte is joined once, not once per byte', () => {
  const big = encodePacket(packet(PacketType.PROPOSAL, 9, Buffer.alloc(1_000_000, 7), [{ scheme: 'ip', id: '10.0.0.1' }]));
  const r = new QuorumStreamReader();
  const started = process.hrtime.bigint();
  const frames: Array<{ bytes: Buffer }> = [];
  for (let i = 0; i < big.length; i++) {
    r.push(big.subarray(i, i + 1));
    const f = r.next() as { bytes: Buffer } | null;
    if (f) frames.push(f);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0]!.bytes, big);
  assert.equal(r.pending(), 0);
  // Copying the growing buffer at every byte would move ~5e11 bytes; joining once is instant.
  assert.ok(ms < 10_000, `took ${ms} ms`);
  console.log(`1 MB packet in 1-byte chunks framed in ${ms.toFixed(0)} ms`);
});
