// Every frame of every recorded Apache ZooKeeper 3.8 quorum vector: the byte streams are split
// by our frame readers (fed in uneven chunks), each frame is decoded and checked against the
// recording's own decoding, then re-encoded and compared byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ElectionStreamReader, decodeNotification, encodeInitialMessage, encodeNotification, encodeNotificationFrame,
  serverStateName, ELECTION_PROTOCOL_V1, NON_VOTER_PROPOSAL, type ElectionFrame,
} from '../../../src/quorum/wire/ElectionWire.js';
import {
  PacketType, QuorumStreamReader, ackEpochPacket, decodeAckEpoch, decodeForwardedRequest, decodeLeaderInfo, decodeLearnerInfo,
  decodeNewLeaderConfig, decodePingSessions, decodeProposalTxn, decodeRevalidateReply, decodeRevalidateRequest, encodePacket,
  encodeSnapStream, leaderInfoPacket, learnerInfoPacket, newLeaderPacket, packetTypeName, pingReplyPacket, proposalPacket,
  requestPacket, revalidateReplyPacket, revalidateRequestPacket, type QuorumFrame,
} from '../../../src/quorum/wire/QuorumPacket.js';
import { parseQuorumConfig, renderQuorumConfig } from '../../../src/quorum/wire/QuorumConfig.js';
import { OpCode } from '../../../src/protocol/constants.js';
import { CreateRequest, DeleteRequest, SetACLRequest, SetDataRequest, SyncRequest } from '../../../src/protocol/records.js';
import { asVectorJson, chunked, contiguousRuns, loadVectorFile, longText, vectorFiles, type VectorFrame } from './vectors.js';

const hex = (b: Buffer): string => b.toString('hex');

function checkConfigText(text: string, where: string): void {
  assert.equal(renderQuorumConfig(parseQuorumConfig(text)), text, `${where}: config text re-renders byte for byte`);
}

function checkElection(f: VectorFrame, frame: ElectionFrame): void {
  const d = f.decoded;
  const where = `seq ${f.seq}`;
  if (frame.kind === 'initial') {
    assert.equal(f.kind, 'initial', where);
    assert.equal(frame.msg.protocolVersion.toString(), d.protocolVersion, where);
    assert.equal(frame.msg.sid.toString(), d.sid, where);
    assert.deepEqual(frame.msg.addrs, [d.addr], where);
    assert.equal(Buffer.byteLength(d.addr), d.addrLen, where);
    assert.equal(frame.msg.protocolVersion, ELECTION_PROTOCOL_V1);
    assert.equal(hex(encodeInitialMessage(frame.msg.sid, frame.msg.addrs)), f.hex, `${where}: initial message re-encodes`);
    return;
  }
  assert.equal(f.kind, 'message', where);
  const e = d.notification;
  assert.equal(frame.body.length, d.lengthPrefix, where);
  const n = decodeNotification(frame.body);
  assert.equal(n.state, e.state, where);
  assert.equal(serverStateName(n.state), e.stateName, where);
  assert.equal(longText(n.leader), e.leader, where);
  assert.equal(longText(n.zxid), e.zxid, where);
  assert.equal(longText(n.electionEpoch), e.electionEpoch, where);
  assert.equal(longText(n.peerEpoch), e.peerEpoch, where);
  assert.equal(n.version, e.version, where);
  assert.equal(n.config, e.config, where);
  assert.equal(Buffer.byteLength(n.config ?? ''), e.configLength, where);
  checkConfigText(n.config!, where);
  assert.equal(hex(encodeNotification(n)), f.hex.slice(8), `${where}: notification re-encodes`);
  assert.equal(hex(encodeNotificationFrame(n)), f.hex, `${where}: framed notification re-encodes`);
}

const TXN_META = new Set(['record', 'typeName', 'errName', 'dataHex']);

