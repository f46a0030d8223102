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
  NON_VOTER_PROPOSAL,
} from '../../src/quorum/wire/ElectionWire.js';
import {
  PacketType, QuorumStreamReader, ackEpochPacket, decodeAckEpoch, decodeForwardedRequest, decodeLeaderInfo, decodeLearnerInfo,
  decodeNewLeaderConfig, decodePingSessions, decodeProposalTxn, encodePacket, leaderInfoPacket, learnerInfoPacket, newLeaderPacket,
  packet, pingReplyPacket, proposalPacket, type QuorumPacket, ZAB_PROTOCOL_VERSION,
} from '../../src/quorum/wire/QuorumPacket.js';
import { parseMember, renderQuorumConfig } from '../../src/quorum/wire/QuorumConfig.js';
import { OpCode } from '../../src/protocol/constants.js';
import { CreateRequest } from '../../src/protocol/records.js';
import type { Txn } from '../../src/protocol/txn.js';
import { freePort } from '../support/ServerProcess.js';
import { call, connectNzk } from '../support/nzk.js';

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

interface ApacheMember {
  clientPort: number;
  serverLines: string[];
  ports: { q: number[]; e: number[] };
  logFile: string;
  logged(line: string, what: string): Promise<void>;
  logTail(): string;
  stop(): Promise<void>;
}

/**
 * One Apache member of a 3-voter ensemble on fresh loopback ports: sid 1, or with `observer` the
 * observer sid 4 of a 3-voter + 1-observer ensemble. The other members are ours to play.
 */
