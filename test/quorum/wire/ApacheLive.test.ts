// Our wire codecs against a live Apache ZooKeeper 3.8 member (Debian package). The test plays
// sid 2 of a 3-member ensemble whose sid 1 is Apache: it dials Apache's election port with our
// initial message and a vote for 1, Apache (itself + our vote = quorum) becomes leader, the test
// registers as a follower on Apache's quorum port and runs discovery, sync and broadcast with
// packets built and parsed only by src/quorum/wire, ACKing proposals so that a client's writes on
// Apache commit. Anything we encode wrongly makes Apache drop us and the write never commits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  ElectionStreamReader, decodeNotification, describeNotification, encodeInitialMessage, encodeNotificationFrame, voteNotification, ServerState,
} from '../../../src/quorum/wire/ElectionWire.js';
import {
  PacketType, QuorumStreamReader, ackEpochPacket, decodeLeaderInfo, decodeNewLeaderConfig, decodeProposalTxn, encodePacket,
  learnerInfoPacket, packet, pingReplyPacket, type QuorumPacket, ZAB_PROTOCOL_VERSION,
} from '../../../src/quorum/wire/QuorumPacket.js';
import { parseMember, renderQuorumConfig } from '../../../src/quorum/wire/QuorumConfig.js';
import { OpCode } from '../../../src/protocol/constants.js';
import { freePort } from '../../support/ServerProcess.js';
import { call, connectNzk } from '../../support/nzk.js';