function checkTxnFields(ours: any, exp: any, where: string): void {
  for (const [k, v] of Object.entries(exp)) {
    if (TXN_META.has(k)) continue;
    if (k === 'txns') {
      assert.equal(ours.txns.length, (v as unknown[]).length, where);
      (v as unknown[]).forEach((sub, i) => checkTxnFields(ours.txns[i], sub, `${where} sub-txn ${i}`));
      continue;
    }
    assert.deepEqual(asVectorJson(ours[k]), v, `${where}: txn field ${k}`);
  }
}

const REQUEST_BODY: Record<number, { decode(b: Buffer): unknown }> = {
  [OpCode.create]: CreateRequest,
  [OpCode.create2]: CreateRequest,
  [OpCode.setData]: SetDataRequest,
  [OpCode.delete]: DeleteRequest,
  [OpCode.setACL]: SetACLRequest,
  [OpCode.sync]: SyncRequest,
};

/** StatPersisted with its zxid/time longs (held as numbers) in the vectors' decimal-string form. */
function statJson(s: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) out[k] = ['czxid', 'mzxid', 'ctime', 'mtime', 'pzxid'].includes(k) ? longText(v as number) : asVectorJson(v);
  return out;
}

/** Counts, per file, which payload decoders had to agree with the recording. */
type Tally = Map<string, number>;

