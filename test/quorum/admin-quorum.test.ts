// The AdminServer's quorum commands (leader, zabstate, voting_view, observers) on a 3-member
// ensemble of our servers answer with the member's real quorum values, in the JSON shapes an
// Apache ZooKeeper 3.8 member gives (keys and their order as captured from a 3-member Apache
// ensemble with admin.enableServer=true; see APACHE_* below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fourLetterWord, freePort, makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { HOST, allocatePorts, srvrMode, waitForRoles, writeMemberConfig } from '../support/Ensemble.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import { call, connectNzk, type NzkClient } from '../support/nzk.js';

/** Key order of Apache 3.8's answers on a quorum member (Jackson writes them in put() / getter order). */
export const APACHE_LEADER_KEYS = ['is_leader', 'leader_id', 'leader_ip', 'command', 'error'];
export const APACHE_ZABSTATE_KEYS = [
  'myid', 'is_leader', 'quorum_address', 'election_address', 'client_address', 'voting',
  'last_zxid', 'zab_epoch', 'zab_counter', 'zabstate', 'command', 'error',
];
export const APACHE_MULTIPLE_ADDRESSES_KEYS = [
  'empty', 'all_addresses', 'all_reachable_addresses', 'one', 'reachable_address', 'wildcard_addresses',
  'all_ports', 'all_host_strings', 'all_reachable_addresses_or_all', 'reachable_or_one',
];
export const APACHE_VOTING_MEMBER_KEYS = ['server_addresses', 'election_addresses', 'client_address', 'learner_type'];
export const APACHE_OBSERVERS_KEYS = ['synced_observers', 'observers', 'command', 'error'];
export const APACHE_OBSERVER_INFO_KEYS = [
  'remote_socket_address', 'sid', 'established', 'queued_packets', 'queued_packets_size', 'packets_received',
  'packets_sent', 'requests', 'last_zxid',
];

async function getJson(adminPort: number, name: string): Promise<Record<string, any>> {
  const res = await fetch(`http://${HOST}:${adminPort}/commands/${name}`);
  assert.equal(res.status, 200, name);
  return (await res.json()) as Record<string, any>;
}

test('quorum admin commands answer with each member\'s real values in Apache 3.8\'s shapes', { skip: !ourZkAvailable() && 'dist CLI missing', timeout: 90000 }, async () => {
  const ids = [1, 2, 3];
  const ports = await allocatePorts(ids);
  const adminPorts = new Map<number, number>();
  for (const id of ids) adminPorts.set(id, await freePort());
  const root = makeTempDir('admin-quorum-');
  const members: RunningServer[] = [];
  const idOf = new Map<RunningServer, number>();
  let client: NzkClient | null = null;
  try {
    const started = await Promise.allSettled(ids.map((id) => {
      const { cfgFile } = writeMemberConfig(path.join(root, `m${id}`), id, ports, 200, new Set(), {
        'admin.enableServer': true, 'admin.serverAddress': HOST, 'admin.serverPort': adminPorts.get(id)!,
      });
      const dataDir = path.join(path.dirname(cfgFile), 'data');
      return startServerProcess(`admin-member-${id}`, process.execPath, [OUR_ZK_CLI, 'start-foreground', cfgFile], HOST,
        ports.get(id)!.client, dataDir, false, makeTempDir('admin-quorum-log-'), { startTimeoutMs: 30000 }).then((m) => {
        idOf.set(m, id);
        return m;
      });
    }));
    for (const s of started) if (s.status === 'fulfilled') members.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const { leader, followers } = await waitForRoles(members, 20000);
    const leaderId = idOf.get(leader)!;

    // Some writes, so the zxid's counter is not zero.
    client = await connectNzk(followers[0]!.connectString);
    for (let i = 0; i < 3; i++) await call(client, 'create', `/aq${i}`, Buffer.from('x'));

    for (const m of members) {
      const id = idOf.get(m)!;
      const admin = adminPorts.get(id)!;
      const p = ports.get(id)!;
      const isLeader = m === leader;

      const lead = await getJson(admin, 'leader');
      assert.deepEqual(Object.keys(lead), APACHE_LEADER_KEYS);
      assert.deepEqual(lead, { is_leader: isLeader, leader_id: leaderId, leader_ip: HOST, command: 'leader', error: null });
      assert.deepEqual(await getJson(admin, 'lead'), { ...lead, command: 'leader' });

      // The zxid in zabstate is the one srvr shows at the same moment (no writes in between).
      const zxid = BigInt(/Zxid: (0x[0-9a-f]+)\n/.exec(await fourLetterWord(m.host, m.port, 'srvr'))![1]!);
      const zab = await getJson(admin, 'zabstate');
      assert.deepEqual(Object.keys(zab), APACHE_ZABSTATE_KEYS);
      assert.equal(zab.myid, id);
      assert.equal(zab.is_leader, isLeader);
      assert.deepEqual(Object.keys(zab.quorum_address), APACHE_MULTIPLE_ADDRESSES_KEYS);
      const q = `${HOST}:${p.quorum}`;
      assert.deepEqual(zab.quorum_address, {
        empty: false, all_addresses: [q], all_reachable_addresses: [q], one: q, reachable_address: q,
        wildcard_addresses: [`0.0.0.0:${p.quorum}`], all_ports: [p.quorum], all_host_strings: [HOST],
        all_reachable_addresses_or_all: [q], reachable_or_one: q,
      });
      assert.deepEqual(zab.election_address.all_addresses, [`${HOST}:${p.election}`]);
      assert.deepEqual(zab.election_address.all_ports, [p.election]);
      assert.equal(zab.client_address, `${HOST}:${p.client}`);
      assert.equal(zab.voting, true);
      assert.equal(zab.last_zxid, `0x${zxid.toString(16)}`);
      assert.equal(zab.zab_epoch, Number(zxid >> 32n));
      assert.equal(zab.zab_counter, Number(zxid & 0xffffffffn));
      assert.ok(zab.zab_epoch >= 1 && zab.zab_counter >= 3, `epoch ${zab.zab_epoch}, counter ${zab.zab_counter}`);
      assert.equal(zab.zabstate, 'broadcast');

      const vv = await getJson(admin, 'voting_view');
      assert.deepEqual(Object.keys(vv), ['current_config', 'command', 'error']);
      assert.deepEqual(Object.keys(vv.current_config), ['1', '2', '3']);
      for (const o of ids) {
        const op = ports.get(o)!;
        const view = vv.current_config[String(o)];
        assert.deepEqual(Object.keys(view), APACHE_VOTING_MEMBER_KEYS);
        assert.deepEqual(view, {
          server_addresses: [`${HOST}:${op.quorum}`], election_addresses: [`${HOST}:${op.election}`],
          // As Apache's: only the member's own entry knows a client address (the lines name none).
          client_address: o === id ? `${HOST}:${p.client}` : '', learner_type: 'participant',
        });
      }

      const obs = await getJson(admin, 'observers');
      assert.deepEqual(Object.keys(obs), APACHE_OBSERVERS_KEYS);
      assert.equal(obs.synced_observers, 0);
      assert.deepEqual(obs.observers, []);
    }
  } finally {
    client?.close();
    await Promise.all(members.map((m) => m.stop()));
  }
});

