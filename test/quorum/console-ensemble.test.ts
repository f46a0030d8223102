// The console on a 3-member ensemble of our servers (separate processes, real sockets): a login on
// a follower writes through the console (forwarded to the leader, ACL-checked there), and the
// ensemble view lists every member with the role and zxid it reports itself (srvr on the client
// address from its server.N line) and the lag behind the newest zxid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort, makeTempDir, startServerProcess, type RunningServer } from '../support/ServerProcess.js';
import { HOST, allocatePorts, waitForRoles, writeMemberConfig } from '../support/Ensemble.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../support/OurZk.js';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { ZooKeeper } from '../../src/client/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('console on an ensemble: write through a follower, ensemble view with roles, zxids and lag', { skip: !ourZkAvailable() && 'dist CLI missing', timeout: 90000 }, async () => {
  const ids = [1, 2, 3];
  const ports = await allocatePorts(ids);
  const adminPorts = new Map<number, number>();
  for (const id of ids) adminPorts.set(id, await freePort());
  // server.N lines that name each member's client address, so members can be asked for srvr.
  const serverLines: Record<string, string> = {};
  for (const [id, p] of ports) serverLines[`server.${id}`] = `${HOST}:${p.quorum}:${p.election};${HOST}:${p.client}`;
  const root = makeTempDir('console-ensemble-');
  const members: RunningServer[] = [];
  const idOf = new Map<RunningServer, number>();
  try {
    const started = await Promise.allSettled(ids.map((id) => {
      const { cfgFile } = writeMemberConfig(path.join(root, `m${id}`), id, ports, 200, new Set(), {
        'admin.enableServer': true, 'admin.serverAddress': HOST, 'admin.serverPort': adminPorts.get(id)!, ...serverLines,
      });
      const dataDir = path.join(path.dirname(cfgFile), 'data');
      return startServerProcess(`console-member-${id}`, process.execPath, [OUR_ZK_CLI, 'start-foreground', cfgFile], HOST,
        ports.get(id)!.client, dataDir, false, makeTempDir('console-ensemble-log-'), { startTimeoutMs: 30000 }).then((m) => {
        idOf.set(m, id);
        return m;
      });
    }));
    for (const s of started) if (s.status === 'fulfilled') members.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const { leader, followers } = await waitForRoles(members, 20000);
    const leaderId = idOf.get(leader)!;
    const follower = followers[0]!;
    const base = `http://${HOST}:${adminPorts.get(idOf.get(follower)!)!}/console/api/`;

    // Log in on the follower; its console session is a client session of that member.
    const login = await fetch(base + 'login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ops', password: 'pw' }) });
    assert.equal(login.status, 200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await login.json()) as { csrf: string };
    const post = (op: string, body: unknown) => fetch(base + op, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf }, body: JSON.stringify(body) });
    const created = await post('create', { path: '/via-follower', data: 'hello', acl: [{ perms: 'rcdwa', scheme: 'world', id: 'anyone' }] });
    assert.equal(created.status, 200, await created.clone().text());
    const stale = await post('set', { path: '/via-follower', data: 'x', version: 5 });
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as { error: string }).error, 'BadVersion');
    // The write is the ensemble's: the leader's clients see it.
    const zk = await ZooKeeper.connect(leader.connectString);
    try {
      await zk.sync('/via-follower');
      assert.equal((await zk.getData('/via-follower')).data!.toString(), 'hello');
    } finally {
      await zk.close();
    }

    // Poll: a follower applies the commit a moment after the leader.
    let view: any = null;
    for (let i = 0; i < 50; i++) {
      view = await (await fetch(base + 'ensemble', { headers: { cookie } })).json();
      if (view.members.every((m: any) => m.lag === 0)) break;
      await sleep(100);
    }
    assert.equal(view.standalone, false);
    assert.equal(view.myid, idOf.get(follower));
    assert.equal(view.leaderId, leaderId);
    assert.equal(view.zabState, 'broadcast');
    assert.deepEqual(view.members.map((m: any) => m.sid), ids);
    for (const m of view.members) {
      const self = m.sid === idOf.get(follower);
      assert.equal(m.self, self);
      assert.equal(m.source, self ? 'self' : 'srvr', JSON.stringify(m));
      assert.equal(m.role, m.sid === leaderId ? 'leader' : 'follower');
      assert.equal(m.clientAddress, `${HOST}:${ports.get(m.sid)!.client}`);
      assert.match(m.zxid, /^0x[0-9a-f]+$/);
      assert.equal(m.lag, 0, JSON.stringify(view.members));
    }
    // Every member agrees on the zxid once nothing is being written.
    assert.equal(new Set(view.members.map((m: any) => m.zxid)).size, 1);
    assert.notEqual(view.members[0].zxid, '0x0');

    // The same view in the page, kept as an artefact: one row per member, this one marked.
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      await page.goto(base.replace(/api\/$/, ''));
      await page.locator('#login-user').fill('ops');
      await page.locator('#login-password').fill('pw');
      await page.locator('#login-password').press('Enter');
      await page.locator('#login-dlg').waitFor({ state: 'hidden' });
      await page.keyboard.press('3');
      await page.locator('#ensemble tbody tr:nth-child(3)').waitFor();
      const rows = await page.locator('#ensemble tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      assert.deepEqual(rows.map((r) => r[1]), ids.map((id) => (id === leaderId ? 'leader' : 'follower')));
      assert.ok(rows.some((r) => r[0] === `${idOf.get(follower)} (this)`));
      assert.match((await page.locator('#ensemble-summary').textContent())!, new RegExp(`Ensemble of 3 .* leader: ${leaderId} .* broadcast`));
      fs.mkdirSync(path.resolve('test-artifacts', 'console'), { recursive: true });
      await page.screenshot({ path: path.resolve('test-artifacts', 'console', '08-ensemble-3-members.png') });
    } finally {
      await browser.close();
    }
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
});
