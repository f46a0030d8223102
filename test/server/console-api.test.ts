// The console's acting API over real HTTP against a real server: login and its cookie, CSRF and
// origin refusals, the user's ZooKeeper identity applied by the server (ACLs), version checks,
// clear 4xx answers for bad input (and the server alive afterwards), search, export/import, the
// chart figures and the standalone ensemble view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, type TestServer } from '../support/OurServer.js';
import { ZooKeeper, Perm, type ACL } from '../../src/client/index.js';
import { digestId } from '../../src/auth/AuthProviders.js';

const OPEN: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const hex = (n: number | bigint): string => '0x' + BigInt.asUintN(64, BigInt(n)).toString(16);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

class Browser {
  cookie = '';
  csrf = '';
  constructor(readonly base: string) {}

  async req(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (body !== undefined && !('content-type' in h)) h['content-type'] = 'application/json';
    if (method === 'POST' && this.csrf && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    const res = await fetch(`${this.base}/api/${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
  get(path: string): Promise<Answer> {
    return this.req('GET', path);
  }
  post(path: string, body: unknown = {}, headers: Record<string, string> = {}): Promise<Answer> {
    return this.req('POST', path, body, headers);
  }
  async login(user: string, password: string): Promise<Answer> {
    const r = await this.post('login', { user, password });
    if (r.status === 200) {
      this.cookie = r.headers.get('set-cookie')!.split(';')[0]!;
      this.csrf = r.body.csrf;
    }
    return r;
  }
}

async function withConsole(fn: (srv: TestServer, base: string, zk: ZooKeeper) => Promise<void>): Promise<void> {
  const srv = await startServer({ adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 });
  const zk = await ZooKeeper.connect(srv.connectString);
  try {
    await fn(srv, `http://127.0.0.1:${srv.server.admin!.port}/console`, zk);
  } finally {
    await zk.close();
    await srv.stop();
  }
}

test('login: HttpOnly SameSite=Strict cookie, a CSRF token, one ZooKeeper session per login, logout ends it', async () => {
  await withConsole(async (srv, base) => {
    const b = new Browser(base);
    assert.equal((await b.get('session')).status, 401);
    const before = srv.server.tracker.sessions.size;
    const r = await b.login('alice', 'secret');
    assert.equal(r.status, 200);
    assert.equal(r.body.user, 'alice');
    assert.match(r.body.csrf, /^[A-Za-z0-9_-]{40,}$/);
    const setCookie = r.headers.get('set-cookie')!;
    assert.match(setCookie, /^zkconsole=[A-Za-z0-9_-]{40,}; /);
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/console']) assert.ok(setCookie.includes(attr), `${attr} in ${setCookie}`);
    assert.equal(srv.server.tracker.sessions.size, before + 1, 'the login holds a ZooKeeper session');
    const s = await b.get('session');
    assert.deepEqual(s.body, { user: 'alice', csrf: b.csrf });

    // The login is a real client connection of the server (the console's own client).
    const conns = (await b.get('connections')).body.connections as Array<Record<string, unknown>>;
    assert.equal(conns.length, 2, 'this test client and the console login');

    const out = await b.post('logout');
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await b.get('session')).status, 401);
    for (let i = 0; i < 100 && srv.server.tracker.sessions.size > before; i++) await sleep(20);
    assert.equal(srv.server.tracker.sessions.size, before, 'logout closes the ZooKeeper session');
  });
});

