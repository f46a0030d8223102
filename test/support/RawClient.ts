// A minimal raw-protocol client for tests: frames, handshake, requests by xid, and the
// notifications that arrive in between. Replies are kept in arrival order so tests can
// assert ordering.
import net from 'node:net';
import { Reader, Writer } from '../../src/jute/archive.js';
import type { Codec } from '../../src/jute/codec.js';
import { ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent, type WatcherEvent as WE } from '../../src/protocol/records.js';

export interface RawReply {
  xid: number;
  zxid: number;
  err: number;
  body: Reader;
}

export class RawClient {
  sock!: net.Socket;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);
  timeout = 0;
  /** Every frame after the handshake, in arrival order (xid -1 are notifications). */
  readonly arrivals: Array<{ xid: number; zxid: number; err: number }> = [];
  readonly events: WE[] = [];
  closed = false;
  /** How long request() waits for its reply. */
  requestTimeoutMs = 5000;
  private buf: Buffer = Buffer.alloc(0);
  private waiting = new Map<number, (r: RawReply) => void>();
  private failers = new Map<number, (e: Error) => void>();
  private handshake: ((b: Buffer) => void) | null = null;
  private nextXid = 1;
  private eventWaiters: Array<() => void> = [];

  static async connect(port: number, opts: { timeout?: number; sessionId?: bigint; passwd?: Buffer; lastZxid?: number; readOnlyByte?: boolean } = {}): Promise<RawClient> {
    const c = new RawClient();
    await c.open(port, opts);
    return c;
  }

  private async open(port: number, opts: { timeout?: number; sessionId?: bigint; passwd?: Buffer; lastZxid?: number; readOnlyByte?: boolean }): Promise<void> {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d) => this.onData(d));
    this.sock.on('close', () => {
      this.closed = true;
      for (const f of this.failers.values()) f(new Error('connection closed'));
      this.failers.clear();
      this.waiting.clear();
      this.handshake?.(Buffer.alloc(0));
      for (const w of this.eventWaiters) w();
    });
    this.sock.on('error', () => {});
    await new Promise<void>((res, rej) => {
      this.sock.once('connect', res);
      this.sock.once('error', rej);
    });
    const w = new Writer();
    const at = w.beginFrame();
    ConnectRequest.write(w, {
      protocolVersion: 0,
      lastZxidSeen: opts.lastZxid ?? 0,
      timeOut: opts.timeout ?? 10000,
      sessionId: opts.sessionId ?? 0n,
      passwd: opts.passwd ?? Buffer.alloc(16),
    });
    if (opts.readOnlyByte !== false) w.bool(false);
    w.endFrame(at);
    const resp = await new Promise<Buffer>((res) => {
      this.handshake = res;
      this.sock.write(w.toBuffer());
    });
    this.handshake = null;
    if (resp.length === 0) throw new Error('connection closed during handshake');
    const r = ConnectResponse.decode(resp);
    this.sessionId = r.sessionId;
    this.passwd = r.passwd ?? Buffer.alloc(16);
    this.timeout = r.timeOut;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (this.handshake) {
        this.handshake(Buffer.from(frame));
        continue;
      }
      const r = new Reader(Buffer.from(frame));
      const h = ReplyHeader.read(r);
      this.arrivals.push(h);
      if (h.xid === -1) {
        this.events.push(WatcherEvent.read(r));
        for (const w of this.eventWaiters.splice(0)) w();
        continue;
      }
      const cb = this.waiting.get(h.xid);
      this.waiting.delete(h.xid);
      this.failers.delete(h.xid);
      cb?.({ ...h, body: r });
    }
  }

  /** Send a request; resolves with the reply of the same xid. */
  request<T>(type: number, codec?: Codec<T>, body?: T, xid = this.nextXid++): Promise<RawReply> {
    const w = new Writer();
    const at = w.beginFrame();
    RequestHeader.write(w, { xid, type });
    if (codec) codec.write(w, body as T);
    w.endFrame(at);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const p = new Promise<RawReply>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no reply to xid ${xid} type ${type}`)), this.requestTimeoutMs);
      t.unref();
      this.waiting.set(xid, (r) => {
        clearTimeout(t);
        res(r);
      });
      this.failers.set(xid, (e) => {
        clearTimeout(t);
        rej(e);
      });
    });
    this.sock.write(w.toBuffer());
    return p;
  }

  writeRaw(b: Buffer): void {
    this.sock.write(b);
  }

  async waitEvents(n: number, timeoutMs = 3000): Promise<WE[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n && Date.now() < deadline && !this.closed) {
      await new Promise<void>((r) => {
        this.eventWaiters.push(r);
        setTimeout(r, 50).unref();
      });
    }
    return this.events;
  }

  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}