function checkPacket(f: VectorFrame, frame: QuorumFrame, tally: Tally): void {
  const d = f.decoded;
  const where = `seq ${f.seq} ${d.typeName ?? d.frame}`;
  if (frame.kind === 'snapshot') {
    assert.equal(f.kind, 'snapshot', where);
    const s = frame.snapshot;
    assert.deepEqual([...s.sessions].map(([sessionId, timeout]) => ({ sessionId: sessionId.toString(), timeout })), d.sessions, where);
    assert.deepEqual(s.acls.map(([index, acls]) => ({ index: String(index), acls })), d.aclMap, where);
    assert.deepEqual(
      s.nodes.map((n) => ({ path: n.path, data: n.data ? hex(n.data) : '', acl: String(n.aclIndex), stat: statJson(n.stat) })),
      d.nodes,
      where,
    );
    assert.equal(d.signature, 'BenWasHere');
    const config = s.nodes.find((n) => n.path === '/zookeeper/config');
    if (config?.data && config.data.length > 0) checkConfigText(config.data.toString('utf8'), `${where} /zookeeper/config`);
    assert.equal(hex(encodeSnapStream(s)), f.hex, `${where}: SNAP stream re-encodes`);
    tally.set('snapshot', (tally.get('snapshot') ?? 0) + 1);
    return;
  }
  const p = frame.packet;
  assert.equal(f.kind, 'packet', where);
  assert.equal(p.type, d.type, where);
  assert.equal(packetTypeName(p.type), d.typeName, where);
  assert.equal(longText(p.zxid), d.zxid, where);
  assert.equal(p.data == null ? null : p.data.length, d.dataLength, where);
  assert.deepEqual(p.authinfo, d.authinfo, where);
  assert.equal(hex(encodePacket(p)), f.hex, `${where}: packet re-encodes`);

  // Build the same packet from typed values through the helpers a peer would use.
  let rebuilt: Buffer | null = null;
  switch (p.type) {
    case PacketType.FOLLOWERINFO:
    case PacketType.OBSERVERINFO: {
      const li = decodeLearnerInfo(p.data!);
      assert.deepEqual({ serverid: String(li.serverid), protocolVersion: li.protocolVersion, configVersion: String(li.configVersion) },
        { serverid: d.data.serverid, protocolVersion: d.data.protocolVersion, configVersion: d.data.configVersion }, where);
      assert.equal(p.zxid % 2 ** 32, 0, `${where}: zxid is acceptedEpoch << 32`);
      rebuilt = encodePacket(learnerInfoPacket(p.type, p.zxid / 2 ** 32, { serverid: li.serverid!, protocolVersion: li.protocolVersion, configVersion: li.configVersion! }));
      break;
    }
    case PacketType.LEADERINFO: {
      const li = decodeLeaderInfo(p);
      assert.equal(li.protocolVersion, d.data.protocolVersion, where);
      rebuilt = encodePacket(leaderInfoPacket(li.newEpoch, li.protocolVersion));
      break;
    }
    case PacketType.ACKEPOCH: {
      const a = decodeAckEpoch(p);
      assert.equal(a.currentEpoch, d.data.currentEpoch, where);
      rebuilt = encodePacket(ackEpochPacket(a.lastLoggedZxid, a.currentEpoch));
      break;
    }
    case PacketType.NEWLEADER: {
      const text = decodeNewLeaderConfig(p);
      assert.equal(text, d.data.config, where);
      checkConfigText(text!, where);
      rebuilt = encodePacket(newLeaderPacket(p.zxid / 2 ** 32, text!));
      break;
    }
    case PacketType.PING: {
      const sessions = decodePingSessions(p.data);
      if (d.data == null) assert.equal(p.data, null, where);
      else {
        assert.deepEqual(asVectorJson(sessions), d.data.sessions, where);
        rebuilt = encodePacket(pingReplyPacket(p.zxid, sessions, p.authinfo));
      }
      break;
    }
    case PacketType.REVALIDATE: {
      if (f.dir === 'c2s') {
        const v = decodeRevalidateRequest(p);
        assert.deepEqual(asVectorJson(v), d.data, where);
        rebuilt = encodePacket(revalidateRequestPacket(v));
      } else {
        const v = decodeRevalidateReply(p);
        assert.deepEqual(asVectorJson(v), d.data, where);
        rebuilt = encodePacket(revalidateReplyPacket(v));
      }
      break;
    }
    case PacketType.REQUEST: {
      const r = decodeForwardedRequest(p.data!);
      assert.equal(r.sessionId.toString(), d.data.sessionId, where);
      assert.equal(r.cxid, d.data.cxid, where);
      assert.equal(r.type, d.data.type, where);
      assert.equal(hex(r.body), d.data.bodyHex, where);
      const codec = REQUEST_BODY[r.type];
      if (codec && d.data.body) {
        const { record: _rec, ...expected } = d.data.body;
        assert.deepEqual(asVectorJson(codec.decode(r.body)), expected, `${where}: request body`);
      }
      if (r.type === OpCode.createSession) assert.equal(r.body.readInt32BE(0), d.data.body.timeOut, where);
      rebuilt = encodePacket(requestPacket(r, p.authinfo));
      break;
    }
    case PacketType.PROPOSAL:
    case PacketType.INFORM: {
      const txn = decodeProposalTxn(p);
      const h = d.data.header;
      assert.deepEqual(
        { clientId: txn.hdr.clientId.toString(), cxid: txn.hdr.cxid, zxid: longText(txn.hdr.zxid), time: longText(txn.hdr.time), type: txn.hdr.type },
        { clientId: h.clientId, cxid: h.cxid, zxid: h.zxid, time: h.time, type: h.type }, where);
      checkTxnFields(txn.body, d.data.txn, where);
      assert.deepEqual(txn.digest ? asVectorJson(txn.digest) : null, d.data.digest, `${where}: digest`);
      rebuilt = encodePacket(proposalPacket(p.type, txn));
      break;
    }
    default:
      // ACK, COMMIT, SYNC, UPTODATE, DIFF, TRUNC, SNAP: the zxid is the whole message.
      assert.equal(d.data, null, where);
      assert.equal(p.data, null, where);
  }
  if (rebuilt) assert.equal(hex(rebuilt), f.hex, `${where}: typed builder reproduces the bytes`);
  const key = packetTypeName(p.type)!;
  tally.set(key, (tally.get(key) ?? 0) + 1);
}

const files = vectorFiles();

