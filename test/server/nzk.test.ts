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