async function startApacheMember(opts: { observer?: boolean } = {}): Promise<ApacheMember> {
  const count = opts.observer ? 4 : 3;
  const clientPort = await freePort();
  const q: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < count; i++) {
    q.push(await freePort());
    e.push(await freePort());
  }
  const serverLines = q.map((qp, i) => `server.${i + 1}=127.0.0.1:${qp}:${e[i]}${i === 3 ? ':observer' : ''}`);
  const myid = opts.observer ? 4 : 1;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qwire-live-'));
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, 'myid'), `${myid}\n`);
  fs.writeFileSync(path.join(work, 'zoo.cfg'), [
    'tickTime=500', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${clientPort}`, 'clientPortAddress=127.0.0.1',
    'admin.enableServer=false', '4lw.commands.whitelist=srvr', ...(opts.observer ? ['peerType=observer'] : []), ...serverLines, '',
  ].join('\n'));
  const logFile = path.join(work, 'zk.log');
  const logFd = fs.openSync(logFile, 'a');
  const java: ChildProcess = spawn('/usr/bin/java', [
    '-cp', CLASSPATH, '-Xmx256m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=info', '-Dzookeeper.jmx.log4j.disable=true',
    'org.apache.zookeeper.server.quorum.QuorumPeerMain', path.join(work, 'zoo.cfg'),
  ], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const killOnExit = () => java.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    clientPort,
    serverLines,
    ports: { q, e },
    logFile,
    async logged(line, what) {
      const deadline = Date.now() + 10000;
      while (!fs.readFileSync(logFile, 'utf8').includes(line)) {
        if (Date.now() > deadline) throw new Error(`${what}: no log line ${JSON.stringify(line)}`);
        await sleep(50);
      }
    },
    logTail: () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n'),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (java.exitCode === null && java.signalCode === null) {
        java.kill('SIGKILL');
        await new Promise((r) => java.once('exit', r));
      }
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

function renderLines(serverLines: string[]): string {
  return renderQuorumConfig({ members: serverLines.map((l) => parseMember(Number(l.slice(7, l.indexOf('='))), l.slice(l.indexOf('=') + 1))), version: 0n });
}

test('a follower built from our wire codecs joins a live Apache ZooKeeper 3.8 leader and ACKs its writes', {
  skip: available ? false : 'Apache ZooKeeper (Debian package) is not installed',
  timeout: 90_000,
}, async (t) => {
  const zk = await startApacheMember();
  const [q1] = zk.ports.q as [number];
  const [e1, e2] = zk.ports.e as [number, number];
  const client1 = zk.clientPort;
  const { logged, logTail } = zk;
  const sockets: net.Socket[] = [];
  let zkClient: { close(): void } | null = null;
  t.after(async () => {
    zkClient?.close();
    for (const s of sockets) s.destroy();
    await zk.stop();
  });
  try {
    const ourConfig = renderLines(zk.serverLines);

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

test('a live Apache ZooKeeper 3.8 follows a leader built from our wire codecs and serves its commits', {
  skip: available ? false : 'Apache ZooKeeper (Debian package) is not installed',
  timeout: 90_000,
}, async (t) => {
  const zk = await startApacheMember();
  const [, , q3] = zk.ports.q as [number, number, number];
  const [e1, , e3] = zk.ports.e as [number, number, number];
  const sockets: net.Socket[] = [];
  let zkClient: { close(): void } | null = null;
  let pinger: NodeJS.Timeout | undefined;
  // We are sid 3: Apache dials our quorum port once it follows us.
  const server = net.createServer((s) => {
    sockets.push(s);
    accepted.push(s);
  });
  const accepted: net.Socket[] = [];
  await new Promise<void>((r) => server.listen(q3, '127.0.0.1', r));
  t.after(async () => {
    clearInterval(pinger);
    zkClient?.close();
    for (const s of sockets) s.destroy();
    server.close();
    await zk.stop();
  });
  try {
    const config = renderLines(zk.serverLines);
    const el = await dial(e1, Date.now() + 30000);
    sockets.push(el);
    const votes = new FrameLog(el, new ElectionStreamReader({ expectInitial: false }));
    el.write(encodeInitialMessage(3n, [`127.0.0.1:${e3}`]));
    // Same zxid and epoch, larger sid: Apache must prefer our vote and, with it, have a quorum.
    el.write(encodeNotificationFrame(voteNotification(ServerState.LOOKING, 3, 0, 1, 0, config)));
    await votes.waitFor((f) => f.kind === 'message' && decodeNotification(f.body).leader === 3, 'Apache voting for us');

    const deadline = Date.now() + 20000;
    while (accepted.length === 0) {
      if (Date.now() > deadline) throw new Error('Apache never connected to our quorum port');
      await sleep(20);
    }
    const qs = accepted[0]!;
    const send = (p: QuorumPacket) => qs.write(encodePacket(p));
    const acks = new Set<number>();
    const pingReplies: QuorumPacket[] = [];
    const requests: Array<{ req: ReturnType<typeof decodeForwardedRequest>; authinfo: QuorumPacket['authinfo'] }> = [];
    const fromFollower = new FrameLog(qs, new QuorumStreamReader(), (f) => {
      if (f.kind !== 'packet') return;
      if (f.packet.type === PacketType.ACK) acks.add(f.packet.zxid);
      if (f.packet.type === PacketType.PING) pingReplies.push(f.packet);
      if (f.packet.type === PacketType.REQUEST) requests.push({ req: decodeForwardedRequest(f.packet.data!), authinfo: f.packet.authinfo });
    });
    const info = await fromFollower.waitFor((f) => f.kind === 'packet', 'FOLLOWERINFO');
    assert.equal(info.kind === 'packet' && info.packet.type, PacketType.FOLLOWERINFO);
    const li = decodeLearnerInfo(info.kind === 'packet' ? info.packet.data : null);
    assert.deepEqual(li, { serverid: 1n, protocolVersion: ZAB_PROTOCOL_VERSION, configVersion: 0n });
    send(leaderInfoPacket(1));
    const ackEpoch = await fromFollower.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.ACKEPOCH, 'ACKEPOCH');
    assert.deepEqual(ackEpoch.kind === 'packet' && decodeAckEpoch(ackEpoch.packet), { lastLoggedZxid: 0, currentEpoch: 0 });
    send(packet(PacketType.DIFF, 0));
    send(newLeaderPacket(1, config));
    await fromFollower.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.ACK && f.packet.zxid === 2 ** 32, 'ACK of NEWLEADER');
    send(packet(PacketType.UPTODATE, -1));
    let lastZxid = 2 ** 32;
    pinger = setInterval(() => send(packet(PacketType.PING, lastZxid)), 250);

    // Broadcast: answer each forwarded request with a proposal; commit on Apache's ACK.
    let parentCVersion = 0;
    const propose = async (txn: Txn): Promise<void> => {
      send(proposalPacket(PacketType.PROPOSAL, txn));
      const until = Date.now() + 10000;
      while (!acks.has(txn.hdr.zxid)) {
        if (Date.now() > until) throw new Error(`no ACK for 0x${txn.hdr.zxid.toString(16)}`);
        await sleep(10);
      }
      send(packet(PacketType.COMMIT, txn.hdr.zxid));
    };
    let handled = 0;
    let stopped = false;
    let loopError: unknown = null;
    const leaderLoop = (async () => {
      while (!stopped) {
        const next = requests[handled];
        if (!next) {
          await sleep(10);
          continue;
        }
        handled++;
        const { req } = next;
        const zxid = ++lastZxid;
        const hdr = { clientId: req.sessionId, cxid: req.cxid, zxid, time: Date.now(), type: req.type };
        if (req.type === OpCode.createSession) {
          await propose({ hdr, body: { type: OpCode.createSession, timeOut: req.body.readInt32BE(0) } });
        } else if (req.type === OpCode.create) {
          const c = CreateRequest.decode(req.body);
          await propose({ hdr, body: { type: OpCode.create, path: c.path, data: c.data, acl: c.acl, ephemeral: false, parentCVersion: ++parentCVersion + 1 } });
        } else if (req.type === OpCode.closeSession) {
          await propose({ hdr, body: { type: OpCode.closeSession, paths2Delete: [] } });
        } else {
          throw new Error(`unexpected forwarded request type ${req.type}`);
        }
      }
    })().catch((e) => {
      loopError = e;
    });
    // Every client step is bounded, and a failure of our leader loop is reported instead of a hang.
    const bounded = <T>(p: Promise<T>, what: string): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const fail = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out${loopError ? `; leader loop failed: ${String(loopError)}` : ''}`)), 15000);
      });
      return Promise.race([p, fail]).finally(() => clearTimeout(timer));
    };
    try {
      zkClient = await bounded(connectNzk(`127.0.0.1:${zk.clientPort}`, 6000), 'client session through Apache');
      await bounded(call(zkClient, 'create', '/from-our-leader', Buffer.from('hi')), 'create through Apache');
      const [data] = await bounded(call<[Buffer]>(zkClient, 'getData', '/from-our-leader'), 'getData on Apache');
      assert.equal(data.toString(), 'hi', 'Apache applied our committed create and serves it');
    } finally {
      stopped = true;
      await leaderLoop;
    }
    assert.equal(loopError, null);
    assert.equal(requests[0]!.req.type, OpCode.createSession);
    assert.equal(requests[0]!.authinfo, null, 'a forwarded createSession carries no auth');
    assert.equal(requests[1]!.req.type, OpCode.create);
    assert.deepEqual(requests[1]!.authinfo, [{ scheme: 'ip', id: '127.0.0.1' }]);
    const sessionId = requests[0]!.req.sessionId;
    await fromFollower.waitFor(
      (f) => f.kind === 'packet' && f.packet.type === PacketType.PING && decodePingSessions(f.packet.data).some((x) => x.sessionId === sessionId),
      'a PING reply that reports the client session');
    assert.ok(pingReplies.every((p) => p.data !== null), 'PING replies carry data, never null');
    assert.ok(pingReplies.every((p) => p.zxid <= lastZxid), 'PING replies echo a zxid we sent');
  } catch (e) {
    throw new Error(`${(e as Error).stack}\n--- Apache log tail ---\n${zk.logTail()}`);
  }
});