const JAR = '/usr/share/java/zookeeper.jar';
const CLASSPATH = [JAR, '/usr/share/java/slf4j-simple.jar'].join(':');
const available = fs.existsSync(JAR) && fs.existsSync('/usr/bin/java');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dial(port: number, deadline: number): Promise<net.Socket> {
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} never accepted: ${String(e)}`);
      await sleep(50);
    }
  }
}

/** Frames of one socket, decoded as they arrive; waitFor resolves on the first match. */
class FrameLog<F> {
  readonly frames: F[] = [];
  error: unknown = null;
  private wake: (() => void) | null = null;

  constructor(sock: net.Socket, reader: { push(b: Buffer): void; next(): F | null }, onFrame?: (f: F) => void) {
    sock.on('data', (chunk) => {
      try {
        reader.push(chunk);
        for (let f = reader.next(); f; f = reader.next()) {
          this.frames.push(f);
          onFrame?.(f);
        }
      } catch (e) {
        this.error = e;
        sock.destroy();
      }
      this.wake?.();
    });
    sock.on('close', () => this.wake?.());
    sock.on('error', () => undefined);
  }

  async waitFor(pred: (f: F) => boolean, what: string, timeoutMs = 15000): Promise<F> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.error) throw this.error;
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Promise.race([new Promise<void>((r) => (this.wake = r)), sleep(100)]);
    }
  }
}

test('a follower built from our wire codecs joins a live Apache ZooKeeper 3.8 leader and ACKs its writes', {
  skip: available ? false : 'Apache ZooKeeper (Debian package) is not installed',
  timeout: 90_000,
}, async (t) => {
  const ports = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const [client1, q1, e1, q2, e2, q3, e3] = ports as [number, number, number, number, number, number, number];
  const serverLines = [`server.1=127.0.0.1:${q1}:${e1}`, `server.2=127.0.0.1:${q2}:${e2}`, `server.3=127.0.0.1:${q3}:${e3}`];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qwire-live-'));
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, 'myid'), '1\n');
  fs.writeFileSync(path.join(work, 'zoo.cfg'), [
    'tickTime=500', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${client1}`, 'clientPortAddress=127.0.0.1',
    'admin.enableServer=false', '4lw.commands.whitelist=srvr', ...serverLines, '',
  ].join('\n'));
  const logFile = path.join(work, 'zk.log');
  const logFd = fs.openSync(logFile, 'a');
  const java: ChildProcess = spawn('/usr/bin/java', [
    '-cp', CLASSPATH, '-Xmx256m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=info', '-Dzookeeper.jmx.log4j.disable=true',
    'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(work, 'zoo.cfg'),
  ], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const sockets: net.Socket[] = [];
  let zkClient: { close(): void } | null = null;
  t.after(async () => {
    zkClient?.close();
    for (const s of sockets) s.destroy();
    if (java.exitCode === null) {
      java.kill('SIGKILL');
      await new Promise((r) => java.once('exit', r));
    }
    fs.rmSync(work, { recursive: true, force: true });
  });
  const logged = async (line: string, what: string) => {
    const deadline = Date.now() + 10000;
    while (!fs.readFileSync(logFile, 'utf8').includes(line)) {
      if (Date.now() > deadline) throw new Error(`${what}: no log line ${JSON.stringify(line)}`);
      await sleep(50);
    }
  };
  const logTail = () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
  try {
    const ourConfig = renderQuorumConfig({ members: serverLines.map((l) => parseMember(Number(l.slice(7, l.indexOf('='))), l.slice(l.indexOf('=') + 1))), version: 0n });

    // ---- election port: our initial message, then a LOOKING vote for sid 1
    const el = await dial(e1, Date.now() + 30000);
    sockets.push(el);
    const votes = new FrameLog(el, new ElectionStreamReader({ expectInitial: false }));
    el.write(encodeInitialMessage(2n, [`127.0.0.1:${e2}`]));
    const ourVote = voteNotification(ServerState.LOOKING, 1, 0, 1, 0, ourConfig);
    el.write(encodeNotificationFrame(ourVote));
    const fromApache = await votes.waitFor((f) => f.kind === 'message', 'a notification from Apache');
    assert.equal(fromApache.kind, 'message');
    const n = decodeNotification(fromApache.body);
    assert.equal(n.layout, 'current');
    assert.equal(n.version, 2);
    assert.equal(n.leader, 1, 'Apache votes for itself first');
    assert.equal(n.electionEpoch, 1);
    assert.equal(n.config, ourConfig, 'Apache announces the same membership text we render from the same server lines');
    // Apache read our vote as we meant it: its log line for it is the one we render for it.
    await logged(describeNotification(ourVote, 2, ServerState.LOOKING), 'Apache logged our vote with the same fields');
    await logged(describeNotification(n, 1, ServerState.LOOKING), 'Apache logged its own vote as we decoded it');

    // ---- quorum port: Apache leads once our vote completes its quorum
    const qs = await dial(q1, Date.now() + 30000);
    sockets.push(qs);
    const send = (p: QuorumPacket) => qs.write(encodePacket(p));
    const proposals: QuorumPacket[] = [];
    const commits: number[] = [];
    let synced = false;
    const fromLeader = new FrameLog(qs, new QuorumStreamReader(), (f) => {
      if (f.kind !== 'packet') return;
      const p = f.packet;
      if (p.type === PacketType.PING) send(pingReplyPacket(p.zxid, []));
      if (synced && p.type === PacketType.PROPOSAL) {
        proposals.push(p);
        send(packet(PacketType.ACK, p.zxid));
      }
      if (synced && p.type === PacketType.COMMIT) commits.push(p.zxid);
    });
    send(learnerInfoPacket(PacketType.FOLLOWERINFO, 0, { serverid: 2n, protocolVersion: ZAB_PROTOCOL_VERSION, configVersion: 0n }));
    const li = await fromLeader.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.LEADERINFO, 'LEADERINFO');
    assert.equal(li.kind, 'packet');
    const { newEpoch, protocolVersion } = decodeLeaderInfo(li.packet);
    assert.equal(newEpoch, 1);
    assert.equal(protocolVersion, ZAB_PROTOCOL_VERSION);
    send(ackEpochPacket(0, 0));
    const diff = await fromLeader.waitFor((f) => f.kind === 'packet' && [PacketType.DIFF, PacketType.SNAP, PacketType.TRUNC].includes(f.packet.type as never), 'the sync mode');
    assert.equal(diff.kind === 'packet' && diff.packet.type, PacketType.DIFF, 'two empty databases sync by DIFF');
    const nl = await fromLeader.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.NEWLEADER, 'NEWLEADER');
    assert.equal(nl.kind === 'packet' && nl.packet.zxid, 2 ** 32);
    assert.equal(nl.kind === 'packet' && decodeNewLeaderConfig(nl.packet), ourConfig);
    send(packet(PacketType.ACK, 2 ** 32));
    await fromLeader.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.UPTODATE, 'UPTODATE');
    synced = true;
    send(packet(PacketType.ACK, 2 ** 32));

    // ---- broadcast: a client's session and write on Apache need our ACK to commit
    zkClient = await connectNzk(`127.0.0.1:${client1}`, 6000);
    await call(zkClient, 'create', '/wire-live', Buffer.from('hello'));
    const create = proposals.map((p) => decodeProposalTxn(p)).find((x) => x.hdr.type === OpCode.create);
    assert.ok(create, `a create proposal among ${proposals.length}`);
    assert.equal(create.body.type === OpCode.create && create.body.path, '/wire-live');
    assert.equal(create.body.type === OpCode.create && create.body.data?.toString(), 'hello');
    assert.ok(create.digest, 'Apache proposals carry the tree digest');
    await fromLeader.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.COMMIT && f.packet.zxid === create.hdr.zxid, 'COMMIT of the create');
    assert.equal(proposals[0] && decodeProposalTxn(proposals[0]).hdr.type, OpCode.createSession);
    assert.ok(commits.includes(proposals[0]!.zxid));
  } catch (e) {
    throw new Error(`${(e as Error).stack}\n--- Apache log tail ---\n${logTail()}`);
  }
});
