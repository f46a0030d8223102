// Web console over real HTTP on loopback, without a login: the page and its static files, the
// read-only node/stats/connections API, and the per-node READ check made with the HTTP peer's ip
// identity. The logged-in API is in console-api.test.ts, the browser in console-browser.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { assetDir } from '../../src/server/Console.js';
import { startServer, type TestServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode, Perm } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import { digestId } from '../../src/auth/AuthProviders.js';

const OPEN = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const hex = (n: number | bigint): string => '0x' + BigInt.asUintN(64, BigInt(n)).toString(16);

type Acl = Array<{ perms: number; id: { scheme: string; id: string } }>;

async function withConsole(fn: (srv: TestServer, base: string) => Promise<void>, overrides = {}): Promise<void> {
  const srv = await startServer({ adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0, ...overrides });
  try {
    await fn(srv, `http://127.0.0.1:${srv.server.admin!.port}/console`);
  } finally {
    await srv.stop();
  }
}

async function create(c: RawClient, path: string, data: Buffer | null, acl: Acl = OPEN): Promise<void> {
  const r = await c.request(OpCode.create, R.CreateRequest, { path, data, acl, flags: 0 });
  assert.equal(r.err, Err.OK, `create ${path}`);
}

async function statOf(c: RawClient, path: string): Promise<R.Stat> {
  const r = await c.request(OpCode.exists, R.ExistsRequest, { path, watch: false });
  assert.equal(r.err, Err.OK);
  return R.ExistsResponse.read(r.body).stat;
}

async function node(base: string, path: string): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(`${base}/api/node?path=${encodeURIComponent(path)}`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

test('GET /console/ serves the page and its static files under a strict CSP, no inline code', async () => {
  await withConsole(async (_srv, base) => {
    const redirect = await fetch(base, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/console/');
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const html = await res.text();
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<title>ZooKeeper console<\/title>/);
    for (const id of ['tree', 'node-pane', 'charts', 'ensemble', 'conns', 'login-dlg', 'delete-dlg', 'search']) assert.match(html, new RegExp(`id="${id}"`));
    // Only the two files of this server; nothing inline for the CSP to allow.
    assert.deepEqual([...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => [m[1]!.trim(), m[2]]), [['src="/console/static/console.js" defer', '']]);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    assert.doesNotMatch(html, /https?:\/\//, 'no absolute URLs');
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');

    const js = await fetch(`${base}/static/console.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type')!, /^text\/javascript/);
    const code = await js.text();
    assert.doesNotMatch(code, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/, 'znode text only ever reaches the page as text');
    const css = await fetch(`${base}/static/console.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type')!, /^text\/css/);
    await css.text();
    for (const bad of ['/static/nosuch.js', '/static/../Console.js', '/static/%2e%2e/Console.js', '/static/']) {
      const r = await fetch(`${base}${bad}`);
      assert.equal(r.status, 404, bad);
      await r.text();
    }
    assert.equal((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${base}/api/node`, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${base}/api/create`)).status, 405);
    assert.equal((await fetch(`${base}/api/nosuch`)).status, 404);
  });
});

test('node API: data, Stat with hex zxids and ISO times, ACL and sorted children', async () => {
  await withConsole(async (_srv, base) => {
    const c = await RawClient.connect(_srv.port);
    try {
      await create(c, '/app', Buffer.from('hello wörld'));
      await create(c, '/app/b', null);
      await create(c, '/app/a', Buffer.from([0, 1, 2, 0xff]));
      const st = await statOf(c, '/app');
      const r = await node(base, '/app');
      assert.equal(r.status, 200);
      assert.equal(r.body.path, '/app');
      assert.deepEqual(r.body.children, ['a', 'b']);
      assert.deepEqual(r.body.data, { utf8: 'hello wörld', base64: Buffer.from('hello wörld').toString('base64'), binary: false, length: 12, truncated: false });
      assert.deepEqual(r.body.stat, {
        czxid: hex(st.czxid), mzxid: hex(st.mzxid), pzxid: hex(st.pzxid),
        ctime: new Date(st.ctime).toISOString(), mtime: new Date(st.mtime).toISOString(),
        version: 0, cversion: 2, aversion: 0, ephemeralOwner: '0x0', dataLength: 12, numChildren: 2,
      });
      assert.match(r.body.stat.czxid, /^0x[0-9a-f]+$/);
      assert.deepEqual(r.body.acl, [{ perms: Perm.ALL, scheme: 'world', id: 'anyone' }]);

      const bin = await node(base, '/app/a');
      assert.deepEqual(bin.body.data, { utf8: null, base64: 'AAEC/w==', binary: true, length: 4, truncated: false });
      assert.deepEqual(bin.body.children, []);
      const empty = await node(base, '/app/b');
      assert.deepEqual(empty.body.data, { utf8: '', base64: '', binary: false, length: 0, truncated: false });

      const root = await node(base, '/');
      assert.deepEqual(root.body.children, ['app', 'zookeeper']);

      const missing = await node(base, '/app/nope');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, { path: '/app/nope', error: 'NoNode' });
      for (const bad of ['app', '/app/', '/a//b', '/a/./b']) assert.equal((await node(base, bad)).status, 400, bad);
    } finally {
      c.close();
    }
  });
});

test('node API cuts data at 64 KiB without splitting a UTF-8 character', async () => {
  await withConsole(async (srv, base) => {
    const c = await RawClient.connect(srv.port);
    try {
      const big = Buffer.from('x' + 'é'.repeat(40000)); // 80001 bytes; byte 65535 starts an é
      await create(c, '/big', big);
      const r = await node(base, '/big');
      assert.equal(r.body.data.truncated, true);
      assert.equal(r.body.data.length, big.length);
      assert.deepEqual(Buffer.from(r.body.data.base64, 'base64'), big.subarray(0, 65536));
      assert.equal(r.body.data.utf8, 'x' + 'é'.repeat(32767));
      assert.equal(r.body.stat.dataLength, big.length);
    } finally {
      c.close();
    }
  });
});

test('node API enforces READ with the HTTP peer ip identity, like a client from that address', async () => {
  await withConsole(async (srv, base) => {
    const c = await RawClient.connect(srv.port);
    try {
      const alice = digestId('alice:secret');
      await create(c, '/locked', Buffer.from('topsecret-value'), [{ perms: Perm.ALL, id: { scheme: 'digest', id: alice } }]);
      await create(c, '/mine', Buffer.from('for loopback'), [{ perms: Perm.READ, id: { scheme: 'ip', id: '127.0.0.1' } }]);
      await create(c, '/theirs', Buffer.from('not for loopback'), [{ perms: Perm.ALL, id: { scheme: 'ip', id: '10.0.0.0/8' } }]);
      await create(c, '/mixed', Buffer.from('readable'), [
        { perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } },
        { perms: Perm.ALL, id: { scheme: 'digest', id: alice } },
      ]);

      const locked = await node(base, '/locked');
      assert.equal(locked.status, 403);
      assert.deepEqual(locked.body, { path: '/locked', error: 'NoAuth' });
      assert.ok(!locked.text.includes('topsecret'));
      assert.ok(!locked.text.includes(Buffer.from('topsecret-value').toString('base64')));
      assert.ok(!locked.text.includes(alice.split(':')[1]!), 'no digest hash');

      const mine = await node(base, '/mine');
      assert.equal(mine.status, 200);
      assert.equal(mine.body.data.utf8, 'for loopback');
      assert.equal((await node(base, '/theirs')).status, 403);

      // READ without ADMIN: the ACL is shown as getACL shows it, digest hash masked.
      const mixed = await node(base, '/mixed');
      assert.equal(mixed.status, 200);
      assert.deepEqual(mixed.body.acl, [
        { perms: Perm.READ, scheme: 'world', id: 'anyone' },
        { perms: Perm.ALL, scheme: 'digest', id: 'alice:x' },
      ]);

      // Existence and names stay visible through the readable parent, as getChildren shows them.
      assert.deepEqual((await node(base, '/')).body.children, ['locked', 'mine', 'mixed', 'theirs', 'zookeeper']);
    } finally {
      c.close();
    }
  });
});

