// PersistentNode and PersistentTtlNode against our server: the node comes back after deletion, a
// cut connection and an expired session (in the new session, with the latest data), and the
// initial-create wait honours timeouts and AbortSignal. Connections go through a TcpProxy so the
// test can cut them; the session timeout is short so expiry takes well under a second.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZooKeeper } from '../../src/client/index.js';
import { PersistentNode, PersistentTtlNode, RenewingSession } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
import { TcpProxy } from '../client/TcpProxy.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
let observer: ZooKeeper;
before(async () => {
  server = await startServer({ tickTime: 100, containerCheckIntervalMs: 100, extendedTypesEnabled: true });
  observer = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
});
after(async () => {
  await observer.close();
  await server.stop();
});

const dataOf = async (path: string) => (await observer.getData(path)).data?.toString();

test('an ephemeral PersistentNode is created, recreated after deletion with its latest data, and deleted on close', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  const node = new PersistentNode(zk, '/pn/a/b/eph', { data: 'v1' });
  node.start();
  assert.equal(await node.waitForInitialCreate(5000), true);
  assert.equal(node.actualPath, '/pn/a/b/eph');
  const st = await observer.exists('/pn/a/b/eph');
  assert.equal(st?.ephemeralOwner, zk.getSessionId());
  assert.equal(await dataOf('/pn/a/b/eph'), 'v1');
  await node.setData('v2');
  assert.equal(await dataOf('/pn/a/b/eph'), 'v2');
  // Someone deletes it: it comes back with v2.
  await observer.delete('/pn/a/b/eph');
  await eventually(async () => (await observer.exists('/pn/a/b/eph')) !== null, 5000, 'recreation after delete');
  assert.equal(await dataOf('/pn/a/b/eph'), 'v2');
  assert.equal(node.creations, 2);
  // Someone else's write is left alone (only a take-over writes our data).
  await observer.setData('/pn/a/b/eph', 'theirs');
  await sleep(200);
  assert.equal(await dataOf('/pn/a/b/eph'), 'theirs');
  await node.close();
  assert.equal(await observer.exists('/pn/a/b/eph'), null);
  assert.equal(await node.waitForInitialCreate(0), true, 'created once, so the wait is over');
  await zk.close();
});

test('a node that exists already is taken over with our data', async () => {
  await observer.create('/pn-takeover', 'old');
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  const node = new PersistentNode(zk, '/pn-takeover', { mode: 'PERSISTENT', data: 'new' });
  node.start();
  assert.equal(await node.waitForInitialCreate(5000), true);
  assert.equal(await dataOf('/pn-takeover'), 'new');
  assert.equal(node.creations, 0);
  await node.close();
  assert.equal(await observer.exists('/pn-takeover'), null);
  await zk.close();
});

test('protected ephemeral-sequential: one GUID-named node, recreated under the same name', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  const node = new PersistentNode(zk, '/pn-seq/member-', { mode: 'EPHEMERAL_SEQUENTIAL', useProtection: true, data: 'x' });
  node.start();
  assert.equal(await node.waitForInitialCreate(5000), true);
  const name = node.actualPath!.slice('/pn-seq/'.length);
  assert.match(name, /^_c_[0-9a-f-]{36}-member-\d{10}$/);
  await observer.delete(node.actualPath!);
  await eventually(async () => (await observer.getChildren('/pn-seq')).includes(name), 5000, 'recreation under the same name');
  assert.deepEqual(await observer.getChildren('/pn-seq'), [name]);
  await node.close();
  assert.deepEqual(await observer.getChildren('/pn-seq'), []);
  await zk.close();
});

test('the node survives a cut connection (same session) and an expired session (new session, latest data)', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const rs = await RenewingSession.connect(proxy.connectString, { sessionTimeout: 600, retryDelay: 20, connectTimeout: 5000 });
  const node = new PersistentNode(rs, '/pn-exp/eph', { data: 'first' });
  node.start();
  assert.equal(await node.waitForInitialCreate(5000), true);
  const firstSession = rs.client.getSessionId();
  proxy.sever();
  await rs.client.waitConnected(5000);
  assert.equal(rs.client.getSessionId(), firstSession, 'a cut is not an expiry');
  assert.equal((await observer.exists('/pn-exp/eph'))?.ephemeralOwner, firstSession);
  await node.setData('second');

  // Block the proxy until the server expires the session and removes the node.
  proxy.block();
  proxy.sever();
  for (;;) {
    const w = await observer.exists('/pn-exp/eph', true);
    if (w.stat === null) break;
    await w.watch; // a data change (the take-over after the cut) or the deletion
  }
  const expiredAt = Date.now();
  proxy.block(false);
  await eventually(async () => (await observer.exists('/pn-exp/eph')) !== null, 10000, 'recreation in a new session');
  const back = Date.now() - expiredAt;
  const st = await observer.exists('/pn-exp/eph');
  assert.notEqual(st!.ephemeralOwner, firstSession);
  assert.equal(st!.ephemeralOwner, rs.client.getSessionId());
  assert.equal(rs.renewals, 1);
  assert.equal(await dataOf('/pn-exp/eph'), 'second');
  assert.ok(back < 5000, `took ${back} ms to come back`);
  await node.close();
  assert.equal(await observer.exists('/pn-exp/eph'), null);
  await rs.close();
  await proxy.stop();
});

