// Issue 10: a write waking thousands of watchers is handed out over several turns, and over real
// sockets every client still sees a watch event before its own reply to the write that fired it
// and before any later read, each connection's events stay in zxid order, and none is lost.
import { test, before, after } from 'node:test';
import net from 'node:net';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/OurServer.js';
import { RawClient } from '../support/RawClient.js';
import { AddWatchMode, EventType, OpCode } from '../../src/protocol/constants.js';
import { AddWatchRequest, CreateRequest, GetDataRequest, GetDataResponse, SetDataRequest } from '../../src/protocol/records.js';
import { NOTIFICATIONS_PER_TURN } from '../../src/tree/WatchManager.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** Generous: thousands of connections on a shared, loaded machine. */
const WAIT_MS = 120_000;

let srv: TestServer;
/** Turns a fan-out was spread over (counted by wrapping the server's deferral hook). */
let deferredTurns = 0;

before(async () => {
  srv = await startServer({ maxClientCnxns: 0, tickTime: 2000 });
  const watches = srv.server.watches;
  const orig = watches.defer!;
  watches.defer = (fn) => {
    deferredTurns++;
    orig(fn);
  };
});
after(async () => srv.stop());

async function connectMany(n: number): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch = await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => RawClient.connect(srv.port, { timeout: 40000 })));
    for (const c of batch) c.requestTimeoutMs = WAIT_MS;
    out.push(...batch);
  }
  return out;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Position in `c.arrivals` of the reply with this xid. */
const replyAt = (c: RawClient, xid: number) => c.arrivals.findIndex((a) => a.xid === xid);
/** Notifications among c.arrivals before position `end`. */
const eventsBefore = (c: RawClient, end: number) => c.arrivals.slice(0, end).filter((a) => a.xid === -1).length;

test('2,500 one-shot watches on one node: the writer and every follow-up read see the event first', async () => {
  const n = 2500;
  assert.ok(n > 2 * NOTIFICATIONS_PER_TURN, 'the fan-out must need several turns');
  const clients = await connectMany(n);
  try {
    const c0 = clients[0]!;
    assert.equal((await c0.request(OpCode.create, CreateRequest, { path: '/fan', data: Buffer.from('0'), acl: OPEN, flags: 0 })).err, 0);
    const writer = clients[n - 1]!;
    const others = clients.slice(0, n - 1);
    const regs = await Promise.all(others.map((c) => c.request(OpCode.getData, GetDataRequest, { path: '/fan', watch: true })));
    assert.ok(regs.every((r) => r.err === 0));
    // Registered last, the writer is among the last watchers handed the event.
    assert.equal((await writer.request(OpCode.getData, GetDataRequest, { path: '/fan', watch: true })).err, 0);
    const turnsBefore = deferredTurns;
    const base = writer.arrivals.length;
    // Pipelined: the write and a read behind it, both answered while the fan-out is under way.
    const set = writer.request(OpCode.setData, SetDataRequest, { path: '/fan', data: Buffer.from('1'), version: -1 });
    const read = writer.request(OpCode.getData, GetDataRequest, { path: '/fan', watch: false });
    const [sr, rr] = await Promise.all([set, read]);
    assert.equal(sr.err, 0);
    assert.equal(GetDataResponse.read(rr.body).data?.toString(), '1');
    assert.deepEqual(
      writer.arrivals.slice(base).map((a) => a.xid),
      [-1, sr.xid, rr.xid],
      'the watch event, then the reply to the write that fired it, then the read',
    );
    // Every other watcher, asked after the write completed: the event before the new data.
    const reads = await Promise.all(others.map((c) => c.request(OpCode.getData, GetDataRequest, { path: '/fan', watch: false })));
    others.forEach((c, i) => {
      const r = reads[i]!;
      assert.equal(GetDataResponse.read(r.body).data?.toString(), '1');
      assert.equal(eventsBefore(c, replyAt(c, r.xid)), 1, `client ${i}: the event comes before the read's reply`);
    });
    assert.ok(deferredTurns - turnsBefore >= 2, `the fan-out was spread over turns (${deferredTurns - turnsBefore})`);
    for (const c of clients) {
      assert.equal(c.events.length, 1, 'exactly one notification per watch: none lost, none doubled');
      assert.deepEqual({ type: c.events[0]!.type, path: c.events[0]!.path }, { type: EventType.NodeDataChanged, path: '/fan' });
    }
    assert.equal(srv.server.watches.fanOutPending, false);
  } finally {
    for (const c of clients) c.close();
  }
});