test('state-changing requests: 401 without login, 403 without the CSRF token or from another origin', async () => {
  await withConsole(async (_srv, base, zk) => {
    const anon = new Browser(base);
    const create = { path: '/x', data: 'v', acl: [{ perms: 31, scheme: 'world', id: 'anyone' }] };
    let r = await anon.post('create', create);
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'NotLoggedIn');
    assert.equal((await anon.get('search?q=a')).status, 401);
    assert.equal((await anon.get('export?path=/')).status, 401);

    // Login itself must come as JSON from this origin (a cross-site form post cannot).
    r = await anon.post('login', 'user=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'CsrfRejected');
    r = await anon.post('login', { user: 'a', password: 'b' }, { origin: 'http://evil.example' });
    assert.equal(r.status, 403);
    r = await anon.post('login', { user: 'a', password: 'b' }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(r.status, 403);
    r = await anon.post('login', { user: 'a', password: 'b' }, { origin: 'null' });
    assert.equal(r.status, 403);

    const b = new Browser(base);
    assert.equal((await b.login('alice', 'secret')).status, 200);
    r = await b.post('create', create, { 'x-csrf-token': '' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error, 'CsrfRejected');
    r = await b.post('create', create, { 'x-csrf-token': b.csrf.slice(0, -1) + (b.csrf.endsWith('A') ? 'B' : 'A') });
    assert.equal(r.status, 403);
    r = await b.post('create', create, { origin: 'http://evil.example' });
    assert.equal(r.status, 403);
    r = await b.post('create', create, { 'content-type': 'text/plain' });
    assert.equal(r.status, 403);
    assert.equal(await zk.exists('/x'), null, 'nothing refused was applied');
    // Same origin, right token: accepted.
    const host = new URL(base).host;
    r = await b.post('create', create, { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(await zk.exists('/x'));
    // A token is bound to its login.
    const other = new Browser(base);
    await other.login('bob', 'pw');
    r = await other.post('delete', { path: '/x', version: 0, confirm: '/x' }, { 'x-csrf-token': b.csrf });
    assert.equal(r.status, 403);
  });
});

test('the server applies the logged-in user\'s ACLs: alice reads and writes her node, bob and a wrong password cannot', async () => {
  await withConsole(async (_srv, base, zk) => {
    const aliceZk = await ZooKeeper.connect(zk.getCurrentHost()!.host + ':' + zk.getCurrentHost()!.port);
    try {
      await aliceZk.addAuth('digest', 'alice:secret');
      await aliceZk.create('/secret', Buffer.from('s3cret'), { acl: [{ perms: Perm.ALL, id: { scheme: 'digest', id: digestId('alice:secret') } }] });
      await aliceZk.create('/secret/child', null, { acl: OPEN });
    } finally {
      await aliceZk.close();
    }
    const alice = new Browser(base);
    await alice.login('alice', 'secret');
    let r = await alice.get('node?path=/secret');
    assert.equal(r.status, 200);
    assert.equal(r.body.data.utf8, 's3cret');
    assert.deepEqual(r.body.acl, [{ perms: 31, scheme: 'digest', id: digestId('alice:secret') }], 'ADMIN sees the digest unmasked');
    r = await alice.post('set', { path: '/secret', data: 'new', version: 0 });
    assert.equal(r.status, 200);
    assert.equal(r.body.stat.version, 1);

    for (const [user, pw] of [['bob', 'pw'], ['alice', 'wrong']] as const) {
      const b = new Browser(base);
      await b.login(user, pw);
      r = await b.get('node?path=/secret');
      assert.equal(r.status, 403, user);
      assert.equal(r.body.error, 'NoAuth');
      assert.ok(!JSON.stringify(r.body).includes('new'));
      r = await b.post('set', { path: '/secret', data: 'hijack', version: -1 });
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'NoAuth');
      // Deleting needs DELETE on the parent, as in ZooKeeper.
      r = await b.post('delete', { path: '/secret/child', version: -1, confirm: '/secret/child' });
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'NoAuth');
      r = await b.post('acl', { path: '/secret', version: -1, acl: OPEN.map((a) => ({ perms: a.perms, ...a.id })) });
      assert.equal(r.status, 403);
      // Search does not descend into what the user may not list, and export names it unreadable.
      r = await b.get('export?path=/');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.unreadable, ['/secret']);
    }
    assert.equal(((await zk.getData('/secret').catch((e: Error) => e)) as Error).name, 'NoAuth');
  });
});

test('version checks: a stale setData, delete or setACL is refused with ZooKeeper\'s BadVersion', async () => {
  await withConsole(async (_srv, base, zk) => {
    await zk.create('/v', Buffer.from('0'), { acl: OPEN });
    await zk.setData('/v', Buffer.from('1'), 0);
    const b = new Browser(base);
    await b.login('u', 'p');
    let r = await b.post('set', { path: '/v', data: 'stale', version: 0 });
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'BadVersion');
    assert.equal(r.body.code, -103);
    assert.match(r.body.message, /BadVersion/);
    assert.equal((await zk.getData('/v')).data!.toString(), '1');
    r = await b.post('delete', { path: '/v', version: 0, confirm: '/v' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'BadVersion');
    r = await b.post('acl', { path: '/v', version: 3, acl: [{ perms: 'r', scheme: 'world', id: 'anyone' }] });
    assert.equal(r.status, 409);
    r = await b.post('set', { path: '/v', data: 'AAH/', encoding: 'base64', version: 1 });
    assert.equal(r.status, 200);
    assert.deepEqual((await zk.getData('/v')).data, Buffer.from([0, 1, 0xff]));
    r = await b.post('set', { path: '/v', data: '00 ff 10', encoding: 'hex', version: 2 });
    assert.equal(r.status, 200);
    assert.deepEqual((await zk.getData('/v')).data, Buffer.from([0, 0xff, 0x10]));
    r = await b.post('acl', { path: '/v', version: 0, acl: [{ perms: 'r', scheme: 'world', id: 'anyone' }] });
    assert.equal(r.status, 200);
    assert.deepEqual((await zk.getACL('/v')).acl, [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }]);
    assert.equal(((await zk.setData('/v', Buffer.from('x'), -1).catch((e: Error) => e)) as Error).name, 'NoAuth', 'the ACL edit binds real clients');
    r = await b.post('create', { path: '/v/child', acl: OPEN.map((a) => ({ perms: a.perms, ...a.id })) });
    assert.equal(r.status, 403, 'no CREATE on /v now');
    r = await b.post('create', { path: '/made', data: 'x', acl: [{ perms: 31, scheme: 'world', id: 'anyone' }] });
    assert.equal(r.status, 200);
    r = await b.post('create', { path: '/made', data: 'x', acl: [{ perms: 31, scheme: 'world', id: 'anyone' }] });
    assert.equal(r.status, 409);
    assert.equal(r.body.error, 'NodeExists');
    r = await b.post('delete', { path: '/made', version: 0, confirm: '/made' });
    assert.equal(r.status, 200);
    assert.equal(await zk.exists('/made'), null);
  });
});