test('the quorum vector directory has the recorded files', () => {
  assert.ok(files.length >= 10, `found ${files.join(', ')}`);
});

for (const name of files) {
  test(`replay ${name}: every frame split, decoded, checked and re-encoded`, () => {
    const file = loadVectorFile(name);
    const verified = new Set<number>();
    const tally: Tally = new Map();
    contiguousRuns(file.frames).forEach((run, i) => {
      const bytes = Buffer.concat(run.map((f) => Buffer.from(f.hex, 'hex')));
      const out: Array<ElectionFrame | QuorumFrame> = [];
      if (run[0]!.port === 'election') {
        const reader = new ElectionStreamReader({ expectInitial: run[0]!.kind === 'initial' });
        for (const c of chunked(bytes, i + 1)) {
          reader.push(c);
          for (let fr = reader.next(); fr; fr = reader.next()) out.push(fr);
        }
        assert.equal(reader.pending(), 0, `${run[0]!.conn}: no leftover bytes`);
      } else {
        assert.notEqual(run[0]!.kind, 'snapshot', 'a run never starts inside a SNAP stream');
        const reader = new QuorumStreamReader({ keepSnapshotBytes: true });
        for (const c of chunked(bytes, i + 1)) {
          reader.push(c);
          for (let fr = reader.next(); fr; fr = reader.next()) out.push(fr);
        }
        assert.equal(reader.pending(), 0, `${run[0]!.conn}: no leftover bytes`);
        assert.equal(reader.inSnapshot(), false);
      }
      assert.equal(out.length, run.length, `${run[0]!.conn}/${run[0]!.dir}: frame count`);
      run.forEach((f, j) => {
        const fr = out[j]!;
        assert.equal(fr.bytes && hex(fr.bytes), f.hex, `seq ${f.seq}: frame boundary`);
        if (f.port === 'election') {
          checkElection(f, fr as ElectionFrame);
          const key = fr.kind === 'initial' ? 'initial' : 'notification';
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
        else checkPacket(f, fr as QuorumFrame, tally);
        verified.add(f.seq);
      });
    });
    assert.equal(verified.size, file.frames.length, 'every frame of the file was verified');
    assert.equal(file.frames.length, file.header.frames, 'frame count matches the header');
    // One line a file in the test log, for the report.
    console.log(`${name}: ${verified.size} frames verified ${JSON.stringify(Object.fromEntries(tally))}`);
  });
}

test('facts from the recording hold in the decoded frames', () => {
  // Observer proposals are Long.MIN_VALUE, exact as a JS number.
  const obs = loadVectorFile('observer.jsonl');
  const observerVotes = obs.frames.filter((f) => f.port === 'election' && f.kind === 'message' && f.from === 4);
  assert.ok(observerVotes.length > 0);
  for (const f of observerVotes) {
    const n = decodeNotification(Buffer.from(f.hex, 'hex').subarray(4));
    assert.equal(n.leader, NON_VOTER_PROPOSAL);
    assert.equal(n.zxid, NON_VOTER_PROPOSAL);
    assert.equal(n.peerEpoch, NON_VOTER_PROPOSAL);
    assert.equal(f.decoded.notification.leader, '-9223372036854775808');
  }
  // INFORM data equals the PROPOSAL data for the same zxid.
  const byZxid = new Map<string, string>();
  let informs = 0;
  for (const f of obs.frames) {
    if (f.decoded?.typeName === 'PROPOSAL') byZxid.set(f.decoded.zxid, f.hex.slice(24));
  }
  for (const f of obs.frames) {
    if (f.decoded?.typeName === 'INFORM' && byZxid.has(f.decoded.zxid)) {
      assert.equal(f.hex.slice(24), byZxid.get(f.decoded.zxid));
      informs++;
    }
  }
  assert.ok(informs >= 5, `${informs} INFORMs matched their PROPOSALs`);
});