test('2,000 recursive watches on a busy subtree, 20 pipelined writes: per-connection zxid order, events before replies', async () => {
  const n = 2000;
  const writers = 20;
  const clients = await connectMany(n);
  try {
    const c0 = clients[0]!;
    assert.equal((await c0.request(OpCode.create, CreateRequest, { path: '/busy', data: Buffer.alloc(0), acl: OPEN, flags: 0 })).err, 0);
    for (let i = 0; i < writers; i++) {
      assert.equal((await c0.request(OpCode.create, CreateRequest, { path: `/busy/c${i}`, data: Buffer.alloc(0), acl: OPEN, flags: 0 })).err, 0);
    }
    const regs = await Promise.all(clients.map((c) => c.request(OpCode.addWatch, AddWatchRequest, { path: '/busy', mode: AddWatchMode.PERSISTENT_RECURSIVE })));
    assert.ok(regs.every((r) => r.err === 0));
    const base = clients.map((c) => c.arrivals.length);
    const turnsBefore = deferredTurns;
    // Every write fires all n watchers; sent at once, they queue behind one another.
    const sets = await Promise.all(
      clients.slice(0, writers).map((c, i) => c.request(OpCode.setData, SetDataRequest, { path: `/busy/c${i}`, data: Buffer.from('x'), version: -1 })),
    );
    assert.ok(sets.every((r) => r.err === 0));
    const byZxid = sets.map((r, i) => ({ zxid: r.zxid, path: `/busy/c${i}` })).sort((a, b) => a.zxid - b.zxid);
    // The writers: exactly the events up to and including their own write came before the reply.
    for (let i = 0; i < writers; i++) {
      const c = clients[i]!;
      const rank = byZxid.findIndex((e) => e.path === `/busy/c${i}`);
      const at = replyAt(c, sets[i]!.xid);
      assert.equal(eventsBefore(c, at) - eventsBefore(c, base[i]!), rank + 1, `writer ${i}`);
    }
    // Everyone, asked after the last write completed: all 20 events before the read's reply.
    const last = byZxid[writers - 1]!.path;
    const reads = await Promise.all(clients.map((c) => c.request(OpCode.getData, GetDataRequest, { path: last, watch: false })));
    clients.forEach((c, i) => {
      assert.equal(eventsBefore(c, replyAt(c, reads[i]!.xid)) - eventsBefore(c, base[i]!), writers, `client ${i}: every event before the read`);
      assert.deepEqual(
        c.events.slice(-writers).map((e) => `${e.type}:${e.path}`),
        byZxid.map((e) => `${EventType.NodeDataChanged}:${e.path}`),
        `client ${i}: events in zxid order`,
      );
    });
    assert.ok(deferredTurns - turnsBefore >= 2, 'the fan-outs were spread over turns');
    await until('fan-out queue to empty', () => !srv.server.watches.fanOutPending);
  } finally {
    for (const c of clients) c.close();
  }
});