test('a live Apache ZooKeeper 3.8 observer dials our election ports, learns our leader and applies our INFORMs', {
  skip: available ? false : 'Apache ZooKeeper (Debian package) is not installed',
  timeout: 90_000,
}, async (t) => {
  const zk = await startApacheMember({ observer: true });
  const [, e2, e3] = zk.ports.e as [number, number, number, number];
  const [, , q3] = zk.ports.q as [number, number, number, number];
  const config = renderLines(zk.serverLines);
  const sockets: net.Socket[] = [];
  const servers: net.Server[] = [];
  let zkClient: { close(): void } | null = null;
  let pinger: NodeJS.Timeout | undefined;
  t.after(async () => {
    clearInterval(pinger);
    zkClient?.close();
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    await zk.stop();
  });
  const listen = async (port: number, onSocket: (s: net.Socket) => void): Promise<void> => {
    const server = net.createServer((s) => {
      sockets.push(s);
      onSocket(s);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  };
  try {
    // Voters 2 (following) and 3 (leading) answer the observer's dials with the established vote.
    const initials: Array<{ to: number; sid: bigint; addrs: string[] }> = [];
    const observerVotes: ReturnType<typeof decodeNotification>[] = [];
    for (const [sid, port, state] of [[2, e2, ServerState.FOLLOWING], [3, e3, ServerState.LEADING]] as const) {
      await listen(port, (s) => {
        new FrameLog(s, new ElectionStreamReader({ expectInitial: true }), (f) => {
          if (f.kind === 'initial') initials.push({ to: sid, sid: f.msg.sid, addrs: f.msg.addrs });
          else {
            observerVotes.push(decodeNotification(f.body));
            s.write(encodeNotificationFrame(voteNotification(state, 3, 0, 1, 1, config)));
          }
        });
      });
    }
    const learners: net.Socket[] = [];
    await listen(q3, (s) => learners.push(s));
    const deadline = Date.now() + 20000;
    while (learners.length === 0) {
      if (Date.now() > deadline) throw new Error(`the observer never dialled our quorum port (initials ${initials.length}, votes ${observerVotes.length})`);
      await sleep(20);
    }
    assert.ok(initials.length >= 1);
    for (const i of initials) {
      assert.equal(i.sid, 4n);
      assert.deepEqual(i.addrs, [`127.0.0.1:${zk.ports.e[3]}`]);
    }
    assert.ok(observerVotes.length >= 1);
    for (const v of observerVotes) {
      assert.equal(v.leader, NON_VOTER_PROPOSAL, 'an observer proposes Long.MIN_VALUE');
      assert.equal(v.zxid, NON_VOTER_PROPOSAL);
      assert.equal(v.config, config);
    }

    const qs = learners[0]!;
    const send = (p: QuorumPacket) => qs.write(encodePacket(p));
    const requests: Array<ReturnType<typeof decodeForwardedRequest>> = [];
    const acks: number[] = [];
    const fromObserver = new FrameLog(qs, new QuorumStreamReader(), (f) => {
      if (f.kind !== 'packet') return;
      if (f.packet.type === PacketType.REQUEST) requests.push(decodeForwardedRequest(f.packet.data!));
      if (f.packet.type === PacketType.ACK) acks.push(f.packet.zxid);
    });
    const info = await fromObserver.waitFor((f) => f.kind === 'packet', 'OBSERVERINFO');
    assert.equal(info.kind === 'packet' && info.packet.type, PacketType.OBSERVERINFO);
    assert.deepEqual(decodeLearnerInfo(info.kind === 'packet' ? info.packet.data : null), { serverid: 4n, protocolVersion: ZAB_PROTOCOL_VERSION, configVersion: 0n });
    send(leaderInfoPacket(1));
    await fromObserver.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.ACKEPOCH, 'ACKEPOCH');
    send(packet(PacketType.DIFF, 0));
    send(newLeaderPacket(1, config));
    await fromObserver.waitFor((f) => f.kind === 'packet' && f.packet.type === PacketType.ACK, 'ACK of NEWLEADER');
    send(packet(PacketType.UPTODATE, -1));
    let lastZxid = 2 ** 32;
    pinger = setInterval(() => send(packet(PacketType.PING, lastZxid)), 250);

    let stopped = false;
    let loopError: unknown = null;
    let handled = 0;
    const leaderLoop = (async () => {
      while (!stopped) {
        const req = requests[handled];
        if (!req) {
          await sleep(10);
          continue;
        }
        handled++;
        const hdr = { clientId: req.sessionId, cxid: req.cxid, zxid: ++lastZxid, time: Date.now(), type: req.type };
        let txn: Txn;
        if (req.type === OpCode.createSession) txn = { hdr, body: { type: OpCode.createSession, timeOut: req.body.readInt32BE(0) } };
        else if (req.type === OpCode.create) {
          const c = CreateRequest.decode(req.body);
          txn = { hdr, body: { type: OpCode.create, path: c.path, data: c.data, acl: c.acl, ephemeral: false, parentCVersion: 1 } };
        } else if (req.type === OpCode.closeSession) txn = { hdr, body: { type: OpCode.closeSession, paths2Delete: [] } };
        else throw new Error(`unexpected forwarded request type ${req.type}`);
        // An observer is told of commits, never asked to vote.
        send(proposalPacket(PacketType.INFORM, txn));
      }
    })().catch((e) => {
      loopError = e;
    });
    const bounded = <T>(p: Promise<T>, what: string): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      const fail = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out${loopError ? `; leader loop failed: ${String(loopError)}` : ''}`)), 15000);
      });
      return Promise.race([p, fail]).finally(() => clearTimeout(timer));
    };
    try {
      zkClient = await bounded(connectNzk(`127.0.0.1:${zk.clientPort}`, 6000), 'client session through the observer');
      await bounded(call(zkClient, 'create', '/via-observer', Buffer.from('seen')), 'create through the observer');
      const [data] = await bounded(call<[Buffer]>(zkClient, 'getData', '/via-observer'), 'getData on the observer');
      assert.equal(data.toString(), 'seen', 'the observer applied our INFORM');
    } finally {
      stopped = true;
      await leaderLoop;
    }
    assert.equal(loopError, null);
    assert.deepEqual(requests.slice(0, 2).map((r) => r.type), [OpCode.createSession, OpCode.create]);
    // The observer ACKs NEWLEADER and UPTODATE (both newEpoch << 32) and nothing else.
    assert.ok(acks.every((z) => z === 2 ** 32), `observer ACKs: ${acks.map((z) => z.toString(16)).join(', ')}`);
  } catch (e) {
    throw new Error(`${(e as Error).stack}\n--- Apache log tail ---\n${zk.logTail()}`);
  }
});