test('a member without a quorum: zabstate says election, the serving-only quorum commands refuse', { skip: !ourZkAvailable() && 'dist CLI missing', timeout: 60000 }, async () => {
  const ports = await allocatePorts([1, 2, 3]);
  const adminPort = await freePort();
  const root = makeTempDir('admin-quorum-alone-');
  const { cfgFile } = writeMemberConfig(path.join(root, 'm1'), 1, ports, 200, new Set(), {
    'admin.enableServer': true, 'admin.serverAddress': HOST, 'admin.serverPort': adminPort,
  });
  // Alone it never serves (the harness waits for srvr to serve), so it is spawned here and the admin port says when it is up.
  const child = spawn(process.execPath, [OUR_ZK_CLI, 'start-foreground', cfgFile], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    let zab: Record<string, any> | null = null;
    const deadline = Date.now() + 20000;
    while (!zab && Date.now() < deadline) {
      zab = await getJson(adminPort, 'zabstate').catch(() => null);
      if (!zab) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(zab, 'the admin server answered');
    assert.deepEqual(Object.keys(zab), APACHE_ZABSTATE_KEYS);
    assert.equal(zab.myid, 1);
    assert.equal(zab.is_leader, false);
    assert.equal(zab.voting, true);
    assert.equal(zab.zabstate, 'election');
    for (const name of ['leader', 'voting_view', 'observers']) {
      assert.deepEqual(await getJson(adminPort, name), { command: name, error: 'This ZooKeeper instance is not currently serving requests' });
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

test('with an observer: the leader lists it with its connection figures; voting_view and zabstate leave it out of the vote', { skip: !ourZkAvailable() && 'dist CLI missing', timeout: 90000 }, async () => {
  const ids = [1, 2, 3, 4];
  const observers = new Set([4]);
  const ports = await allocatePorts(ids);
  const adminPorts = new Map<number, number>();
  for (const id of ids) adminPorts.set(id, await freePort());
  const root = makeTempDir('admin-quorum-obs-');
  const members = new Map<number, RunningServer>();
  let client: NzkClient | null = null;
  const before = Date.now();
  try {
    const started = await Promise.allSettled(ids.map((id) => {
      const { cfgFile, dataDir } = writeMemberConfig(path.join(root, `m${id}`), id, ports, 200, observers, {
        'admin.enableServer': true, 'admin.serverAddress': HOST, 'admin.serverPort': adminPorts.get(id)!,
      });
      return startServerProcess(`admin-obs-${id}`, process.execPath, [OUR_ZK_CLI, 'start-foreground', cfgFile], HOST,
        ports.get(id)!.client, dataDir, false, makeTempDir('admin-quorum-log-'), { startTimeoutMs: 30000 });
    }));
    started.forEach((s, i) => s.status === 'fulfilled' && members.set(ids[i]!, s.value));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    let modes: (string | null)[] = [];
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      modes = await Promise.all(ids.map((id) => srvrMode(members.get(id)!)));
      if (modes[3] === 'observer' && modes.filter((m) => m === 'leader').length === 1 && modes.filter((m) => m === 'follower').length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const leaderId = ids[modes.indexOf('leader')]!;
    assert.equal(modes[3], 'observer', `modes ${JSON.stringify(modes)}`);

    // A write through the observer is forwarded to the leader as a REQUEST, and its INFORM comes back.
    client = await connectNzk(members.get(4)!.connectString);
    await call(client, 'create', '/via-observer', Buffer.from('o'));
    const leaderZab = await getJson(adminPorts.get(leaderId)!, 'zabstate');

    let obs = await getJson(adminPorts.get(leaderId)!, 'observers');
    const obsDeadline = Date.now() + 5000;
    while (obs.synced_observers !== 1 && Date.now() < obsDeadline) {
      await new Promise((r) => setTimeout(r, 50));
      obs = await getJson(adminPorts.get(leaderId)!, 'observers');
    }
    assert.deepEqual(Object.keys(obs), APACHE_OBSERVERS_KEYS);
    assert.equal(obs.synced_observers, 1);
    assert.equal(obs.observers.length, 1);
    const info = obs.observers[0];
    assert.deepEqual(Object.keys(info), APACHE_OBSERVER_INFO_KEYS);
    assert.equal(info.sid, 4);
    assert.match(info.remote_socket_address, /^\/127\.0\.0\.1:\d+$/);
    assert.ok(info.established >= before && info.established <= Date.now(), `established ${info.established}`);
    assert.equal(info.queued_packets, 0);
    assert.ok(info.queued_packets_size >= 0);
    assert.ok(info.packets_received >= 2 && info.packets_sent >= 3, `received ${info.packets_received}, sent ${info.packets_sent}`);
    // createSession and the create, both forwarded by the observer.
    assert.ok(info.requests >= 2, `requests ${info.requests}`);
    assert.equal(`0x${info.last_zxid.toString(16)}`, leaderZab.last_zxid, 'the last packet to the observer carried the newest zxid (its INFORM)');

    // orst zeroes the observer's packet and request counts on the leader; they count again from there.
    assert.deepEqual(await getJson(adminPorts.get(leaderId)!, 'orst'), { command: 'observer_connection_stat_reset', error: null });
    const reset = (await getJson(adminPorts.get(leaderId)!, 'observers')).observers[0];
    assert.ok(reset.packets_received <= 1 && reset.packets_sent <= 1, `after orst: received ${reset.packets_received}, sent ${reset.packets_sent}`);
    assert.equal(reset.requests, 0);
    assert.equal(reset.established, info.established, 'the connection itself is kept');
    await call(client, 'setData', '/via-observer', Buffer.from('p'), -1);
    const counted = (await getJson(adminPorts.get(leaderId)!, 'observers')).observers[0];
    assert.equal(counted.requests, 1, 'the forwarded setData is counted from zero');
    assert.ok(counted.packets_sent >= 1, 'its INFORM at least');

    // Followers and the observer itself list no observers (as Apache's, which do not relay them).
    for (const id of ids.filter((i) => i !== leaderId)) {
      assert.deepEqual(await getJson(adminPorts.get(id)!, 'observers'), { synced_observers: 0, observers: [], command: 'observers', error: null });
    }
    const oz = await getJson(adminPorts.get(4)!, 'zabstate');
    assert.deepEqual([oz.myid, oz.is_leader, oz.voting, oz.zabstate], [4, false, false, 'broadcast']);
    assert.deepEqual(await getJson(adminPorts.get(4)!, 'leader'), { is_leader: false, leader_id: leaderId, leader_ip: HOST, command: 'leader', error: null });
    for (const id of ids) {
      const vv = await getJson(adminPorts.get(id)!, 'voting_view');
      assert.deepEqual(Object.keys(vv.current_config), ['1', '2', '3'], `voting_view on ${id}`);
    }
  } finally {
    client?.close();
    await Promise.all([...members.values()].map((m) => m.stop()));
  }
});
