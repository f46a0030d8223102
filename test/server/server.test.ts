// The standalone server over real TCP: node-zookeeper-client for everyday use, a raw
// client where a test needs to see frames, ordering or a misbehaving peer.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, type TestServer } from '../support/OurServer.js';
import { connectNzk, call, zk } from '../support/nzk.js';
import { RawClient } from '../support/RawClient.js';
import { Err, OpCode, EventType } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import { digestId } from '../../src/auth/AuthProviders.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(word));
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('standalone server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ extendedTypesEnabled: true, maxClientCnxns: 20, superDigest: digestId('super:admin') });
  });
  after(async () => srv.stop());

  test('CRUD, Stat fields and sequential names through node-zookeeper-client', async () => {
    const c = await connectNzk(srv.connectString);
    try {
      const [p] = await call<[string]>(c, 'create', '/crud', Buffer.from('v0'));
      assert.equal(p, '/crud');
      const [s1] = await call<[string]>(c, 'create', '/crud/s-', Buffer.from('x'), zk.CreateMode.PERSISTENT_SEQUENTIAL);
      const [s2] = await call<[string]>(c, 'create', '/crud/s-', null, zk.CreateMode.PERSISTENT_SEQUENTIAL);
      assert.equal(s1, '/crud/s-0000000000');
      assert.equal(s2, '/crud/s-0000000001');
      await call(c, 'remove', s1, -1);
      const [s3] = await call<[string]>(c, 'create', '/crud/s-', null, zk.CreateMode.PERSISTENT_SEQUENTIAL);
      assert.equal(s3, '/crud/s-0000000002', 'sequence numbers are never reused');
      const [data, stat] = await call<[Buffer, any]>(c, 'getData', '/crud');
      assert.equal(data.toString(), 'v0');
      assert.equal(stat.version, 0);
      assert.equal(stat.numChildren, 2);
      assert.equal(stat.cversion, 4, '3 creates + 1 delete');
      await assert.rejects(call(c, 'setData', '/crud', Buffer.from('v1'), 5), (e: any) => e.code === Err.BadVersion);
      const [st2] = await call<[any]>(c, 'setData', '/crud', Buffer.from('v1'), 0);
      assert.equal(st2.version, 1);
      await assert.rejects(call(c, 'create', '/crud', null), (e: any) => e.code === Err.NodeExists);
      await assert.rejects(call(c, 'create', '/nope/x', null), (e: any) => e.code === Err.NoNode);
      await assert.rejects(call(c, 'remove', '/crud', -1), (e: any) => e.code === Err.NotEmpty);
      await assert.rejects(call(c, 'remove', '/zookeeper', -1), (e: any) => e.code === Err.BadArguments);
      const [children] = await call<[string[]]>(c, 'getChildren', '/');
      assert.ok(children.includes('zookeeper') && children.includes('crud'));
    } finally {
      c.close();
    }
  });

  test('ephemerals vanish when the session closes and watchers are told', async () => {
    const a = await connectNzk(srv.connectString);
    const b = await connectNzk(srv.connectString);
    await call(a, 'create', '/eph', null);
    await call(a, 'create', '/eph/e', null, zk.CreateMode.EPHEMERAL);
    await assert.rejects(call(a, 'create', '/eph/e/child', null), (e: any) => e.code === Err.NoChildrenForEphemerals);
    const fired = new Promise<any>((resolve) => b.exists('/eph/e', (ev: any) => resolve(ev), () => {}));
    a.close();
    const ev = await fired;
    assert.equal(ev.type, EventType.NodeDeleted);
    const [st] = await call<[any]>(b, 'exists', '/eph/e');
    assert.equal(st, null);
    b.close();
  });

  test('replies come back in request order; a read waits behind the session\'s own writes', async () => {
    const c = await RawClient.connect(srv.port);
    const ps = [
      c.request(OpCode.create, R.CreateRequest, { path: '/ord', data: Buffer.from('0'), acl: OPEN, flags: 0 }),
      c.request(OpCode.getData, R.GetDataRequest, { path: '/ord', watch: false }),
      c.request(OpCode.setData, R.SetDataRequest, { path: '/ord', data: Buffer.from('1'), version: -1 }),
      c.request(OpCode.getData, R.GetDataRequest, { path: '/ord', watch: false }),
      c.request(OpCode.exists, R.ExistsRequest, { path: '/ord', watch: false }),
      c.request(OpCode.delete, R.DeleteRequest, { path: '/ord', version: -1 }),
      c.request(OpCode.exists, R.ExistsRequest, { path: '/ord', watch: false }),
    ];
    const rs = await Promise.all(ps);
    assert.deepEqual(c.arrivals.map((a) => a.xid), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(rs[1]!.err, 0);
    assert.equal(R.GetDataResponse.read(rs[1]!.body).data!.toString(), '0');
    assert.equal(R.GetDataResponse.read(rs[3]!.body).data!.toString(), '1');
    assert.equal(rs[6]!.err, Err.NoNode);
    // Each write consumed one zxid, in order.
    assert.equal(rs[2]!.zxid, rs[0]!.zxid + 1);
    assert.equal(rs[5]!.zxid, rs[2]!.zxid + 1);
    c.close();
  });

  test('a watch event reaches a client before any later reply that shows the change', async () => {
    const watcher = await RawClient.connect(srv.port);
    const writer = await RawClient.connect(srv.port);
    await writer.request(OpCode.create, R.CreateRequest, { path: '/wb', data: Buffer.from('a'), acl: OPEN, flags: 0 });
    await watcher.request(OpCode.getData, R.GetDataRequest, { path: '/wb', watch: true });
    const write = writer.request(OpCode.setData, R.SetDataRequest, { path: '/wb', data: Buffer.from('b'), version: -1 });
    let sawNew = false;
    for (let i = 0; i < 200 && !sawNew; i++) {
      const r = await watcher.request(OpCode.getData, R.GetDataRequest, { path: '/wb', watch: false });
      if (R.GetDataResponse.read(r.body).data!.toString() === 'b') {
        sawNew = true;
        const idxEvent = watcher.arrivals.findIndex((a) => a.xid === -1);
        const idxReply = watcher.arrivals.findIndex((a) => a.xid === r.xid);
        assert.ok(idxEvent >= 0 && idxEvent < idxReply, 'event before the read that saw the change');
      }
    }
    await write;
    assert.ok(sawNew);
    assert.deepEqual(watcher.events.map((e) => [e.type, e.path]), [[EventType.NodeDataChanged, '/wb']]);
    watcher.close();
    writer.close();
  });

  test('session expiry deletes ephemerals; resume rules for password and expired ids', async () => {
    const a = await RawClient.connect(srv.port, { timeout: 400 });
    assert.equal(a.timeout, 400);
    await a.request(OpCode.create, R.CreateRequest, { path: '/exp', data: null, acl: OPEN, flags: 1 });
    // Wrong password: answered with timeOut 0, and the live connection of the session is closed first.
    const bad = await RawClient.connect(srv.port, { sessionId: a.sessionId, passwd: Buffer.alloc(16, 7) });
    assert.equal(bad.timeout, 0);
    assert.equal(bad.sessionId, 0n);
    assert.ok(await a.waitClosed());
    // The right password resumes the same session; its ephemeral is still there.
    const again = await RawClient.connect(srv.port, { sessionId: a.sessionId, passwd: a.passwd, timeout: 400 });
    assert.equal(again.sessionId, a.sessionId);
    const r = await again.request(OpCode.exists, R.ExistsRequest, { path: '/exp', watch: false });
    assert.equal(r.err, 0);
    assert.equal(R.ExistsResponse.read(r.body).stat.ephemeralOwner, a.sessionId);
    again.close();
    // Silence past timeout + one tick expires the session.
    await sleep(400 + 200 + 300);
    const probe = await RawClient.connect(srv.port);
    const gone = await probe.request(OpCode.exists, R.ExistsRequest, { path: '/exp', watch: false });
    assert.equal(gone.err, Err.NoNode);
    const late = await RawClient.connect(srv.port, { sessionId: a.sessionId, passwd: a.passwd });
    assert.equal(late.timeout, 0, 'expired session is refused');
    assert.ok(await late.waitClosed());
    probe.close();
  });

  test('timeouts are clamped into [min, max] session timeout', async () => {
    const lo = await RawClient.connect(srv.port, { timeout: 1 });
    const hi = await RawClient.connect(srv.port, { timeout: 10 ** 9 });
    assert.equal(lo.timeout, 400);
    assert.equal(hi.timeout, 4000);
    lo.close();
    hi.close();
  });

  test('closeSession: reply, then the server closes the socket', async () => {
    const c = await RawClient.connect(srv.port);
    const r = await c.request(OpCode.closeSession);
    assert.equal(r.err, 0);
    assert.ok(await c.waitClosed());
  });

  test('unknown opcode → Unimplemented and close; the server keeps serving', async () => {
    const c = await RawClient.connect(srv.port);
    const r = await c.request(999);
    assert.equal(r.err, Err.Unimplemented);
    assert.equal(r.zxid, -1);
    assert.ok(await c.waitClosed());
    const d = await RawClient.connect(srv.port);
    assert.equal((await d.request(OpCode.exists, R.ExistsRequest, { path: '/', watch: false })).err, 0);
    d.close();
  });

  test('frames over jute.maxbuffer and negative lengths close only that connection', async () => {
    const c = await RawClient.connect(srv.port);
    const hdr = Buffer.alloc(4);
    hdr.writeInt32BE(0xfffff + 1);
    c.writeRaw(hdr);
    assert.ok(await c.waitClosed());
    const n = await RawClient.connect(srv.port);
    n.writeRaw(Buffer.from('ffffffff', 'hex'));
    assert.ok(await n.waitClosed());
    const ok = await RawClient.connect(srv.port);
    assert.equal((await ok.request(OpCode.exists, R.ExistsRequest, { path: '/', watch: false })).err, 0);
    ok.close();
  });

  test('digest auth, ACL checks, getACL masking and the super user', async () => {
    const owner = await RawClient.connect(srv.port);
    const auth = await owner.request(100, R.AuthPacket, { type: 0, scheme: 'digest', auth: Buffer.from('alice:secret') }, -4);
    assert.equal(auth.err, 0);
    assert.equal(auth.zxid, 0);
    const cr = await owner.request(OpCode.create, R.CreateRequest, { path: '/sec', data: Buffer.from('s'), acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }], flags: 0 });
    assert.equal(cr.err, 0);
    const acl = await owner.request(OpCode.getACL, R.GetACLRequest, { path: '/sec' });
    assert.deepEqual(R.GetACLResponse.read(acl.body).acl, [{ perms: 31, id: { scheme: 'digest', id: 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=' } }]);
    const stranger = await RawClient.connect(srv.port);
    assert.equal((await stranger.request(OpCode.getData, R.GetDataRequest, { path: '/sec', watch: false })).err, Err.NoAuth);
    assert.equal((await stranger.request(OpCode.setData, R.SetDataRequest, { path: '/sec', data: null, version: -1 })).err, Err.NoAuth);
    const noAuthCreate = await stranger.request(OpCode.create, R.CreateRequest, { path: '/x', data: null, acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }], flags: 0 });
    assert.equal(noAuthCreate.err, Err.InvalidACL);
    const badIp = await stranger.request(OpCode.create, R.CreateRequest, { path: '/x', data: null, acl: [{ perms: 31, id: { scheme: 'ip', id: '1.2.3' } }], flags: 0 });
    assert.equal(badIp.err, Err.InvalidACL);
    const ipNode = await stranger.request(OpCode.create, R.CreateRequest, { path: '/iponly', data: null, acl: [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.0/8' } }], flags: 0 });
    assert.equal(ipNode.err, 0);
    assert.equal((await stranger.request(OpCode.getData, R.GetDataRequest, { path: '/iponly', watch: false })).err, 0);
    assert.equal((await stranger.request(OpCode.setData, R.SetDataRequest, { path: '/iponly', data: null, version: -1 })).err, Err.NoAuth);
    const su = await RawClient.connect(srv.port);
    await su.request(100, R.AuthPacket, { type: 0, scheme: 'digest', auth: Buffer.from('super:admin') }, -4);
    assert.equal((await su.request(OpCode.getData, R.GetDataRequest, { path: '/sec', watch: false })).err, 0);
    const who = await su.request(OpCode.whoAmI);
    assert.deepEqual(R.WhoAmIResponse.read(who.body).clientInfo.map((i) => i.authScheme), ['digest', 'super', 'ip']);
    const bad = await stranger.request(100, R.AuthPacket, { type: 0, scheme: 'nosuch', auth: Buffer.from('x') }, -4);
    assert.equal(bad.err, Err.AuthFailed);
    assert.ok(await stranger.waitClosed());
    owner.close();
    su.close();
  });

  test('multi: all or nothing with per-op results; one zxid for all', async () => {
    const c = await connectNzk(srv.connectString);
    const [res] = await call<[any[]]>(c.transaction().create('/m').create('/m/a').setData('/m', Buffer.from('z')), 'commit');
    assert.equal(res.length, 3);
    await assert.rejects(call(c.transaction().create('/m/b').create('/m/a'), 'commit'), (e: any) => e.code === Err.NodeExists);
    const [st] = await call<[any]>(c, 'exists', '/m/b');
    assert.equal(st, null, 'nothing of a failed multi is applied');
    c.close();
  });

  test('persistent and recursive watches via addWatch', async () => {
    const w = await RawClient.connect(srv.port);
    const o = await RawClient.connect(srv.port);
    await o.request(OpCode.create, R.CreateRequest, { path: '/pw', data: null, acl: OPEN, flags: 0 });
    const aw = await w.request(OpCode.addWatch, R.AddWatchRequest, { path: '/pw', mode: 1 });
    assert.equal(aw.err, 0);
    assert.equal(R.ErrorResponse.read(aw.body).err, 0, 'addWatch reply carries a 4-byte body');
    await o.request(OpCode.create, R.CreateRequest, { path: '/pw/a', data: null, acl: OPEN, flags: 0 });
    await o.request(OpCode.setData, R.SetDataRequest, { path: '/pw/a', data: Buffer.from('1'), version: -1 });
    await o.request(OpCode.setData, R.SetDataRequest, { path: '/pw/a', data: Buffer.from('2'), version: -1 });
    await o.request(OpCode.delete, R.DeleteRequest, { path: '/pw/a', version: -1 });
    const evs = await w.waitEvents(4);
    assert.deepEqual(evs.map((e) => [e.type, e.path]), [
      [EventType.NodeCreated, '/pw/a'], [EventType.NodeDataChanged, '/pw/a'], [EventType.NodeDataChanged, '/pw/a'], [EventType.NodeDeleted, '/pw/a'],
    ]);
    assert.equal((await w.request(OpCode.removeWatches, R.RemoveWatchesRequest, { path: '/pw', type: 3 })).err, 0);
    assert.equal((await w.request(OpCode.checkWatches, R.CheckWatchesRequest, { path: '/pw', type: 3 })).err, Err.NoWatcher);
    w.close();
    o.close();
  });

  test('setWatches after reconnect fires what was missed', async () => {
    const o = await RawClient.connect(srv.port);
    const c1 = await o.request(OpCode.create, R.CreateRequest, { path: '/sw', data: null, acl: OPEN, flags: 0 });
    const rel = c1.zxid;
    await o.request(OpCode.setData, R.SetDataRequest, { path: '/sw', data: Buffer.from('n'), version: -1 });
    const w = await RawClient.connect(srv.port);
    const r = await w.request(OpCode.setWatches, R.SetWatches, { relativeZxid: rel, dataWatches: ['/sw', '/gone'], existWatches: ['/sw'], childWatches: ['/sw'] });
    assert.equal(r.err, 0);
    assert.deepEqual(w.events.map((e) => [e.type, e.path]), [
      [EventType.NodeDataChanged, '/sw'], [EventType.NodeDeleted, '/gone'], [EventType.NodeCreated, '/sw'],
    ]);
    // The child watch was registered (nothing missed) and fires on the next child change.
    await o.request(OpCode.create, R.CreateRequest, { path: '/sw/k', data: null, acl: OPEN, flags: 0 });
    const evs = await w.waitEvents(4);
    assert.deepEqual(evs[3] && [evs[3].type, evs[3].path], [EventType.NodeChildrenChanged, '/sw']);
    o.close();
    w.close();
  });

  test('quota stats are maintained and hard limits enforced when configured', async () => {
    const q = await startServer({ enforceQuota: true });
    try {
      const c = await RawClient.connect(q.port);
      const mk = (path: string, data: string | null = null) =>
        c.request(OpCode.create, R.CreateRequest, { path, data: data === null ? null : Buffer.from(data), acl: OPEN, flags: 0 });
      await mk('/q');
      await mk('/zookeeper/quota/q');
      await mk('/zookeeper/quota/q/zookeeper_limits', 'count=-1,bytes=-1;countHardLimit=3');
      await mk('/zookeeper/quota/q/zookeeper_stats', 'count=0,bytes=0');
      const stats = async () => R.GetDataResponse.read((await c.request(OpCode.getData, R.GetDataRequest, { path: '/zookeeper/quota/q/zookeeper_stats', watch: false })).body).data!.toString();
      assert.equal(await stats(), 'count=1,bytes=0');
      assert.equal((await mk('/q/a', 'abc')).err, 0);
      assert.equal(await stats(), 'count=2,bytes=3');
      assert.equal((await mk('/q/b')).err, 0);
      assert.equal((await mk('/q/c')).err, Err.QuotaExceeded);
      c.close();
    } finally {
      await q.stop();
    }
  });

  test('TTL and container nodes are reaped', async () => {
    const t = await startServer({ extendedTypesEnabled: true, containerCheckIntervalMs: 100 });
    try {
      const c = await RawClient.connect(t.port);
      const ttl = await c.request(OpCode.createTTL, R.CreateTTLRequest, { path: '/ttl', data: null, acl: OPEN, flags: 5, ttl: 200 });
      assert.equal(ttl.err, 0);
      assert.equal(R.Create2Response.read(ttl.body).stat.ephemeralOwner, 0n);
      const cont = await c.request(OpCode.createContainer, R.CreateRequest, { path: '/box', data: null, acl: OPEN, flags: 4 });
      assert.equal(cont.err, 0);
      await c.request(OpCode.create, R.CreateRequest, { path: '/box/x', data: null, acl: OPEN, flags: 0 });
      await c.request(OpCode.delete, R.DeleteRequest, { path: '/box/x', version: -1 });
      await sleep(800);
      assert.equal((await c.request(OpCode.exists, R.ExistsRequest, { path: '/ttl', watch: false })).err, Err.NoNode);
      assert.equal((await c.request(OpCode.exists, R.ExistsRequest, { path: '/box', watch: false })).err, Err.NoNode);
      c.close();
    } finally {
      await t.stop();
    }
    const off = await startServer({ extendedTypesEnabled: false });
    try {
      const c = await RawClient.connect(off.port);
      const r = await c.request(OpCode.createTTL, R.CreateTTLRequest, { path: '/ttl', data: null, acl: OPEN, flags: 5, ttl: 200 });
      assert.equal(r.err, Err.Unimplemented);
      c.close();
    } finally {
      await off.stop();
    }
  });

  test('maxClientCnxns caps connections per IP', async () => {
    const lim = await startServer({ maxClientCnxns: 2 });
    try {
      const a = await RawClient.connect(lim.port);
      const b = await RawClient.connect(lim.port);
      await assert.rejects(RawClient.connect(lim.port), /closed during handshake/);
      a.close();
      await sleep(100);
      const c = await RawClient.connect(lim.port);
      c.close();
      b.close();
    } finally {
      await lim.stop();
    }
  });

  test('four-letter words: layouts and the whitelist', async () => {
    assert.equal(await fourLetter(srv.port, 'ruok'), 'imok');
    assert.equal(await fourLetter(srv.port, 'isro'), 'rw');
    const srvr = await fourLetter(srv.port, 'srvr');
    assert.match(srvr, /^Zookeeper version: 3\.8\.0-.*\nLatency min\/avg\/max: \d+\/[\d.]+\/\d+\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: \d+\nZxid: 0x[0-9a-f]+\nMode: standalone\nNode count: \d+\n$/);
    const stat = await fourLetter(srv.port, 'stat');
    assert.match(stat, /\nClients:\n( \/127\.0\.0\.1:\d+\[[01]\]\(queued=\d+,recved=\d+,sent=\d+\)\n)+\n/);
    const mntr = await fourLetter(srv.port, 'mntr');
    assert.match(mntr, /^zk_version\t3\.8\.0-.*\nzk_server_state\tstandalone\n/);
    assert.match(mntr, /\nzk_znode_count\t\d+\n/);
    assert.match(await fourLetter(srv.port, 'conf'), /^clientPort=\d+\nsecureClientPort=-1\ndataDir=.*\/version-2\n/);
    assert.match(await fourLetter(srv.port, 'wchs'), /^\d+ connections watching \d+ paths\nTotal watches:\d+\n$/);
    assert.match(await fourLetter(srv.port, 'dirs'), /^datadir_size: \d+\nlogdir_size: \d+\n$/);
    assert.match(await fourLetter(srv.port, 'envi'), /^Environment:\nzookeeper\.version=/);
    assert.match(await fourLetter(srv.port, 'dump'), /^SessionTracker dump:\nSession Sets \(\d+\)\/\(\d+\):\n/);
    const w = await RawClient.connect(srv.port);
    await w.request(OpCode.exists, R.ExistsRequest, { path: '/watched-by-w', watch: true });
    const wchc = await fourLetter(srv.port, 'wchc');
    assert.ok(wchc.includes(`0x${w.sessionId.toString(16)}\n\t/watched-by-w\n`));
    assert.ok((await fourLetter(srv.port, 'wchp')).includes(`/watched-by-w\n\t0x${w.sessionId.toString(16)}\n`));
    assert.match(await fourLetter(srv.port, 'cons'), new RegExp(`sid=0x${w.sessionId.toString(16)},lop=EXIS`));
    w.close();
    const restricted = await startServer({ fourLetterWords: new Set(['ruok']) });
    try {
      assert.equal(await fourLetter(restricted.port, 'ruok'), 'imok');
      assert.equal(await fourLetter(restricted.port, 'stat'), 'stat is not executed because it is not in the whitelist.\n');
      assert.match(await fourLetter(restricted.port, 'srvr'), /Mode: standalone/);
    } finally {
      await restricted.stop();
    }
  });

  test('the root and system nodes look as on a fresh ZooKeeper', async () => {
    const f = await startServer();
    try {
      const c = await RawClient.connect(f.port);
      const root = R.ExistsResponse.read((await c.request(OpCode.exists, R.ExistsRequest, { path: '/', watch: false })).body).stat;
      assert.equal(root.cversion, -1);
      const zkn = R.ExistsResponse.read((await c.request(OpCode.exists, R.ExistsRequest, { path: '/zookeeper', watch: false })).body).stat;
      assert.equal(zkn.cversion, -2);
      const cfg = await c.request(OpCode.getACL, R.GetACLRequest, { path: '/zookeeper/config' });
      const { acl, stat } = R.GetACLResponse.read(cfg.body);
      assert.deepEqual(acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
      assert.equal(stat.aversion, -1);
      const n = await c.request(OpCode.getAllChildrenNumber, R.GetAllChildrenNumberRequest, { path: '/' });
      assert.equal(R.GetAllChildrenNumberResponse.read(n.body).totalNumber, 3);
      assert.match(await fourLetter(f.port, 'srvr'), /Node count: 5\n/);
      c.close();
    } finally {
      await f.stop();
    }
  });
});

