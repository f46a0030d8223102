// A mixed ensemble: members 1 and 2 are our zk-server, member 3 is Apache ZooKeeper 3.8. With equal
// histories the largest sid wins, so Apache leads first: writes and syncs through our followers go
// to Apache's leader. Then Apache is SIGKILLed, ours elect a leader between them, Apache restarts
// on its data and follows ours: syncs and writes through Apache's follower go to our leader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { APACHE_ZK_CLASSPATH, apacheZkAvailable } from '../support/ApacheZk.js';
import { HOST, allocatePorts, waitForRoles, writeMemberConfig } from '../support/Ensemble.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';

async function startMember(id: number, cfgFile: string, dataDir: string, port: number, run: number): Promise<RunningServer> {
  const workDir = makeTempDir(`mixed-${id}-${run}-`);
  const args = id === 3
    ? ['-cp', APACHE_ZK_CLASSPATH, '-Dorg.slf4j.simpleLogger.defaultLogLevel=info', '-Dzookeeper.jmx.log4j.disable=true',
      'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile]
    : [OUR_ZK_CLI, 'start-foreground', cfgFile];
  return startServerProcess(id === 3 ? 'apache3' : `ours${id}`, id === 3 ? '/usr/bin/java' : process.execPath, args, HOST, port, dataDir, false, workDir,
    { startTimeoutMs: 40000 });
}

/** Polls until something accepts TCP connections on port; bounded. */
async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: HOST, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
}

async function expectData(zk: ZooKeeper, p: string, want: string): Promise<void> {
  await zk.sync(p);
  const { data } = await zk.getData(p);
  assert.equal(data?.toString(), want, p);
}

test('ours and Apache 3.8 in one ensemble: each follows the other, writes and syncs are forwarded both ways, failover', {
  skip: (!apacheZkAvailable() || !ourZkAvailable()) && 'Apache ZooKeeper or the dist CLI missing', timeout: 180000,
}, async () => {
  const ids = [1, 2, 3];
  const ports = await allocatePorts(ids);
  const root = makeTempDir('mixed-ensemble-');
  const cfgs = new Map(ids.map((id) => [id, writeMemberConfig(path.join(root, `m${id}`), id, ports)]));
  const members = new Map<number, RunningServer>();
  const clients: ZooKeeper[] = [];
  const connect = async (m: RunningServer) => {
    const zk = await ZooKeeper.connect(m.connectString, { sessionTimeout: 6000, retryDelay: 50 });
    clients.push(zk);
    return zk;
  };
  try {
    // Apache first, so that its JVM is up and voting when ours start: then all three take part in
    // the first round and the largest sid wins. (Started later, ours could elect one of themselves.)
    const apache = startMember(3, cfgs.get(3)!.cfgFile, cfgs.get(3)!.dataDir, ports.get(3)!.client, 1);
    await waitListening(ports.get(3)!.election, 30000);
    const started = await Promise.allSettled([
      ...[1, 2].map((id) => startMember(id, cfgs.get(id)!.cfgFile, cfgs.get(id)!.dataDir, ports.get(id)!.client, 1)),
      apache,
    ]);
    started.forEach((s, i) => s.status === 'fulfilled' && members.set(ids[i]!, s.value));
    for (const s of started) if (s.status === 'rejected') throw s.reason;

    const first = await waitForRoles([...members.values()], 30000);
    assert.equal(first.leader, members.get(3), 'Apache (largest sid, same history) leads first');

    // Our followers forward writes and syncs to Apache's leader.
    const apacheLeader = await connect(members.get(3)!);
    for (const id of [1, 2]) {
      const zk = await connect(members.get(id)!);
      await zk.create(`/from-ours-${id}`, Buffer.from(`w${id}`));
      await apacheLeader.setData(`/from-ours-${id}`, Buffer.from(`set-by-apache-${id}`));
      await expectData(zk, `/from-ours-${id}`, `set-by-apache-${id}`);
    }
    await expectData(apacheLeader, '/from-ours-1', 'set-by-apache-1');

    // Apache's leader dies: ours elect a leader, then Apache comes back and follows it.
    const killedAt = Date.now();
    process.kill(members.get(3)!.pid, 'SIGKILL');
    await members.get(3)!.stop({ keepDataDir: true });
    const ours = [members.get(1)!, members.get(2)!];
    const second = await waitForRoles(ours, 20000);
    console.log(`failover to our member on port ${second.leader.port}: ${Date.now() - killedAt} ms after SIGKILL of Apache's leader`);
    members.set(3, await startMember(3, cfgs.get(3)!.cfgFile, cfgs.get(3)!.dataDir, ports.get(3)!.client, 2));
    const third = await waitForRoles([...members.values()], 30000);
    assert.equal(third.leader, second.leader, 'the restarted Apache member follows our leader');

    const ourLeader = await connect(third.leader);
    const apacheFollower = await connect(members.get(3)!);
    // Apache synced from our leader: it has what Apache itself led and what came after.
    await ourLeader.create('/after-failover', Buffer.from('ours'));
    await expectData(apacheFollower, '/after-failover', 'ours');
    await expectData(apacheFollower, '/from-ours-2', 'set-by-apache-2');
    // Apache's follower forwards writes (and createSession) to our leader.
    await apacheFollower.create('/from-apache', Buffer.from('a'));
    await expectData(ourLeader, '/from-apache', 'a');
    for (const m of ours) {
      const zk = await connect(m);
      await expectData(zk, '/from-apache', 'a');
      await expectData(zk, '/from-ours-1', 'set-by-apache-1');
    }
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    for (const m of members.values()) await m.stop({ keepDataDir: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
});
