// The pipeline's edges over real sockets: nothing more is read from a connection while its session
// is being created, session ids carry the server id from myid, and the FIFO the per-session queues
// use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ZkServer } from '../../src/server/ZkServer.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { NullTxnLog } from '../../src/storage/MemoryTxnLog.js';
import { defaultConfig } from '../../src/config/ServerConfig.js';
import { Writer } from '../../src/jute/archive.js';
import { OpCode } from '../../src/protocol/constants.js';
import { ConnectRequest, ExistsRequest, RequestHeader } from '../../src/protocol/records.js';
import type { Txn } from '../../src/protocol/txn.js';
import { Fifo } from '../../src/util/Fifo.js';
import { RawClient } from '../support/RawClient.js';

/** A log whose appends take as long as the test says. */
class GateLog extends NullTxnLog {
  private waiting: Array<() => void> = [];
  open = false;
  override append(_txns: Txn[]): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((r) => this.waiting.push(r));
  }
  release(): void {
    this.open = true;
    for (const r of this.waiting.splice(0)) r();
  }
}

test('frames sent during the handshake are left unread until the session exists', async () => {
  const log = new GateLog();
  const server = new ZkServer(defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1' }), async () => ({ db: new ZkDatabase(), log }));
  await server.start();
  const sock = net.connect(server.port, '127.0.0.1');
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let replies = 0;
    let received = Buffer.alloc(0);
    sock.on('data', (d) => {
      received = Buffer.concat([received, d]);
      while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        received = received.subarray(4 + received.readInt32BE(0));
        replies++;
      }
    });
    const w = new Writer(1 << 20);
    let at = w.beginFrame();
    ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10000, sessionId: 0n, passwd: Buffer.alloc(16) });
    w.endFrame(at);
    sock.write(w.toBuffer());
    // 32 MiB of exists requests behind the ConnectRequest, while createSession cannot be logged.
    const frame = new Writer(70000);
    at = frame.beginFrame();
    RequestHeader.write(frame, { xid: 1, type: OpCode.exists });
    ExistsRequest.write(frame, { path: '/' + 'x'.repeat(60000), watch: false });
    frame.endFrame(at);
    const one = frame.toBuffer();
    const count = Math.ceil((32 << 20) / one.length);
    for (let i = 0; i < count; i++) sock.write(one);
    await new Promise((r) => setTimeout(r, 300));
    // Kernel buffers hold a few MiB at most; the rest must still be waiting on our side.
    assert.ok(sock.writableLength > 16 << 20, `server read ${((32 << 20) - sock.writableLength) >> 20} MiB during the handshake`);
    log.release();
    const deadline = Date.now() + 20000;
    while (replies < count + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(replies, count + 1, 'the ConnectResponse and every request were answered once the session existed');
  } finally {
    sock.destroy();
    await server.stop();
  }
});

test('session ids carry the server id from myid', async () => {
  const server = new ZkServer(defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', serverId: 7 }), 'memory');
  await server.start();
  try {
    const c = await RawClient.connect(server.port);
    assert.equal(c.sessionId >> 56n, 7n);
    c.close();
  } finally {
    await server.stop();
  }
});

test('Fifo: order, interleaved push/shift, and compaction keep every item exactly once', () => {
  const q = new Fifo<number>();
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 997; i++) q.push(next++);
    for (let i = 0; i < 950; i++) assert.equal(q.shift(), expect++);
  }
  assert.equal(q.length, next - expect);
  assert.equal(q.peek(), expect);
  assert.deepEqual([...q].slice(0, 3), [expect, expect + 1, expect + 2]);
  while (q.length) assert.equal(q.shift(), expect++);
  assert.equal(q.shift(), undefined);
  assert.equal(expect, next);
});

test('a failing container reaper is logged and the server keeps serving', async () => {
  const errors: string[] = [];
  const server = new ZkServer(
    defaultConfig({ clientPort: 0, clientPortAddress: '127.0.0.1', containerCheckIntervalMs: 50 }),
    'memory',
    { logger: { warn: () => {}, error: (m) => errors.push(m) } },
  );
  await server.start();
  try {
    // Whatever goes wrong inside a reaper pass must not become an unhandled rejection (which
    // would end the process, and this test with it).
    server.pipeline.reapContainers = async () => {
      throw new Error('reaper exploded');
    };
    const deadline = Date.now() + 3000;
    while (!errors.some((e) => e.includes('reaper exploded')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(errors.some((e) => /container reaper failed: .*reaper exploded/.test(e)), errors.join('\n'));
    const c = await RawClient.connect(server.port);
    assert.ok(c.sessionId > 0n, 'still serving');
    c.close();
  } finally {
    await server.stop();
  }
});
