// A minimal pipelined ZooKeeper client for load generation: one TCP connection, one session,
// requests encoded with the project's jute records, replies matched in order (ZooKeeper answers a
// session's requests in the order sent). No watches, no reconnect: a benchmark wants the raw path.
import net from 'node:net';
import { Writer, Reader } from '../src/jute/archive.js';
import {
  AddWatchRequest,
  ConnectRequest,
  ConnectResponse,
  CreateRequest,
  DeleteRequest,
  GetDataRequest,
  ReplyHeader,
  RequestHeader,
  SetDataRequest,
} from '../src/protocol/records.js';
import { OpCode } from '../src/protocol/constants.js';

export type Done = (err: number, latencyNs: bigint) => void;

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export class BenchClient {
  private sock!: net.Socket;
  private xid = 1;
  /** In-flight requests, FIFO: start time and completion callback. */
  private starts: bigint[] = [];
  private dones: Done[] = [];
  private head = 0;
  private pending: Buffer | null = null;
  private readonly w = new Writer(4096);
  private connected = false;
  private onConnected: ((e?: Error) => void) | null = null;
  sessionId = 0n;
  closed = false;
  /** Watch notifications (xid -1) received on this connection. */
  watchEvents = 0;
  onWatchEvent: (() => void) | null = null;

  /** `openTimeoutMs`: give up (and close) when no session is established by then; 0 = wait. */
  static async connect(host: string, port: number, timeoutMs = 30000, openTimeoutMs = 0): Promise<BenchClient> {
    const c = new BenchClient();
    await c.open(host, port, timeoutMs, openTimeoutMs);
    return c;
  }

  private open(host: string, port: number, timeoutMs: number, openTimeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // A member between leaders may accept TCP and then say nothing: bound the wait.
      const timer = openTimeoutMs > 0 ? setTimeout(() => this.destroy(new Error('session not established in time')), openTimeoutMs) : null;
      this.onConnected = (e) => {
        if (timer) clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      this.sock = net.connect({ host, port });
      this.sock.setNoDelay(true);
      this.sock.on('data', (d) => this.onData(d));
      this.sock.on('error', (e) => this.fail(e));
      this.sock.on('close', () => this.fail(new Error('connection closed')));
      this.sock.on('connect', () => {
        const at = this.w.beginFrame();
        ConnectRequest.write(this.w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: timeoutMs, sessionId: 0n, passwd: Buffer.alloc(16) });
        this.w.bool(false);
        this.w.endFrame(at);
        this.flush();
      });
    });
  }

  /** Drops the connection at once; everything in flight fails with ConnectionLoss. */
  destroy(e = new Error('destroyed')): void {
    this.fail(e);
    this.sock.destroy();
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.onConnected) {
      this.onConnected(e);
      this.onConnected = null;
    }
    // Fail everything in flight with ConnectionLoss (-4).
    // Emptied first, so that the callbacks see inFlight === 0 once the last one runs.
    const failed = this.dones.slice(this.head);
    this.dones = [];
    this.starts = [];
    this.head = 0;
    for (const done of failed) done(-4, 0n);
  }

  private flushScheduled = false;

  private flush(): void {
    this.flushScheduled = false;
    if (this.w.view().length === 0) return;
    this.sock.write(this.w.toBuffer());
    this.w.reset();
  }

  /** Coalesce the requests issued in one tick into a single socket write. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private onData(d: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, d]) : d;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readInt32BE(off);
      if (buf.length - off - 4 < len) break;
      const frame = buf.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      this.onFrame(frame);
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : null;
    buf = Buffer.alloc(0);
  }

  private onFrame(frame: Buffer): void {
    if (!this.connected) {
      const resp = ConnectResponse.read(new Reader(frame));
      this.connected = true;
      this.sessionId = resp.sessionId;
      const cb = this.onConnected;
      this.onConnected = null;
      if (resp.timeOut <= 0) cb?.(new Error('session refused'));
      else cb?.();
      return;
    }
    const hdr = ReplyHeader.read(new Reader(frame));
    if (hdr.xid === -1) {
      this.watchEvents++;
      this.onWatchEvent?.();
      return;
    }
    if (hdr.xid < 0) return; // ping (-2): not ours to time
    if (this.head >= this.dones.length) return; // e.g. the closeSession reply
    const now = process.hrtime.bigint();
    const i = this.head++;
    const start = this.starts[i]!;
    const done = this.dones[i]!;
    if (this.head > 1024 && this.head * 2 > this.dones.length) {
      this.dones = this.dones.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    done(hdr.err, now - start);
  }

  get inFlight(): number {
    return this.dones.length - this.head;
  }

  private send(type: number, writeBody: (w: Writer) => void, done: Done): void {
    if (this.closed) {
      done(-4, 0n);
      return;
    }
    const at = this.w.beginFrame();
    RequestHeader.write(this.w, { xid: this.xid++, type });
    writeBody(this.w);
    this.w.endFrame(at);
    this.starts.push(process.hrtime.bigint());
    this.dones.push(done);
    this.scheduleFlush();
  }

  getData(path: string, done: Done): void {
    this.send(OpCode.getData, (w) => GetDataRequest.write(w, { path, watch: false }), done);
  }

  /** getData leaving a data watch on the node. */
  getDataWatch(path: string, done: Done): void {
    this.send(OpCode.getData, (w) => GetDataRequest.write(w, { path, watch: true }), done);
  }

  /** addWatch PERSISTENT_RECURSIVE (mode 1): every change under `path` notifies this session. */
  addRecursiveWatch(path: string, done: Done): void {
    this.send(OpCode.addWatch, (w) => AddWatchRequest.write(w, { path, mode: 1 }), done);
  }

  setData(path: string, data: Buffer, done: Done): void {
    this.send(OpCode.setData, (w) => SetDataRequest.write(w, { path, data, version: -1 }), done);
  }

  create(path: string, data: Buffer, done: Done): void {
    this.send(OpCode.create, (w) => CreateRequest.write(w, { path, data, acl: OPEN_ACL, flags: 0 }), done);
  }

  delete(path: string, done: Done): void {
    this.send(OpCode.delete, (w) => DeleteRequest.write(w, { path, version: -1 }), done);
  }

  /** Promise helper for set-up code. */
  call(fn: (done: Done) => void): Promise<number> {
    return new Promise((resolve) => fn((err) => resolve(err)));
  }

  /** A ping (xid -2, answered but not timed): keeps an idle session alive. */
  ping(): void {
    if (this.closed) return;
    const at = this.w.beginFrame();
    RequestHeader.write(this.w, { xid: -2, type: OpCode.ping });
    this.w.endFrame(at);
    this.scheduleFlush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const at = this.w.beginFrame();
    RequestHeader.write(this.w, { xid: this.xid++, type: OpCode.closeSession });
    this.w.endFrame(at);
    this.sock.end(this.w.toBuffer());
    this.w.reset();
  }
}
