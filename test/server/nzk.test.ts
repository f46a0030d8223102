// The server through node-zookeeper-client (an independent implementation from npm):
// watches, ACLs and auth, the way an application uses them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/OurServer.js';
import { connectNzk, call, zk } from '../support/nzk.js';
import { Err } from '../../src/protocol/constants.js';

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(async () => srv.stop());

test('one-shot data, exist and child watches fire once each', async () => {
  const a = await connectNzk(srv.connectString);
  const b = await connectNzk(srv.connectString);
  try {
    const events: string[] = [];
    const rec = (tag: string) => (ev: any) => events.push(`${tag}:${ev.getName()}:${ev.getPath()}`);
    await call(a, 'exists', '/w1', rec('exist'));
    await call(b, 'create', '/w1', Buffer.from('a'));
    await call(a, 'getData', '/w1', rec('data'));
    await call(a, 'getChildren', '/w1', rec('child'));
    await call(b, 'setData', '/w1', Buffer.from('b'), -1);
    await call(b, 'setData', '/w1', Buffer.from('c'), -1);
    await call(b, 'create', '/w1/k', null);
    await call(b, 'create', '/w1/l', null);
    // A round trip on a orders us after every notification already sent.
    await call(a, 'exists', '/w1');
    assert.deepEqual(events, ['exist:NODE_CREATED:/w1', 'data:NODE_DATA_CHANGED:/w1', 'child:NODE_CHILDREN_CHANGED:/w1']);
  } finally {
    a.close();
    b.close();
  }
});

test('digest ACLs through addAuthInfo, setACL/getACL with aversion', async () => {
  const owner = await connectNzk(srv.connectString);
  const other = await connectNzk(srv.connectString);
  try {
    owner.addAuthInfo('digest', Buffer.from('bob:pw'));
    const acl = [new zk.ACL(zk.Permission.ALL, new zk.Id('auth', '')), new zk.ACL(zk.Permission.READ, new zk.Id('world', 'anyone'))];
    await call(owner, 'create', '/acl', Buffer.from('x'), acl);
    const [got, stat] = await call<[any[], any]>(owner, 'getACL', '/acl');
    assert.deepEqual(got.map((x) => `${x.id.scheme}:${x.id.id}:${x.permission}`), ['digest:bob:ikIaKsbtGweaHnb/jKn7OHqbunM=:31', 'world:anyone:1']);
    assert.equal(stat.aversion, 0);
    const [d] = await call<[Buffer]>(other, 'getData', '/acl');
    assert.equal(d.toString(), 'x');
    await assert.rejects(call(other, 'setData', '/acl', Buffer.from('y'), -1), (e: any) => e.code === Err.NoAuth);
    // ACL fix-up comes before the permission check: `auth` without credentials is InvalidACL.
    await assert.rejects(call(other, 'setACL', '/acl', acl, -1), (e: any) => e.code === Err.InvalidACL);
    const open = [new zk.ACL(zk.Permission.ALL, new zk.Id('world', 'anyone'))];
    await assert.rejects(call(other, 'setACL', '/acl', open, -1), (e: any) => e.code === Err.NoAuth);
    const [masked] = await call<[any[]]>(other, 'getACL', '/acl');
    assert.equal(masked[0].id.id, 'bob:x', 'digest ids are masked for callers without ADMIN');
    await assert.rejects(call(owner, 'setACL', '/acl', acl, 3), (e: any) => e.code === Err.BadVersion);
    const [st] = await call<[any]>(owner, 'setACL', '/acl', [new zk.ACL(zk.Permission.ALL, new zk.Id('world', 'anyone'))], 0);
    assert.equal(st.aversion, 1);
    await call(other, 'setData', '/acl', Buffer.from('z'), -1);
  } finally {
    owner.close();
    other.close();
  }
});

test('ephemeral sequential lock-style children in creation order', async () => {
  const cs = await Promise.all([0, 1, 2].map(() => connectNzk(srv.connectString)));
  try {
    await call(cs[0], 'create', '/lock', null);
    const names: string[] = [];
    for (const c of cs) {
      const [p] = await call<[string]>(c, 'create', '/lock/n-', null, zk.CreateMode.EPHEMERAL_SEQUENTIAL);
      names.push(p);
    }
    assert.deepEqual(names, ['/lock/n-0000000000', '/lock/n-0000000001', '/lock/n-0000000002']);
    cs[1].close();
    await new Promise((r) => setTimeout(r, 200));
    const [children] = await call<[string[]]>(cs[0], 'getChildren', '/lock');
    assert.deepEqual(children.sort(), ['n-0000000000', 'n-0000000002']);
  } finally {
    for (const c of cs) c.close();
  }
});

test('node-zookeeper-client across a dropped connection: same session, missed watch fires via setWatches', async () => {
  const { TcpProxy } = await import('../client/TcpProxy.js');
  const proxy = await new TcpProxy(srv.port).start();
  const other = await connectNzk(srv.connectString);
  const c = await connectNzk(proxy.connectString, 4000);
  try {
    await call(c, 'create', '/moving', Buffer.from('1'));
    const sid = c.getSessionId().toString('hex');
    let fire!: (ev: any) => void;
    const fired = new Promise<any>((resolve) => (fire = resolve));
    await call(c, 'getData', '/moving', (ev: any) => fire(ev));
    const states: string[] = [];
    c.on('state', (s: any) => states.push(String(s)));
    proxy.block();
    proxy.sever();
    // Changed while the client is away: it must hear about it when it comes back.
    await call(other, 'setData', '/moving', Buffer.from('2'), -1);
    await new Promise((r) => setTimeout(r, 300));
    proxy.block(false);
    const ev = await fired;
    assert.equal(ev.getName(), 'NODE_DATA_CHANGED');
    assert.equal(c.getSessionId().toString('hex'), sid, 'the same session was resumed');
    assert.ok(states.some((s) => s.startsWith('DISCONNECTED')) && states.some((s) => s.startsWith('SYNC_CONNECTED')), states.join());
    const [d] = await call<[Buffer]>(c, 'getData', '/moving');
    assert.equal(d.toString(), '2');
  } finally {
    c.close();
    other.close();
    await proxy.stop();
  }
});

test('node-zookeeper-client sees its session expire when it stays away too long', async () => {
  const { TcpProxy } = await import('../client/TcpProxy.js');
  const proxy = await new TcpProxy(srv.port).start();
  const other = await connectNzk(srv.connectString);
  const c = await connectNzk(proxy.connectString, 400);
  try {
    await call(c, 'create', '/short-lived', null, zk.CreateMode.EPHEMERAL);
    const expired = new Promise<void>((resolve) => c.on('state', (s: any) => String(s).startsWith('EXPIRED') && resolve()));
    proxy.block();
    proxy.sever();
    // The server expires the silent session and deletes its ephemeral.
    for (let i = 0; i < 50; i++) {
      const [st] = await call<[any]>(other, 'exists', '/short-lived');
      if (st === null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await call<[any]>(other, 'exists', '/short-lived'))[0], null);
    proxy.block(false);
    await expired;
  } finally {
    c.close();
    other.close();
    await proxy.stop();
  }
});