test('skipACL lets the console read everything, as it lets every client', async () => {
  await withConsole(
    async (srv, base) => {
      const c = await RawClient.connect(srv.port);
      try {
        await create(c, '/locked', Buffer.from('v'), [{ perms: Perm.ALL, id: { scheme: 'digest', id: digestId('a:b') } }]);
        const r = await node(base, '/locked');
        assert.equal(r.status, 200);
        assert.equal(r.body.data.utf8, 'v');
      } finally {
        c.close();
      }
    },
    { skipACL: true },
  );
});

test('stats and connections reflect a connected client and its watch', async () => {
  await withConsole(async (srv, base) => {
    const c = await RawClient.connect(srv.port);
    try {
      await create(c, '/w', null);
      await c.request(OpCode.exists, R.ExistsRequest, { path: '/w', watch: true });
      await c.request(OpCode.getData, R.GetDataRequest, { path: '/w', watch: true });
      const stats = (await (await fetch(`${base}/api/stats`)).json()) as Record<string, any>;
      assert.equal(stats.server_state, 'standalone');
      assert.equal(stats.num_alive_connections, 1);
      assert.equal(stats.znode_count, 6);
      assert.equal(stats.watch_count, 1);
      assert.equal(stats.zxid, hex(srv.server.lastZxid));
      assert.notEqual(stats.zxid, '0x0');
      assert.deepEqual(stats.watch_summary, { num_connections: 1, num_paths: 1, num_total_watches: 1 });
      for (const k of ['min_latency', 'avg_latency', 'max_latency', 'outstanding_requests', 'uptime']) assert.equal(typeof stats[k], 'number', k);

      const conns = (await (await fetch(`${base}/api/connections`)).json()) as { connections: Array<Record<string, any>> };
      assert.equal(conns.connections.length, 1);
      const one = conns.connections[0]!;
      assert.equal(one.session_id, hex(c.sessionId));
      assert.equal(one.last_operation, 'GETD');
      assert.match(one.remote_socket_address, /^127\.0\.0\.1:\d+$/);
      assert.ok(one.packets_received >= 4);
      assert.equal(one.outstanding_requests, 0);
    } finally {
      c.close();
    }
    // Poll: the server notices the close asynchronously.
    for (let i = 0; i < 50; i++) {
      const s = (await (await fetch(`${base}/api/stats`)).json()) as Record<string, any>;
      if (s.num_alive_connections === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail('connection count never dropped to 0');
  });
});

test('the build copies the static files next to the compiled console; a checkout serves them from src/', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'console-assets-'));
  try {
    const script = path.resolve('scripts', 'copy-console-assets.mjs');
    await new Promise<void>((resolve, reject) => execFile(process.execPath, [script, out], (e) => (e ? reject(e) : resolve())));
    const src = path.resolve('src', 'server', 'console', 'static');
    const names = fs.readdirSync(src).sort();
    assert.deepEqual(names, ['console.css', 'console.js', 'index.html']);
    for (const n of names) assert.deepEqual(fs.readFileSync(path.join(out, 'src', 'server', 'console', 'static', n)), fs.readFileSync(path.join(src, n)), n);
    // In this checkout the running console reads src/ (never a stale copy in dist/).
    const dir = assetDir();
    assert.equal(dir, src);
    assert.ok(fs.existsSync(path.join(dir, 'index.html')));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
