// The quorum admin commands side by side in one mixed ensemble: members 1 and 2 are ours, member 3
// is Apache ZooKeeper 3.8 (which leads: largest sid, same history). Every member's /commands/leader,
// zabstate, voting_view and observers must have Apache's shape (keys, their order, value types)
// and agree on the facts they share: the leader, the configuration, the last zxid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fourLetterWord, freePort, makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { APACHE_ZK_CLASSPATH, apacheZkAvailable } from '../support/ApacheZk.js';
import { HOST, allocatePorts, waitForRoles, writeMemberConfig } from '../support/Ensemble.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';

type Json = Record<string, any>;

async function startMember(id: number, cfgFile: string, dataDir: string, port: number): Promise<RunningServer> {
  const workDir = makeTempDir(`admin-mixed-${id}-`);
  // Jetty (Apache's AdminServer) needs the servlet API, which the harness's class path leaves out.
  const args = id === 3
    ? ['-cp', `${APACHE_ZK_CLASSPATH}:/usr/share/java/servlet-api.jar`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-Dzookeeper.jmx.log4j.disable=true', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgFile]
    : [OUR_ZK_CLI, 'start-foreground', cfgFile];
  return startServerProcess(id === 3 ? 'apache3' : `ours${id}`, id === 3 ? '/usr/bin/java' : process.execPath, args, HOST, port, dataDir, false, workDir,
    { startTimeoutMs: 40000 });
}

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

/** Keys (in order) and value types, recursively; an array by its first element's shape. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v !== null && typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, shape(x)]);
  return v === null ? 'null' : typeof v;
}

test('quorum admin commands of ours and of an Apache 3.8 member in one ensemble: same shapes, same facts', {
  skip: (!apacheZkAvailable() || !ourZkAvailable() || !fs.existsSync('/usr/share/java/servlet-api.jar')) && 'Apache ZooKeeper, servlet-api or the dist CLI missing',
  timeout: 120000,
}, async () => {
  const ids = [1, 2, 3];
  const ports = await allocatePorts(ids);
  const admin = new Map<number, number>();
  for (const id of ids) admin.set(id, await freePort());
  const root = makeTempDir('admin-mixed-');
  const cfgs = new Map(ids.map((id) => [id, writeMemberConfig(path.join(root, `m${id}`), id, ports, 200, new Set(), {
    'admin.enableServer': true, 'admin.serverAddress': HOST, 'admin.serverPort': admin.get(id)!,
  })]));
  const members = new Map<number, RunningServer>();
  let zk: ZooKeeper | null = null;
  const get = async (id: number, name: string): Promise<Json> => {
    const res = await fetch(`http://${HOST}:${admin.get(id)!}/commands/${name}`);
    assert.equal(res.status, 200, `${name} on ${id}`);
    return (await res.json()) as Json;
  };
  try {
    const apache = startMember(3, cfgs.get(3)!.cfgFile, cfgs.get(3)!.dataDir, ports.get(3)!.client);
    await waitListening(ports.get(3)!.election, 30000);
    const started = await Promise.allSettled([
      ...[1, 2].map((id) => startMember(id, cfgs.get(id)!.cfgFile, cfgs.get(id)!.dataDir, ports.get(id)!.client)),
      apache,
    ]);
    started.forEach((s, i) => s.status === 'fulfilled' && members.set(ids[i]!, s.value));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const roles = await waitForRoles([...members.values()], 30000);
    assert.equal(roles.leader, members.get(3), 'Apache (largest sid, same history) leads');
    await waitListening(admin.get(3)!, 10000);

    // Writes through our follower, so every member's last zxid moves past the epoch's start.
    zk = await ZooKeeper.connect(members.get(1)!.connectString, { sessionTimeout: 6000, retryDelay: 50 });
    for (let i = 0; i < 3; i++) await zk.create(`/admin-mixed-${i}`, Buffer.from('x'));

    for (const id of ids) {
      const lead = await get(id, 'leader');
      assert.deepEqual(lead, { is_leader: id === 3, leader_id: 3, leader_ip: HOST, command: 'leader', error: null }, `leader on ${id}`);
    }
    const apacheLeadShape = shape(await get(3, 'leader'));
    for (const id of [1, 2]) assert.deepEqual(shape(await get(id, 'leader')), apacheLeadShape);

    // zabstate: same shape; each member's own addresses; every member at the same zxid once the writes landed.
    const apacheZab = await get(3, 'zabstate');
    assert.equal(apacheZab.zabstate, 'broadcast');
    const deadline = Date.now() + 5000;
    let zabs: Json[] = [];
    for (;;) {
      zabs = await Promise.all(ids.map((id) => get(id, 'zabstate')));
      if (new Set(zabs.map((z) => z.last_zxid)).size === 1 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const [i, z] of zabs.entries()) {
      const id = ids[i]!;
      assert.deepEqual(shape(z), shape(apacheZab), `zabstate shape on ${id}`);
      assert.equal(z.myid, id);
      assert.equal(z.zabstate, 'broadcast');
      assert.equal(z.voting, true);
      assert.deepEqual(z.quorum_address.all_addresses, [`${HOST}:${ports.get(id)!.quorum}`]);
      assert.deepEqual(z.election_address.wildcard_addresses, [`0.0.0.0:${ports.get(id)!.election}`]);
      assert.equal(z.client_address, `${HOST}:${ports.get(id)!.client}`);
      assert.equal(z.last_zxid, zabs[2]!.last_zxid, `last_zxid on ${id} (ours) and on Apache's leader`);
      assert.equal(z.zab_epoch, zabs[2]!.zab_epoch);
      assert.equal(z.zab_counter, zabs[2]!.zab_counter);
    }
    assert.ok(zabs[2]!.zab_counter >= 3, `Apache's counter ${zabs[2]!.zab_counter}`);
    // The quorum and election address objects: ours as Apache's, up to the ports.
    const ours1 = zabs[0]!;
    const portsOf = (id: number) => [String(ports.get(id)!.quorum), String(ports.get(id)!.election)];
    const sub = (s: string, from: string[], to: string[]) => from.reduce((acc, f, i) => acc.split(f).join(to[i]!), s);
    assert.equal(sub(JSON.stringify(ours1.quorum_address), portsOf(1), ['Q', 'E']), sub(JSON.stringify(apacheZab.quorum_address), portsOf(3), ['Q', 'E']));
    assert.equal(sub(JSON.stringify(ours1.election_address), portsOf(1), ['Q', 'E']), sub(JSON.stringify(apacheZab.election_address), portsOf(3), ['Q', 'E']));

    // voting_view: the same configuration everywhere; only each member's own entry has a client address.
    const views = await Promise.all(ids.map((id) => get(id, 'voting_view')));
    const blankClients = (v: Json) => Object.fromEntries(Object.entries(v.current_config as Json).map(([k, m]) => [k, { ...m, client_address: '' }]));
    for (const [i, v] of views.entries()) {
      const id = ids[i]!;
      assert.deepEqual(shape(v), shape(views[2]), `voting_view shape on ${id}`);
      assert.deepEqual(blankClients(v), blankClients(views[2]!), `voting_view on ${id}`);
      for (const o of ids) {
        assert.equal(v.current_config[String(o)].client_address, o === id ? `${HOST}:${ports.get(id)!.client}` : '', `client_address of ${o} on ${id}`);
      }
    }

    // observers: none in this ensemble, on Apache's leader and our followers alike.
    for (const id of ids) assert.deepEqual(await get(id, 'observers'), { synced_observers: 0, observers: [], command: 'observers', error: null });

    // mntr: every member lists the same keys in the same order, up to the leader's own gauges, and
    // words its peer state as QuorumPeer.getDetailedPeerState does.
    const mntr = new Map<number, Map<string, string>>();
    for (const id of ids) {
      const text = await fourLetterWord(HOST, ports.get(id)!.client, 'mntr', 5000);
      mntr.set(id, new Map(text.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string])));
    }
    assert.equal(mntr.get(3)!.get('zk_peer_state'), 'leading - broadcast', 'Apache\'s leader');
    const LEADER_ONLY = new Set(['zk_learners', 'zk_synced_followers', 'zk_synced_non_voting_followers', 'zk_synced_observers',
      'zk_pending_syncs', 'zk_leader_uptime', 'zk_last_proposal_size', 'zk_min_proposal_size', 'zk_max_proposal_size']);
    // Per-namespace and per-learner summaries depend on the traffic each member saw.
    const fixedKeys = (m: Map<string, string>) => [...m.keys()].filter((k) => !/_per_namespace$|^zk_[a-z0-9]+_\d+_/.test(k));
    const apacheKeys = fixedKeys(mntr.get(3)!).filter((k) => !LEADER_ONLY.has(k));
    for (const id of [1, 2]) {
      const m = mntr.get(id)!;
      assert.equal(m.get('zk_peer_state'), 'following - broadcast', `our follower ${id}`);
      assert.equal(m.get('zk_quorum_size'), mntr.get(3)!.get('zk_quorum_size'), `quorum_size on ${id}`);
      assert.deepEqual(fixedKeys(m), apacheKeys, `mntr keys and their order on ${id}, as Apache's leader without its own gauges`);
    }
  } finally {
    await zk?.close().catch(() => {});
    for (const m of members.values()) await m.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