test('with a plain client, session expiry closes the PersistentNode', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 600, retryDelay: 20 });
  const node = new PersistentNode(zk, '/pn-plain');
  const closed = new Promise<void>((r) => node.once('closed', r));
  node.start();
  assert.equal(await node.waitForInitialCreate(5000), true);
  proxy.block();
  proxy.sever();
  await closed;
  assert.equal(zk.state, 'expired');
  proxy.block(false);
  await proxy.stop();
  await zk.close();
});

test('waitForInitialCreate: false after its timeout, AbortSignal rejects, true once the server answers', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000 });
  proxy.stall(); // the create goes nowhere for now
  const node = new PersistentNode(zk, '/pn-wait', { mode: 'PERSISTENT', data: 'w' });
  await assert.rejects(node.waitForInitialCreate(10), /not started/);
  node.start();
  assert.equal(await node.waitForInitialCreate(200), false);
  const ac = new AbortController();
  const waiting = node.waitForInitialCreate({ signal: ac.signal });
  ac.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  const longWait = node.waitForInitialCreate({ timeoutMs: 10000 });
  proxy.stall(false);
  proxy.sever(); // the stalled connection is dropped; the reconnect kicks the create
  assert.equal(await longWait, true);
  assert.equal(await dataOf('/pn-wait'), 'w');
  await node.close();
  await zk.close();
  await proxy.stop();
});

test('PersistentTtlNode: a container with a TTL child touched every ttl/2; gone after close once the TTL passes', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  const ttl = new PersistentTtlNode(zk, '/pn-ttl/svc', 600, { data: 'hello' });
  assert.equal(ttl.touchEveryMs, 300);
  ttl.start();
  assert.equal(await ttl.waitForInitialCreate(5000), true);
  assert.equal(await dataOf('/pn-ttl/svc'), 'hello');
  await eventually(() => ttl.touches >= 1, 5000, 'first touch');
  const m1 = (await observer.exists('/pn-ttl/svc/touch'))!.mtime;
  await eventually(() => ttl.touches >= 3, 5000, 'more touches');
  const m2 = (await observer.exists('/pn-ttl/svc/touch'))!.mtime;
  assert.ok(m2 > m1, 'the touch node was not rewritten');
  // Kept alive well past its TTL while touched.
  await sleep(1200);
  assert.ok(await observer.exists('/pn-ttl/svc/touch'));
  await ttl.setData('bye');
  assert.equal(await dataOf('/pn-ttl/svc'), 'bye');
  await ttl.close();
  // Not deleted by close: the TTL removes the child, then the container goes.
  assert.ok(await observer.exists('/pn-ttl/svc'));
  await eventually(async () => (await observer.exists('/pn-ttl/svc')) === null, 10000, 'TTL and container reaping');
  await zk.close();
});

test('RenewingSession: a new session after expiry, announced once; close while renewing ends the attempts', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const rs = await RenewingSession.connect(proxy.connectString, { sessionTimeout: 600, retryDelay: 20, connectTimeout: 1000 });
  const first = rs.client;
  const sessions: ZooKeeper[] = [];
  rs.on('session', (zk) => sessions.push(zk));
  proxy.block();
  proxy.sever();
  await eventually(() => first.state === 'expired', 5000, 'local expiry');
  await sleep(300); // renewal attempts fail while blocked
  assert.equal(sessions.length, 0);
  proxy.block(false);
  await eventually(() => sessions.length === 1, 10000, 'renewed session');
  assert.equal(rs.client, sessions[0]);
  assert.notEqual(rs.client.getSessionId(), first.getSessionId());
  assert.equal(rs.renewals, 1);
  // Expire again, and close while the replacement cannot connect: close returns and no session follows.
  proxy.block();
  proxy.sever();
  await eventually(() => rs.client.state === 'expired', 5000, 'second local expiry');
  await rs.close();
  proxy.block(false);
  await sleep(300);
  assert.equal(sessions.length, 1);
  assert.equal(rs.isClosed, true);
  await proxy.stop();
});
