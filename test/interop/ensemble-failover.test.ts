// Fail-over measured the same way on our 3-member ensemble and on Apache ZooKeeper 3.8's, in one
// run: three clients write continuously (each may move between members), the leader is SIGKILLed,
// and the figure is the time from the kill to the first write acknowledged that was sent after
// it. Every acknowledged write must be on both survivors afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { APACHE_ZK_CLASSPATH, apacheZkAvailable } from '../support/ApacheZk.js';
import { HOST, waitForRoles, writeMemberConfig, type MemberPorts } from '../support/Ensemble.js';
import { PortRange } from '../quorum/ensemble-net.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startMember(kind: 'ours' | 'apache', id: number, cfgFile: string, dataDir: string, port: number): Promise<RunningServer> {
  const workDir = makeTempDir(`failover-${kind}-${id}-`);
  const args = kind === 'apache'
    ? ['-cp', APACHE_ZK_CLASSPATH, '-Dzookeeper.jmx.log4j.disable=true', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile]
    : [OUR_ZK_CLI, 'start-foreground', cfgFile];
  return startServerProcess(`${kind}${id}`, kind === 'apache' ? '/usr/bin/java' : process.execPath, args, HOST, port, dataDir, false, workDir,
    { startTimeoutMs: 60000 });
}

async function failover(kind: 'ours' | 'apache'): Promise<{ firstWriteMs: number; acked: number }> {
  const ids = [1, 2, 3];
  // Ports from a block of 24000-24999, away from the kernel's ephemeral range (see PortRange).
  const range = new PortRange(kind === 'ours' ? 24800 : 24900);
  const ports = new Map<number, MemberPorts>();
  for (const id of ids) ports.set(id, { client: await range.take(), quorum: await range.take(), election: await range.take() });
  const root = makeTempDir(`failover-${kind}-`);
  const members = new Map<number, RunningServer>();
  const writers: ZooKeeper[] = [];
  try {
    const cfgs = new Map(ids.map((id) => [id, writeMemberConfig(path.join(root, `m${id}`), id, ports, 200, new Set(), { maxSessionTimeout: 20000 })]));
    const started = await Promise.allSettled(ids.map((id) => startMember(kind, id, cfgs.get(id)!.cfgFile, cfgs.get(id)!.dataDir, ports.get(id)!.client)));
    started.forEach((s, i) => s.status === 'fulfilled' && members.set(ids[i]!, s.value));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const { leader } = await waitForRoles([...members.values()], 60000);
    const all = [...members.values()].map((m) => m.connectString);
    const setup = await ZooKeeper.connect(all.join(','), { sessionTimeout: 10000 });
    await setup.create('/fo', Buffer.from(''));
    await setup.close();

    const acked: { path: string; at: number; startedAt: number }[] = [];
    let running = true;
    const loops = [0, 1, 2].map(async (w) => {
      // Writer w starts on member w+1 (one of them on the leader) and can move to the others.
      const hosts = [...all.slice(w), ...all.slice(0, w)];
      const c = await ZooKeeper.connect(hosts.join(','), { sessionTimeout: 10000, retryDelay: 20, shuffleHosts: false });
      writers.push(c);
      for (let i = 0; running && i < 5000; i++) {
        const p = `/fo/w${w}-${i}`;
        const startedAt = Date.now();
        try {
          await c.create(p, Buffer.from(`${i}`));
          acked.push({ path: p, at: Date.now(), startedAt });
        } catch {
          await sleep(20);
        }
      }
    });
    await sleep(1000);
    const killedAt = Date.now();
    process.kill(leader.pid, 'SIGKILL');
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && acked.filter((a) => a.startedAt > killedAt).length < 50) await sleep(50);
    running = false;
    await Promise.all(loops);
    const after = acked.filter((a) => a.startedAt > killedAt);
    assert.ok(after.length >= 50, `${kind}: only ${after.length} writes acknowledged after the kill`);
    const firstWriteMs = Math.min(...after.map((a) => a.at)) - killedAt;
    for (const c of writers) await c.close().catch(() => {});
    writers.length = 0;

    // No acknowledged write lost on either survivor.
    for (const m of members.values()) {
      if (m === leader) continue;
      const c = await ZooKeeper.connect(m.connectString, { sessionTimeout: 10000 });
      writers.push(c);
      await c.sync('/fo');
      const kids = new Set(await c.getChildren('/fo'));
      const missing = acked.filter((a) => !kids.has(a.path.slice('/fo/'.length)));
      assert.deepEqual(missing.map((a) => a.path), [], `${kind}: acknowledged writes missing on ${m.connectString}`);
    }
    return { firstWriteMs, acked: acked.length };
  } finally {
    for (const c of writers) await c.close().catch(() => {});
    for (const m of members.values()) await m.stop({ keepDataDir: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('leader SIGKILL under write load: kill → first acknowledged write, ours and Apache 3.8 in one run', {
  skip: (!apacheZkAvailable() || !ourZkAvailable()) && 'Apache ZooKeeper or the dist CLI missing', timeout: 300000,
}, async () => {
  const ours = await failover('ours');
  const apache = await failover('apache');
  console.log(`fail-over, kill → first acknowledged write: ours ${ours.firstWriteMs} ms (${ours.acked} writes), ` +
    `Apache 3.8 ${apache.firstWriteMs} ms (${apache.acked} writes); ratio ${(ours.firstWriteMs / apache.firstWriteMs).toFixed(2)}`);
  assert.ok(ours.firstWriteMs > 0 && apache.firstWriteMs > 0);
});