test('2,000 connections dropping at once are all closed with their watches; a closeSession sent with a FIN is answered first', async () => {
  const n = 2000;
  const clients = await connectMany(n);
  const leaving = await RawClient.connect(srv.port, { timeout: 40000 });
  leaving.requestTimeoutMs = WAIT_MS;
  try {
    assert.equal((await clients[0]!.request(OpCode.create, CreateRequest, { path: '/drop', data: Buffer.alloc(0), acl: OPEN, flags: 0 })).err, 0);
    const regs = await Promise.all(clients.map((c) => c.request(OpCode.getData, GetDataRequest, { path: '/drop', watch: true })));
    assert.ok(regs.every((r) => r.err === 0));
    assert.ok(srv.server.watches.totalWatches >= n);
    const before = srv.server.connections.size;
    // The session's last request and the FIN in one go: the reply still comes, then the close.
    const bye = leaving.request(OpCode.closeSession);
    leaving.sock.end();
    for (const c of clients) c.close();
    const r = await bye;
    assert.equal(r.err, 0);
    assert.ok(await leaving.waitClosed(WAIT_MS), 'the server closes after answering');
    await until('every dropped connection closed', () => srv.server.connections.size <= before - n - 1);
    await until('their watches dropped', () => srv.server.watches.totalWatches === 0);
    // Still serving: a new client gets a session and an answer.
    const after = await RawClient.connect(srv.port, { timeout: 40000 });
    try {
      assert.equal((await after.request(OpCode.getData, GetDataRequest, { path: '/drop', watch: false })).err, 0);
    } finally {
      after.close();
    }
  } finally {
    for (const c of clients) c.close();
    leaving.close();
  }
});

test('3 pipelined requests from each of 2,000 connections at once: past the per-turn budget, every connection is answered in order', async () => {
  const n = 2000;
  const clients = await connectMany(n);
  try {
    assert.equal((await clients[0]!.request(OpCode.create, CreateRequest, { path: '/burst', data: Buffer.alloc(0), acl: OPEN, flags: 0 })).err, 0);
    const made = await Promise.all(clients.map((c, i) => c.request(OpCode.create, CreateRequest, { path: `/burst/n${i}`, data: Buffer.from('a'), acl: OPEN, flags: 0 })));
    assert.ok(made.every((r) => r.err === 0));
    const base = clients.map((c) => c.arrivals.length);
    // All sent in one go: 6,000 requests arrive together, far more than one turn handles.
    const all = clients.map((c, i) => [
      c.request(OpCode.getData, GetDataRequest, { path: `/burst/n${i}`, watch: false }),
      c.request(OpCode.setData, SetDataRequest, { path: `/burst/n${i}`, data: Buffer.from(`b${i}`), version: -1 }),
      c.request(OpCode.getData, GetDataRequest, { path: `/burst/n${i}`, watch: false }),
    ]);
    const replies = await Promise.all(all.map((rs) => Promise.all(rs)));
    clients.forEach((c, i) => {
      const [r1, r2, r3] = replies[i]!;
      assert.deepEqual(c.arrivals.slice(base[i]).map((a) => a.xid), [r1!.xid, r2!.xid, r3!.xid], `client ${i}: replies in request order`);
      assert.equal(GetDataResponse.read(r1!.body).data?.toString(), 'a');
      assert.equal(r2!.err, 0);
      assert.equal(GetDataResponse.read(r3!.body).data?.toString(), `b${i}`, `client ${i}: the read behind the write sees it`);
    });
  } finally {
    for (const c of clients) c.close();
  }
});

test('a four-letter word and a handshake sent with a FIN are still answered (the client port is half-open)', async () => {
  for (const word of ['ruok', 'mntr', 'srvr']) {
    const out = await new Promise<string>((resolve, reject) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.end(word));
      let text = '';
      s.on('data', (d) => (text += d.toString('latin1')));
      s.on('close', () => resolve(text));
      s.on('error', reject);
    });
    if (word === 'ruok') assert.equal(out, 'imok');
    else assert.match(out, word === 'mntr' ? /^zk_version\t/m : /^Zookeeper version: /m, `${word} answered in full`);
  }
  // A ConnectRequest then a FIN: the session is still created and the ConnectResponse sent.
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1', () => {
      const body = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16);
      body.writeInt32BE(0, 0); // protocol version
      body.writeBigInt64BE(0n, 4); // last zxid seen
      body.writeInt32BE(10000, 12); // timeout
      body.writeBigInt64BE(0n, 16); // session id
      body.writeInt32BE(16, 24); // password length
      const frame = Buffer.alloc(4 + body.length);
      frame.writeInt32BE(body.length, 0);
      body.copy(frame, 4);
      s.end(frame);
    });
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
  assert.ok(reply.length >= 4 + 36, `ConnectResponse received (${reply.length} bytes)`);
  assert.notEqual(reply.readBigInt64BE(4 + 8), 0n, 'a session id was given');
});
