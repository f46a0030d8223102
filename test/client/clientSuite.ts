// The client's behavioural tests, written once and run against any ZooKeeper-compatible server:
// test/client/ZooKeeper.test.ts runs them against our in-process server,
// test/interop/client/ZooKeeper.interop.test.ts against Apache ZooKeeper 3.8.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Err, Ids, Perm, ZooKeeper, ZooKeeperError, type SessionState, type WatchedEvent } from '../../src/client/index.js';
import { TcpProxy } from './TcpProxy.js';

export interface Target {
  connectString: string;
  stop(): Promise<void>;
}

/** Polls `cond` until true or fails after `ms`. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms))),
  ]);
}

export function clientSuite(label: string, start: () => Promise<Target>): void {
  describe(`ZooKeeper client against ${label}`, () => {
    let target: Target;
    const clients: ZooKeeper[] = [];
    const proxies: TcpProxy[] = [];
    let n = 0;
    const uniq = (p: string) => `${p}-${process.pid}-${++n}`;
    const connect = async (cs = target.connectString, opts: ConstructorParameters<typeof ZooKeeper>[1] = {}) => {
      const zk = await ZooKeeper.connect(cs, { sessionTimeout: 4000, retryDelay: 20, ...opts });
      clients.push(zk);
      return zk;
    };
    const proxy = async () => {
      const port = Number(target.connectString.split(':')[1]);
      const p = await new TcpProxy(port).start();
      proxies.push(p);
      return p;
    };

    before(async () => {
      target = await start();
    });
    after(async () => {
      for (const zk of clients) await zk.close().catch(() => {});
      for (const p of proxies) await p.stop();
      await target.stop();
    });

    test('create, getData, setData, delete with typed results and errors', async () => {
      const zk = await connect();
      const p = uniq('/crud');
      assert.equal(await zk.create(p, 'v1'), p);
      const { data, stat } = await zk.getData(p);
      assert.equal(data!.toString(), 'v1');
      assert.equal(stat.version, 0);
      assert.equal(stat.dataLength, 2);
      assert.equal(stat.ephemeralOwner, 0n);
      const s2 = await zk.setData(p, 'v2', 0);
      assert.equal(s2.version, 1);
      assert.ok(s2.mzxid > stat.mzxid);
      await assert.rejects(zk.setData(p, 'v3', 0), (e: unknown) => {
        assert.ok(e instanceof ZooKeeperError);
        assert.equal(e.code, Err.BadVersion);
        assert.equal(e.name, 'BadVersion');
        assert.equal(e.path, p);
        return true;
      });
      await assert.rejects(zk.create(p), { name: 'NodeExists', code: -110 });
      await zk.create(`${p}/child`);
      await assert.rejects(zk.delete(p), { name: 'NotEmpty', code: -111 });
      await assert.rejects(zk.getData(`${p}/nope`), { name: 'NoNode', code: -101 });
      await assert.rejects(zk.create('/no/such/parent/x'), { name: 'NoNode' });
      await assert.rejects(zk.create('bad-path'), { name: 'BadArguments', code: -8 });
      await zk.delete(`${p}/child`);
      await zk.delete(p, 1);
      assert.equal(await zk.exists(p), null);
      // null data and empty data are different things on the wire
      await zk.create(p, null);
      assert.equal((await zk.getData(p)).data, null);
      await zk.setData(p, Buffer.alloc(0));
      assert.deepEqual((await zk.getData(p)).data, Buffer.alloc(0));
    });

    test('create modes: ephemeral, sequential, container, TTL, create2 stat', async () => {
      const zk = await connect();
      const base = uniq('/modes');
      await zk.create(base);
      const e = await zk.create2(`${base}/e`, 'x', { mode: 'EPHEMERAL' });
      assert.equal(e.stat.ephemeralOwner, zk.getSessionId());
      const s1 = await zk.create(`${base}/s-`, null, { mode: 'PERSISTENT_SEQUENTIAL' });
      const s2 = await zk.create(`${base}/s-`, null, { mode: 'EPHEMERAL_SEQUENTIAL' });
      assert.match(s1, /\/s-\d{10}$/);
      assert.ok(s2 > s1);
      const c = await zk.create2(`${base}/cont`, null, { mode: 'CONTAINER' });
      assert.equal(c.path, `${base}/cont`);
      assert.equal(c.stat.ephemeralOwner, 0n);
      const t = await zk.create2(`${base}/ttl`, 'd', { mode: 'PERSISTENT_WITH_TTL', ttl: 60000 });
      assert.equal(t.stat.dataLength, 1);
      const ts = await zk.create(`${base}/ttls-`, 'd', { mode: 'PERSISTENT_SEQUENTIAL_WITH_TTL', ttl: 60000 });
      assert.match(ts, /ttls-\d{10}$/);
      await assert.rejects(zk.create(`${base}/bad`, 'd', { mode: 'PERSISTENT_WITH_TTL' }), { name: 'BadArguments' });
      assert.deepEqual((await zk.getEphemerals(base)).sort(), [`${base}/e`, s2].sort());
      assert.equal(await zk.getAllChildrenNumber(base), 6);
      // ephemerals disappear with the session
      await zk.close();
      const other = await connect();
      assert.equal(await other.exists(`${base}/e`), null);
      assert.equal(await other.exists(s2), null);
      assert.ok(await other.exists(s1));
    });

    test('ACLs and digest auth', async () => {
      const zk = await connect();
      const p = uniq('/acl');
      await zk.addAuth('digest', 'alice:secret');
      const who = await zk.whoAmI();
      assert.ok(who.some((w) => w.authScheme === 'digest' && w.user === 'alice'));
      await zk.create(p, 'secret', { acl: Ids.CREATOR_ALL_ACL });
      const { acl, stat } = await zk.getACL(p);
      assert.deepEqual(acl, [{ perms: Perm.ALL, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } }]);
      assert.equal(stat.aversion, 0);
      const stranger = await connect();
      await assert.rejects(stranger.getData(p), { name: 'NoAuth', code: -102 });
      const s = await zk.setACL(p, [...acl, { perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }], 0);
      assert.equal(s.aversion, 1);
      assert.equal((await stranger.getData(p)).data!.toString(), 'secret');
      await assert.rejects(stranger.setData(p, 'x'), { name: 'NoAuth' });
      await assert.rejects(zk.create(uniq('/acl-bad'), null, { acl: [] }), { name: 'InvalidACL' });
    });

    test('one-shot watches: promise and callback forms, each fires once', async () => {
      const zk = await connect();
      const writer = await connect();
      const p = uniq('/watch');
      const ex = await zk.exists(p, true);
      assert.equal(ex.stat, null);
      await writer.create(p, 'a');
      assert.deepEqual(await withTimeout(ex.watch, 3000, 'exists watch'), { type: 'NodeCreated', state: 'SyncConnected', path: p, zxid: (await ex.watch).zxid });
      const seen: WatchedEvent[] = [];
      await zk.getData(p, (e) => seen.push(e));
      const kids = await zk.getChildren(p, true);
      assert.deepEqual(kids.children, []);
      await writer.setData(p, 'b');
      await writer.setData(p, 'c');
      await writer.create(`${p}/k`);
      assert.equal((await withTimeout(kids.watch, 3000, 'child watch')).type, 'NodeChildrenChanged');
      await zk.sync(p);
      await eventually(() => seen.length >= 1);
      await sleep(50);
      assert.deepEqual(
        seen.map((e) => e.type),
        ['NodeDataChanged'],
      );
      const d = await zk.getData(p, true);
      await writer.delete(`${p}/k`);
      await writer.delete(p);
      assert.equal((await withTimeout(d.watch, 3000, 'delete watch')).type, 'NodeDeleted');
    });

    test('persistent and recursive watches; removeWatches and checkWatches', async () => {
      const zk = await connect();
      const writer = await connect();
      const p = uniq('/pw');
      await writer.create(p);
      const pers: WatchedEvent[] = [];
      const rec: WatchedEvent[] = [];
      // 3.8 servers keep one watch mode per (connection, path), so the two kinds watch different nodes
      const r = `${p}/r`;
      await writer.create(r);
      await zk.addWatch(p, (e) => pers.push(e), 'PERSISTENT');
      await zk.addWatch(r, (e) => rec.push(e), 'PERSISTENT_RECURSIVE');
      await writer.setData(p, '1');
      await writer.create(`${p}/a`);
      await writer.create(`${r}/a`);
      await writer.create(`${r}/a/b`);
      await writer.setData(`${r}/a/b`, '2');
      await writer.setData(r, '3');
      await writer.delete(`${r}/a/b`);
      await eventually(() => rec.length >= 5 && pers.length >= 2, 3000, 'persistent events');
      assert.deepEqual(
        pers.map((e) => `${e.type} ${e.path}`),
        [`NodeDataChanged ${p}`, `NodeChildrenChanged ${p}`],
      );
      // recursive watches see creates/changes/deletes below, but never NodeChildrenChanged
      assert.deepEqual(
        rec.map((e) => `${e.type} ${e.path}`),
        [`NodeCreated ${r}/a`, `NodeCreated ${r}/a/b`, `NodeDataChanged ${r}/a/b`, `NodeDataChanged ${r}`, `NodeDeleted ${r}/a/b`],
      );
      await zk.checkWatches(p, 'Any');
      await zk.removeWatches(p, 'Any');
      await zk.removeWatches(r, 'Any');
      assert.equal(pers.at(-1)!.type, 'PersistentWatchRemoved');
      assert.equal(rec.at(-1)!.type, 'PersistentWatchRemoved');
      await assert.rejects(zk.removeWatches(p, 'Any'), { name: 'NoWatcher', code: -121 });
      await assert.rejects(zk.checkWatches(p, 'Data'), { name: 'NoWatcher' });
      const before = rec.length;
      await writer.setData(r, '4');
      await zk.sync(p);
      await sleep(50);
      assert.equal(rec.length, before);
      // removing one specific data watcher leaves another in place
      const a: WatchedEvent[] = [];
      const b: WatchedEvent[] = [];
      const wa = (e: WatchedEvent) => a.push(e);
      await zk.getData(p, wa);
      await zk.getData(p, (e) => b.push(e));
      await zk.removeWatches(p, 'Data', { watcher: wa });
      assert.deepEqual(a.map((e) => e.type), ['DataWatchRemoved']);
      await writer.setData(p, '5');
      await eventually(() => b.length === 1, 3000, 'remaining watcher');
      assert.equal(a.length, 1);
    });

    test('multi via the transaction builder and multiRead', async () => {
      const zk = await connect();
      const p = uniq('/multi');
      const res = await zk.transaction().create(p, 'x').create(`${p}/c`, 'y').setData(p, 'z').check(p, 1).commit();
      assert.deepEqual(
        res.map((r) => r.type),
        ['create', 'create', 'setData', 'check'],
      );
      assert.equal(res[0]!.type === 'create' && res[0]!.path, p);
      await assert.rejects(zk.transaction().delete(`${p}/c`).create(`${p}/new`).setData(p, 'bad', 99).commit(), (e: unknown) => {
        assert.ok(e instanceof ZooKeeperError);
        assert.equal(e.name, 'BadVersion');
        assert.deepEqual(
          (e.results as Array<{ code: number }>).map((r) => r.code),
          [0, 0, Err.BadVersion],
        );
        return true;
      });
      assert.ok(await zk.exists(`${p}/c`), 'failed multi applied nothing');
      assert.equal(await zk.exists(`${p}/new`), null);
      const reads = await zk.multiRead([
        { type: 'getData', path: p },
        { type: 'getChildren', path: p },
        { type: 'getData', path: `${p}/missing` },
      ]);
      assert.equal(reads[0]!.type === 'getData' && reads[0]!.data!.toString(), 'z');
      assert.deepEqual(reads[1]!.type === 'getChildren' && reads[1]!.children, ['c']);
      assert.equal(reads[2]!.type === 'error' && reads[2]!.code, Err.NoNode);
    });

    test('chroot maps paths both ways, including watch events and sequential names', async () => {
      const root = await connect();
      const base = uniq('/chroot');
      await root.create(base);
      const zk = await connect(`${target.connectString}${base}`);
      assert.equal(await zk.create('/a', 'x'), '/a');
      assert.ok(await root.exists(`${base}/a`));
      assert.deepEqual(await zk.getChildren('/'), ['a']);
      const seq = await zk.create('/s-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
      assert.match(seq, /^\/s-\d{10}$/);
      assert.deepEqual(await zk.getEphemerals('/'), [seq]);
      const w = await zk.getData('/a', true);
      await root.setData(`${base}/a`, 'y');
      assert.equal((await withTimeout(w.watch, 3000, 'chroot watch')).path, '/a');
      const t = await zk.transaction().create('/b').commit();
      assert.equal(t[0]!.type === 'create' && t[0]!.path, '/b');
    });

    test('pipelining: thousands of requests in flight, replies matched in order', async () => {
      const zk = await connect();
      const p = uniq('/pipe');
      await zk.create(p);
      const N = 2000;
      const t0 = Date.now();
      const names = await Promise.all(Array.from({ length: N }, () => zk.create(`${p}/n-`, null, { mode: 'PERSISTENT_SEQUENTIAL' })));
      const ms = Date.now() - t0;
      // Sequence numbers follow submission order only if requests were sent and answered in order.
      for (let i = 0; i < N; i++) assert.equal(names[i], `${p}/n-${String(i).padStart(10, '0')}`);
      const reads = await Promise.all(names.slice(0, 500).map((name) => zk.exists(name)));
      assert.ok(reads.every((s) => s !== null));
      assert.equal(await zk.getAllChildrenNumber(p), N);
      assert.ok(ms < 20000, `2000 pipelined creates took ${ms} ms`);
    });

    test('connection loss: same session re-attached, ephemerals kept, missed change fires via setWatches', async () => {
      const px = await proxy();
      const zk = await connect(px.connectString);
      const writer = await connect();
      const p = uniq('/reconn');
      await zk.create(p, 'v0', { mode: 'EPHEMERAL' });
      const sid = zk.getSessionId();
      const dataWatch = await zk.getData(p, true);
      const pers: WatchedEvent[] = [];
      await zk.addWatch(p, (e) => pers.push(e), 'PERSISTENT');
      const states: SessionState[] = [];
      zk.on('state', (s) => states.push(s));
      // the outcome of a request in flight when the link dies is unknown: ConnectionLoss
      px.stall();
      const inflight = zk.getData(p);
      await sleep(20);
      px.block();
      px.sever();
      px.stall(false);
      await assert.rejects(inflight, { name: 'ConnectionLoss', code: -4 });
      await eventually(() => states.includes('disconnected'), 3000, 'disconnected');
      await writer.setData(p, 'changed while away');
      px.block(false);
      await zk.waitConnected(5000);
      assert.equal(zk.getSessionId(), sid);
      const ev = await withTimeout(dataWatch.watch, 3000, 'missed data change delivered after reconnect');
      assert.equal(ev.type, 'NodeDataChanged');
      assert.ok(await writer.exists(p), 'ephemeral survived the reconnect');
      // the persistent watch was re-registered with setWatches2
      await writer.setData(p, 'after');
      await eventually(() => pers.some((e) => e.type === 'NodeDataChanged'), 3000, 'persistent watch after reconnect');
      assert.deepEqual(states.slice(0, 2), ['disconnected', 'connecting']);
      assert.equal(states.at(-1), 'connected');
    });

    test('requests issued while disconnected wait for the reconnect', async () => {
      const px = await proxy();
      const zk = await connect(px.connectString);
      const p = uniq('/queued');
      px.block();
      px.sever();
      await eventually(() => zk.state !== 'connected', 3000, 'disconnect');
      const pending = zk.create(p, 'q');
      await sleep(100);
      px.block(false);
      assert.equal(await withTimeout(pending, 5000, 'queued create'), p);
    });

    test('failover to another host of the connection string', async () => {
      const dead = await proxy();
      const live = await proxy();
      dead.block();
      const zk = await connect(`${dead.connectString},${live.connectString}`);
      assert.equal(zk.getCurrentHost()!.port, live.port);
      const sid = zk.getSessionId();
      // swap roles: the live one dies, the dead one comes back; the session moves over
      dead.block(false);
      live.block();
      live.sever();
      await eventually(() => zk.isConnected && zk.getCurrentHost()!.port === dead.port, 5000, 'failover');
      assert.equal(zk.getSessionId(), sid);
      assert.ok(await zk.exists('/'));
    });

    test('session expiry: expired event, SessionExpired errors, watchers told', async () => {
      const px = await proxy();
      const zk = await connect(px.connectString, { sessionTimeout: 800 });
      const p = uniq('/expire');
      await zk.create(p, null, { mode: 'EPHEMERAL' });
      const w = await zk.exists(p, true);
      const iter = zk.states();
      const seen: SessionState[] = [];
      const collector = (async () => {
        for await (const s of iter) seen.push(s);
      })();
      px.block();
      px.sever();
      const observer = await connect();
      await eventually(async () => (await observer.exists(p)) === null, 10000, 'server expires the session');
      px.block(false);
      await withTimeout(collector, 10000, 'state iterator ends');
      assert.equal(zk.state, 'expired');
      assert.equal(seen.at(-1), 'expired');
      assert.ok(seen.includes('disconnected'));
      assert.deepEqual(await withTimeout(w.watch, 1000, 'watch settles'), { type: 'None', state: 'Expired', path: null, zxid: -1 });
      await assert.rejects(zk.getData('/'), { name: 'SessionExpired', code: -112 });
    });

    test('request timeout: a stalled server yields RequestTimeout', async () => {
      const px = await proxy();
      const zk = await connect(px.connectString, { sessionTimeout: 4000, requestTimeout: 300 });
      px.stall();
      const t0 = Date.now();
      await assert.rejects(zk.getData('/'), { name: 'RequestTimeout', code: -122 });
      assert.ok(Date.now() - t0 < 2000);
      const states: SessionState[] = [];
      zk.on('state', (st) => states.push(st));
      px.stall(false);
      px.sever();
      await eventually(() => states.includes('connected'), 3000, 'reconnected');
      assert.ok(await zk.exists('/'));
    });

    test('resuming a session by id and password from a second client object', async () => {
      // `a` goes through a proxy that is then cut and blocked, so it cannot win the session
      // back (a resume closes the session's other connection, and `a` would reconnect).
      const px = await proxy();
      const a = await connect(px.connectString);
      const p = uniq('/resume');
      await a.create(p, null, { mode: 'EPHEMERAL' });
      px.block();
      px.sever();
      const b = await connect(target.connectString, { sessionId: a.getSessionId(), sessionPassword: a.getSessionPassword() });
      assert.equal(b.getSessionId(), a.getSessionId());
      assert.deepEqual(await b.getEphemerals(p), [p]);
      // a wrong password yields an expired client, not a new session
      const bad = new ZooKeeper(target.connectString, { sessionId: a.getSessionId(), sessionPassword: Buffer.alloc(16, 7), retryDelay: 20 });
      clients.push(bad);
      await assert.rejects(bad.waitConnected(5000), { name: 'SessionExpired' });
      assert.equal(bad.state, 'expired');
    });

    test('close ends the session and rejects later calls', async () => {
      const zk = await connect();
      const events: string[] = [];
      zk.on('closed', () => events.push('closed'));
      const w = await zk.exists('/', true);
      await zk.close();
      assert.equal(zk.state, 'closed');
      assert.deepEqual(events, ['closed']);
      assert.equal((await w.watch).state, 'Closed');
      await assert.rejects(zk.exists('/'), { name: 'SessionExpired' });
      await zk.close();
    });
  });
}
