// Frame reassembly over a real socket: frames split anywhere (inside the length prefix, byte by
// byte), several frames in one segment, and a large frame trickled in small pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Reader, Writer } from '../../src/jute/archive.js';
import { ConnectRequest, CreateRequest, GetDataRequest, GetDataResponse, ReplyHeader, RequestHeader } from '../../src/protocol/records.js';
import type { Codec } from '../../src/jute/codec.js';
import { OpCode } from '../../src/protocol/constants.js';
import { startServer } from '../support/OurServer.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function frame(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  const at = w.beginFrame();
  write(w);
  w.endFrame(at);
  return w.toBuffer();
}

function request<T>(xid: number, type: number, codec: Codec<T>, body: T): Buffer {
  return frame((w) => {
    RequestHeader.write(w, { xid, type });
    codec.write(w, body);
  });
}

const pause = () => new Promise((r) => setImmediate(r));

test('frames split at every byte, batched together, or trickled are all read correctly', async () => {
  const srv = await startServer();
  const sock = net.connect(srv.port, '127.0.0.1');
  sock.setNoDelay(true);
  const frames: Buffer[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const len = buf.readInt32BE(0);
      frames.push(buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
    }
  });
  const until = async (n: number) => {
    for (let i = 0; i < 500 && frames.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(frames.length >= n, `expected ${n} frames, got ${frames.length}`);
  };
  try {
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const hello = frame((w) => {
      ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10000, sessionId: 0n, passwd: Buffer.alloc(16) });
      w.bool(false);
    });
    for (const b of hello) {
      sock.write(Buffer.from([b]));
      await pause();
    }
    await until(1);
    // Two creates in one segment, the second split inside its length prefix across writes.
    const big = Buffer.alloc(200 * 1024, 0x61);
    const c1 = request(1, OpCode.create, CreateRequest, { path: '/small', data: Buffer.from('s'), acl: OPEN, flags: 0 });
    const c2 = request(2, OpCode.create, CreateRequest, { path: '/big', data: big, acl: OPEN, flags: 0 });
    sock.write(Buffer.concat([c1, c2.subarray(0, 2)]));
    await pause();
    for (let off = 2; off < c2.length; off += 997) {
      sock.write(c2.subarray(off, Math.min(c2.length, off + 997)));
      if (off % 20 === 0) await pause();
    }
    sock.write(Buffer.concat([
      request(3, OpCode.getData, GetDataRequest, { path: '/big', watch: false }),
      request(4, OpCode.getData, GetDataRequest, { path: '/small', watch: false }),
    ]));
    await until(5);
    const replies = frames.slice(1).map((f) => {
      const r = new Reader(f);
      return { h: ReplyHeader.read(r), r };
    });
    assert.deepEqual(replies.map((x) => [x.h.xid, x.h.err]), [[1, 0], [2, 0], [3, 0], [4, 0]]);
    assert.ok(GetDataResponse.read(replies[2]!.r).data!.equals(big), 'the trickled 200 KiB payload arrived intact');
    assert.equal(GetDataResponse.read(replies[3]!.r).data!.toString(), 's');
  } finally {
    sock.destroy();
    await srv.stop();
  }
});

test('a client that never reads its replies is throttled, not buffered without bound', async () => {
  const srv = await startServer();
  try {
    const setup = net.connect(srv.port, '127.0.0.1');
    await new Promise<void>((r) => setup.once('connect', () => r()));
    const hello = frame((w) => {
      ConnectRequest.write(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10000, sessionId: 0n, passwd: Buffer.alloc(16) });
      w.bool(false);
    });
    // The greedy client: handshake, one 512 KiB node, then 1,000 reads of it it never reads back.
    setup.pause();
    setup.write(hello);
    setup.write(request(1, OpCode.create, CreateRequest, { path: '/fat', data: Buffer.alloc(512 * 1024, 7), acl: OPEN, flags: 0 }));
    await new Promise((r) => setTimeout(r, 200));
    const reads: Buffer[] = [];
    for (let i = 0; i < 1000; i++) reads.push(request(2 + i, OpCode.getData, GetDataRequest, { path: '/fat', watch: false }));
    setup.write(Buffer.concat(reads));
    await new Promise((r) => setTimeout(r, 1500));
    const conns = [...srv.server.connections];
    const greedy = conns.find((c) => c.established);
    assert.ok(greedy, 'the greedy connection is still there');
    // Without back-pressure this would be ~500 MiB of queued replies.
    assert.ok(greedy.socket.writableLength < 80 * 1024 * 1024, `unsent bytes ${greedy.socket.writableLength}`);
    assert.ok(greedy.packetsReceived < 1002, `the server stopped reading its requests (read ${greedy.packetsReceived})`);
    // Everyone else is served normally meanwhile.
    const other = net.connect(srv.port, '127.0.0.1');
    await new Promise<void>((r) => other.once('connect', () => r()));
    const got = new Promise<Buffer>((resolve) => {
      let b = Buffer.alloc(0);
      other.on('data', (d) => {
        b = Buffer.concat([b, d]);
        if (b.length >= 4 + b.readInt32BE(0)) resolve(b);
      });
    });
    other.write(hello);
    assert.ok((await got).length > 36, 'a second client completes its handshake');
    other.destroy();
    setup.destroy();
  } finally {
    await srv.stop();
  }
});