test('bad input gets a clear 4xx and never hurts the server', async () => {
  await withConsole(async (srv, base, zk) => {
    await zk.create('/n', Buffer.from('x'), { acl: OPEN });
    const b = new Browser(base);
    await b.login('u', 'p');
    const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['create', { path: 'nope', acl }, 400, /path must start with/],
      ['create', { path: '/a//b', acl }, 400, /empty node name/],
      ['create', { path: '/ok' }, 400, /acl/],
      ['create', { path: '/ok', acl: [] }, 400, /acl/],
      ['create', { path: '/ok', acl: [{ perms: 99, scheme: 'world', id: 'anyone' }] }, 400, /perms/],
      ['create', { path: '/ok', acl: [{ perms: 'rwxz', scheme: 'world', id: 'anyone' }] }, 400, /perms/],
      ['create', { path: '/ok', acl: [{ perms: 31, scheme: 'nosuch', id: 'x' }] }, 400, /InvalidACL/],
      ['create', { path: '/ok', acl, mode: 'FOREVER' }, 400, /mode/],
      ['create', { path: '/ok', acl, data: 'zz', encoding: 'hex' }, 400, /hex/],
      ['create', { path: '/ok', acl, data: '!!', encoding: 'base64' }, 400, /base64/],
      ['create', { path: '/ok', acl, data: 'x', encoding: 'latin1' }, 400, /encoding/],
      ['create', { path: '/ok', acl, data: 5 }, 400, /data/],
      ['create', { path: '/no/parent', acl }, 404, /NoNode/],
      ['set', { path: '/n', data: 'x' }, 400, /version/],
      ['set', { path: '/n', data: 'x', version: 1.5 }, 400, /version/],
      ['set', { path: '/n', data: 'x', version: '0' }, 400, /version/],
      ['set', { path: '/missing', data: 'x', version: -1 }, 404, /NoNode/],
      ['delete', { path: '/n', version: 0 }, 400, /confirm/],
      ['delete', { path: '/n', version: 0, confirm: '/other' }, 400, /confirm/],
      ['delete', { path: '/', version: -1, confirm: '/' }, 400, /cannot be deleted/],
      ['delete', { path: '/zookeeper/quota', version: -1, confirm: '/zookeeper/quota' }, 400, /cannot be deleted/],
      ['acl', { path: '/n', version: 0, acl: 'world:anyone:r' }, 400, /acl/],
      ['import', { root: '/imp', export: { nodes: [] } }, 400, /zookeeper-console-export/],
      ['import', { root: 'rel', export: {} }, 400, /path must start/],
      ['import', { root: '/imp', export: { format: 'zookeeper-console-export', nodes: [{ path: 'x', acl }] } }, 400, /path/],
      ['import', { root: '/imp', export: { format: 'zookeeper-console-export', nodes: [{ path: '/../x', data: '', acl }] } }, 400, /relative/],
      ['login', { user: '', password: 'x' }, 400, /user/],
      ['login', { user: 'a:b', password: 'x' }, 400, /user/],
      ['login', { user: 'a' }, 400, /password/],
    ];
    for (const [op, body, status, re] of cases) {
      const r = await b.post(op, body);
      assert.equal(r.status, status, `${op} ${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
      assert.match(JSON.stringify(r.body), re, `${op} ${JSON.stringify(body)}`);
    }
    for (const raw of ['{not json', '[1,2]', '"str"', 'null', '']) {
      const r = await b.post('set', raw);
      assert.equal(r.status, 400, raw);
      assert.equal(r.body.error, 'BadRequest');
    }
    const big = await b.post('import', '{"pad":"' + 'x'.repeat(17 * 1024 * 1024) + '"}');
    assert.equal(big.status, 413);
    for (const q of ['node?path=rel', 'node?path=/a/', 'export?path=', 'search?q=', 'search?q=a&path=x']) {
      const r = await b.get(q);
      assert.equal(r.status, 400, q);
    }
    assert.equal((await b.get('node?path=/missing')).status, 404);
    // Still serving, same data.
    assert.equal((await zk.getData('/n')).data!.toString(), 'x');
    assert.equal((await b.get('node?path=/n')).status, 200);
    assert.equal(srv.server.running, true);
  });
});

test('search by path, export and import round trip (binary data, ACLs, ephemerals skipped)', async () => {
  await withConsole(async (_srv, base, zk) => {
    await zk.create('/svc', Buffer.from('root'), { acl: OPEN });
    await zk.create('/svc/alpha', Buffer.from([0, 0xff, 7]), { acl: OPEN });
    await zk.create('/svc/alpha/leaf', Buffer.from('{"k":1}'), { acl: OPEN });
    await zk.setACL('/svc/alpha', [{ perms: Perm.READ | Perm.WRITE | Perm.CREATE, id: { scheme: 'world', id: 'anyone' } }], -1);
    await zk.create('/svc/beta', null, { acl: OPEN });
    await zk.create('/svc/live', Buffer.from('session-bound'), { acl: OPEN, mode: 'EPHEMERAL' });
    const b = new Browser(base);
    await b.login('u', 'p');

    let r = await b.get('search?q=ALPHA');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.matches, ['/svc/alpha', '/svc/alpha/leaf']);
    r = await b.get('search?q=leaf&path=/svc/beta');
    assert.deepEqual(r.body.matches, []);

    r = await b.get('export?path=/svc');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-disposition')!, /attachment; filename="zk-export-svc.json"/);
    const doc = r.body;
    assert.equal(doc.format, 'zookeeper-console-export');
    assert.deepEqual(doc.nodes.map((n: any) => n.path), ['', '/alpha', '/beta', '/live', '/alpha/leaf']);
    assert.equal(doc.nodes.find((n: any) => n.path === '/live').ephemeral, true);

    r = await b.post('import', { root: '/copy', export: doc });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual({ created: r.body.created, updated: r.body.updated, skipped: r.body.skipped, failed: r.body.failed }, { created: 4, updated: 0, skipped: 1, failed: [] });
    for (const rel of ['', '/alpha', '/alpha/leaf', '/beta']) {
      assert.deepEqual((await zk.getData('/copy' + rel)).data, (await zk.getData('/svc' + rel)).data, rel);
      assert.deepEqual((await zk.getACL('/copy' + rel)).acl, (await zk.getACL('/svc' + rel)).acl, rel);
    }
    assert.equal(await zk.exists('/copy/live'), null);
    // Again: everything exists; without overwrite it is skipped, with overwrite data is set.
    await zk.setData('/copy/beta', Buffer.from('changed'), -1);
    r = await b.post('import', { root: '/copy', export: doc });
    assert.deepEqual([r.body.created, r.body.skipped], [0, 5]);
    assert.equal((await zk.getData('/copy/beta')).data!.toString(), 'changed');
    r = await b.post('import', { root: '/copy', export: doc, overwrite: true });
    assert.deepEqual([r.body.created, r.body.updated, r.body.skipped], [0, 4, 1]);
    assert.equal((await zk.getData('/copy/beta')).data, null);
  });
});

test('chart figures come from the metrics registry and move with requests; standalone ensemble view', async () => {
  await withConsole(async (srv, base, zk) => {
    const b = new Browser(base);
    const s1 = (await b.get('metrics')).body;
    for (const k of ['requests', 'read_p50', 'read_p99', 'write_p99', 'outstanding_requests', 'connections', 'sessions', 'watches']) assert.equal(typeof s1[k], 'number', k);
    await zk.create('/m', null, { acl: OPEN });
    await Promise.all(Array.from({ length: 200 }, () => zk.getData('/m')));
    await zk.exists('/m', () => {});
    const s2 = (await b.get('metrics')).body;
    assert.ok(s2.requests >= s1.requests + 202, `${s1.requests} -> ${s2.requests}`);
    assert.equal(s2.watches, 1);
    assert.equal(s2.connections, 1);
    assert.equal(s2.sessions, 1);
    assert.ok(s2.t >= s1.t);
    // The same numbers mntr reports.
    const mntr = (await (await fetch(`http://127.0.0.1:${srv.server.admin!.port}/commands/monitor`)).json()) as Record<string, any>;
    assert.equal(mntr.cnt_readlatency + mntr.cnt_updatelatency, s2.requests + 0, 'requests = mntr cnt_readlatency + cnt_updatelatency');

    const e = (await b.get('ensemble')).body;
    assert.equal(e.standalone, true);
    assert.equal(e.members.length, 1);
    assert.equal(e.members[0].role, 'standalone');
    assert.equal(e.members[0].zxid, hex(srv.server.lastZxid));
    assert.equal(e.members[0].lag, 0);
  });
});

test('the AdminServer stopping ends console logins (no client left reconnecting)', async () => {
  const srv = await startServer({ adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 });
  const b = new Browser(`http://127.0.0.1:${srv.server.admin!.port}/console`);
  assert.equal((await b.login('a', 'b')).status, 200);
  const started = Date.now();
  await srv.stop();
  assert.ok(Date.now() - started < 5000, 'stop does not wait on console sessions');
});

/** A POST/GET from a chosen local address (127.0.0.2 is loopback too on Linux). */
function fromAddress(localAddress: string, url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a login acts with the browser\'s ip identity, not the console\'s own loopback address', async () => {
  await withConsole(async (_srv, base, zk) => {
    await zk.create('/local-only', Buffer.from('for 127.0.0.1'), { acl: [{ perms: Perm.ALL, id: { scheme: 'ip', id: '127.0.0.1' } }] });
    await zk.create('/dot2-only', Buffer.from('for 127.0.0.2'), { acl: [{ perms: Perm.ALL, id: { scheme: 'ip', id: '127.0.0.2' } }] });
    const login = async (addr: string): Promise<string> => {
      const r = await fromAddress(addr, `${base}/api/login`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ user: 'u', password: 'p' }));
      assert.equal(r.status, 200);
      return String(r.headers['set-cookie']![0]).split(';')[0]!;
    };
    const read = async (addr: string, cookie: string, p: string) => (await fromAddress(addr, `${base}/api/node?path=${encodeURIComponent(p)}`, 'GET', { cookie })).status;
    const local = await login('127.0.0.1');
    const dot2 = await login('127.0.0.2');
    assert.equal(await read('127.0.0.1', local, '/local-only'), 200);
    assert.equal(await read('127.0.0.1', local, '/dot2-only'), 403);
    assert.equal(await read('127.0.0.2', dot2, '/local-only'), 403, 'a browser elsewhere does not get the console\'s loopback identity');
    assert.equal(await read('127.0.0.2', dot2, '/dot2-only'), 200);
  });
});

test('one address cannot pile up logins: its oldest is closed past 16, other addresses keep theirs', async () => {
  await withConsole(async (srv, base) => {
    const r = await fromAddress('127.0.0.2', `${base}/api/login`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ user: 'keep', password: 'me' }));
    assert.equal(r.status, 200);
    const otherCookie = String(r.headers['set-cookie']![0]).split(';')[0]!;
    const before = srv.server.tracker.sessions.size;
    const first = new Browser(base);
    await first.login('u', 'p');
    for (let i = 0; i < 16; i++) assert.equal((await new Browser(base).login(`u${i}`, 'p')).status, 200);
    assert.equal((await first.get('session')).status, 401, 'the oldest login of the address went');
    assert.equal((await fromAddress('127.0.0.2', `${base}/api/session`, 'GET', { cookie: otherCookie })).status, 200, 'another address keeps its login');
    for (let i = 0; i < 100 && srv.server.tracker.sessions.size > before + 16; i++) await sleep(20);
    assert.equal(srv.server.tracker.sessions.size, before + 16, 'and its ZooKeeper session was closed');
  });
});
