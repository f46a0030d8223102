// The ZooKeeper client: one session, carried over a sequence of TCP connections to the hosts of
// the connection string. Requests are pipelined on the current connection (written in batches
// once per tick) and replies are matched strictly in order by xid. After a reconnect the session
// is re-attached (sessionId + password + last zxid seen) and watches are re-registered with
// setWatches/setWatches2 exactly as the Java client does.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Reader, Writer } from '../jute/archive.js';
import { AddWatchMode, Err, OpCode, WatcherType, Xid } from '../protocol/constants.js';
import {
  AddWatchRequest,
  AuthPacket,
  CheckWatchesRequest,
  ConnectRequest,
  ConnectResponse,
  Create2Response,
  CreateResponse,
  DeleteRequest,
  ErrorResponse,
  ExistsRequest,
  ExistsResponse,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetAllChildrenNumberResponse,
  GetChildren2Request,
  GetChildren2Response,
  GetChildrenRequest,
  GetChildrenResponse,
  GetDataRequest,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  RemoveWatchesRequest,
  ReplyHeader,
  SetACLRequest,
  SetACLResponse,
  SetDataRequest,
  SetDataResponse,
  SetWatches,
  SetWatches2,
  SyncRequest,
  SyncResponse,
  WatcherEvent,
  WhoAmIResponse,
  type ACL,
  type Stat,
} from '../protocol/records.js';
import { HostProvider, parseConnectString, type HostPort } from './ConnectString.js';
import { abortableWait, pushIterator, sleep, type AbortOptions } from './abort.js';
import { isRetryable, ZooKeeperError } from './errors.js';
import type { RetryPolicy } from './RetryPolicy.js';
import { FrameDecoder } from './FrameDecoder.js';
import { prependChroot, stripChroot, validatePath } from './paths.js';
import {
  createOp,
  createOpcode,
  decodeMultiResponse,
  encodeMulti,
  encodeMultiRead,
  multiFailure,
  Transaction,
  writeCreateBody,
  type CreateOptions,
  type Op,
  type OpResult,
  type ReadOp,
  type ReadOpResult,
} from './Transaction.js';
import { eventTypeName, toBuffer, type AddWatchModeName, type Data, type WatchedEvent, type Watcher, type WatcherTypeName } from './types.js';
import { WatchRegistry } from './WatchRegistry.js';
import { Fifo } from '../util/Fifo.js';

export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'authFailed' | 'closed';

/**
 * Curator's connection states. CONNECTED: first connection of the session; SUSPENDED: the
 * connection is gone, the session may still be alive; RECONNECTED: the session was re-attached
 * after SUSPENDED; LOST: the session is over (the server said so, or SUSPENDED lasted a whole session
 * timeout, see `lostAfterSessionTimeout`); READ_ONLY: connected to a read-only server.
 */
export type ConnectionStateName = 'CONNECTED' | 'SUSPENDED' | 'RECONNECTED' | 'LOST' | 'READ_ONLY';

export interface ConnectedInfo {
  sessionId: bigint;
  /** Negotiated session timeout, ms. */
  sessionTimeout: number;
  host: string;
  port: number;
  /** True when this connection re-attached an existing session. */
  reconnected: boolean;
  readOnly: boolean;
}

export interface ZooKeeperEvents {
  /** Every state change, in order. */
  state: [SessionState];
  connecting: [HostPort];
  connected: [ConnectedInfo];
  disconnected: [];
  expired: [];
  authFailed: [];
  closed: [];
  /** A watcher callback threw; the client keeps going. */
  watcherError: [unknown];
  /** Curator-style connection state changes (see ConnectionStateName). */
  connectionState: [ConnectionStateName];
}

export interface ZooKeeperOptions {
  /** Requested session timeout in ms (the server clamps it). Default 30000. */
  sessionTimeout?: number;
  /** Fail a request that has not completed after this many ms with RequestTimeout; 0 disables. Default: the session timeout. */
  requestTimeout?: number;
  /** Shuffle the host list (default true). */
  shuffleHosts?: boolean;
  /** Upper bound of the random pause after every host has been tried once, ms. Default 250. */
  retryDelay?: number;
  /** Accept a read-only server (sent as the ConnectRequest readOnly byte). Default false. */
  canBeReadOnly?: boolean;
  /** Resume an existing session. */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Credentials sent on every connection, like addAuth. */
  authInfo?: Array<{ scheme: string; auth: string | Buffer }>;
  /** Largest reply frame accepted. Default 4 MiB. */
  maxFrameBytes?: number;
  /**
   * Retries idempotent operations (reads, sync, unconditional setData/setACL, addWatch) after
   * retryable errors (ZooKeeperError.isRetryable). Writes that are not idempotent (create, delete,
   * versioned setData, multi) are sent once: their outcome after a ConnectionLoss is unknown.
   * Default: none.
   */
  retryPolicy?: RetryPolicy;
  /**
   * When the connection has been down for a whole negotiated session timeout, report LOST and end
   * the session locally (state 'expired') without waiting to hear it from a server, as Curator 5
   * does by default: the server has expired it by then, or is about to. Default true.
   */
  lostAfterSessionTimeout?: boolean;
}

interface Packet {
  op: number;
  xid: number;
  body: Buffer | null;
  /** Client path for error messages. */
  path: string | undefined;
  /** Turns the reply into the result; `err` is the reply header code (nonzero only when `acceptErr` allowed it). */
  decode: (r: Reader, err: number) => unknown;
  /** Error codes the decoder wants to see instead of a rejection (exists: NoNode). */
  acceptErr?: number;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
  settled: boolean;
  /** Absolute ms deadline, 0 = none. */
  deadline: number;
  /** Removes the abort listener once the packet settles. */
  cleanup?: () => void;
}

/** Per-call options of every operation. */
export interface OpOptions extends AbortOptions {}

interface RequestExtra {
  /** Error code the decoder wants to see instead of a rejection (exists: NoNode). */
  acceptErr?: number;
  signal?: AbortSignal | undefined;
  /** Safe to send again after a retryable failure; only then does the retry policy apply. */
  idempotent?: boolean;
}

interface AuthEntry {
  scheme: string;
  auth: Buffer;
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

const ZERO_PASSWD = Buffer.alloc(16);
/** Java batches SetWatches at this many characters of path text. */
const SET_WATCHES_MAX_LENGTH = 128 * 1024;
const noop = (): void => {};
/** Extras for a read (idempotent: retried under the policy) and for a write (sent once). */
const ro = (o: OpOptions | undefined): RequestExtra => ({ signal: o?.signal, idempotent: true });
const wo = (o: OpOptions | undefined): RequestExtra => ({ signal: o?.signal });


export interface DataResult {
  data: Buffer | null;
  stat: Stat;
}
export interface ChildrenResult {
  children: string[];
  stat: Stat;
}
type WatchPromise = { watch: Promise<WatchedEvent> };

const watcherTypeCode: Record<WatcherTypeName, number> = {
  Children: WatcherType.Children,
  Data: WatcherType.Data,
  Any: WatcherType.Any,
  Persistent: WatcherType.Persistent,
  PersistentRecursive: WatcherType.PersistentRecursive,
};

export class ZooKeeper extends EventEmitter<ZooKeeperEvents> {
  readonly connectString: string;
  readonly chroot: string;
  private readonly hosts: HostProvider;
  private readonly requestedTimeout: number;
  private readonly requestTimeout: number;
  private readonly retryDelay: number;
  private readonly canBeReadOnly: boolean;
  private readonly maxFrameBytes: number;
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly lostAfterSessionTimeout: boolean;
  private _connectionState: ConnectionStateName | null = null;
  private lostTimer: NodeJS.Timeout | null = null;

  private _state: SessionState = 'connecting';
  private sessionId = 0n;
  private passwd: Buffer = ZERO_PASSWD;
  private negotiatedTimeout = 0;
  private lastZxid = 0;
  private xid = 1;
  private everConnected = false;
  private closing = false;

  private socket: net.Socket | null = null;
  private connected = false; // handshake done on `socket`
  private currentHost: HostPort | null = null;
  private decoder: FrameDecoder;
  private readonly outgoing = new Fifo<Packet>();
  private readonly pending = new Fifo<Packet>();
  private readonly authInfo: AuthEntry[] = [];
  private sentAuth: AuthEntry[] = [];
  private flushScheduled = false;
  private lastSend = 0;
  private lastRecv = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private closeWaiters: Array<() => void> = [];
  private readonly watches = new WatchRegistry();

  constructor(connectString: string, options: ZooKeeperOptions = {}) {
    super();
    const parsed = parseConnectString(connectString);
    this.connectString = connectString;
    this.chroot = parsed.chroot;
    this.hosts = new HostProvider(parsed.hosts, options.shuffleHosts ?? true);
    this.requestedTimeout = options.sessionTimeout ?? 30000;
    this.requestTimeout = options.requestTimeout ?? this.requestedTimeout;
    this.retryDelay = options.retryDelay ?? 250;
    this.canBeReadOnly = options.canBeReadOnly ?? false;
    this.maxFrameBytes = options.maxFrameBytes ?? 4 * 1024 * 1024;
    this.retryPolicy = options.retryPolicy;
    this.lostAfterSessionTimeout = options.lostAfterSessionTimeout ?? true;
    this.decoder = new FrameDecoder(this.maxFrameBytes);
    if (options.sessionId !== undefined) {
      this.sessionId = options.sessionId;
      this.passwd = options.sessionPassword ?? ZERO_PASSWD;
    }
    for (const a of options.authInfo ?? []) {
      this.authInfo.push({ scheme: a.scheme, auth: typeof a.auth === 'string' ? Buffer.from(a.auth) : a.auth, waiters: [] });
    }
    if (this.requestTimeout > 0) {
      this.sweeper = setInterval(() => this.sweepTimeouts(), Math.max(10, Math.min(1000, this.requestTimeout / 10)));
      this.sweeper.unref();
    }
    process.nextTick(() => this.startConnect());
  }

  /** Creates a client and resolves once its session is established. */
  static async connect(connectString: string, options: ZooKeeperOptions & { connectTimeout?: number } & AbortOptions = {}): Promise<ZooKeeper> {
    options.signal?.throwIfAborted();
    const zk = new ZooKeeper(connectString, options);
    try {
      await zk.waitConnected({ timeoutMs: options.connectTimeout ?? Math.max(options.sessionTimeout ?? 30000, 1000), signal: options.signal });
    } catch (e) {
      await zk.close();
      throw e;
    }
    return zk;
  }

  // ---------------------------------------------------------------- session state

  get state(): SessionState {
    return this._state;
  }
  get isConnected(): boolean {
    return this._state === 'connected';
  }
  /** Curator-style connection state; null before the first connection. */
  get connectionState(): ConnectionStateName | null {
    return this._connectionState;
  }

  private setConnectionState(s: ConnectionStateName): void {
    if (this._connectionState === s || this._connectionState === 'LOST') return;
    this._connectionState = s;
    this.emit('connectionState', s);
  }
  /** Session id (0n before the first connection). */
  getSessionId(): bigint {
    return this.sessionId;
  }
  getSessionPassword(): Buffer {
    return Buffer.from(this.passwd);
  }
  /** Negotiated session timeout in ms (0 before the first connection). */
  getSessionTimeout(): number {
    return this.negotiatedTimeout;
  }
  /** Highest zxid seen in a reply. */
  getLastZxid(): number {
    return this.lastZxid;
  }
  /** Host of the current connection, if any. */
  getCurrentHost(): HostPort | null {
    return this.connected ? this.currentHost : null;
  }

  private isTerminal(): boolean {
    return this._state === 'closed' || this._state === 'expired' || this._state === 'authFailed';
  }

  private setState(s: SessionState): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s);
  }

  /**
   * Resolves when connected; rejects on expiry/auth failure/close, after `timeoutMs` (0 = no limit)
   * with OperationTimeout, or with `signal.reason` when the signal aborts.
   */
  waitConnected(timeout: number | ({ timeoutMs?: number } & AbortOptions) = 0): Promise<void> {
    const { timeoutMs = 0, signal } = typeof timeout === 'number' ? { timeoutMs: timeout, signal: undefined } : timeout;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this._state === 'connected') return Promise.resolve();
    if (this.isTerminal()) return Promise.reject(this.terminalError());
    return abortableWait<void>(signal, (resolve, reject) => {
      const onState = (s: SessionState) => {
        if (s === 'connected') resolve();
        else if (s === 'expired' || s === 'authFailed' || s === 'closed') reject(this.terminalError());
      };
      this.on('state', onState);
      const timer =
        timeoutMs > 0
          ? setTimeout(() => reject(new ZooKeeperError(Err.OperationTimeout, undefined, `not connected within ${timeoutMs} ms`)), timeoutMs)
          : null;
      return () => {
        if (timer) clearTimeout(timer);
        this.off('state', onState);
      };
    });
  }

  /**
   * Async iterator over state changes; ends after a terminal state (expired, authFailed, closed),
   * or throws `signal.reason` when the signal aborts.
   */
  states(options: AbortOptions = {}): AsyncGenerator<SessionState, void, undefined> {
    const terminal = (s: SessionState) => s === 'expired' || s === 'authFailed' || s === 'closed';
    return pushIterator<SessionState>((push, end) => {
      if (this.isTerminal()) {
        push(this._state);
        end();
        return () => {};
      }
      const onState = (s: SessionState) => {
        push(s);
        if (terminal(s)) end();
      };
      this.on('state', onState);
      return () => this.off('state', onState);
    }, options.signal);
  }

  private terminalError(): ZooKeeperError {
    if (this._state === 'authFailed') return new ZooKeeperError(Err.AuthFailed);
    return new ZooKeeperError(Err.SessionExpired);
  }

  // ---------------------------------------------------------------- connection management

  private startConnect(): void {
    this.retryTimer = null;
    if (this.isTerminal() || this.closing) return;
    const hp = this.hosts.next();
    this.currentHost = hp;
    this.setState('connecting');
    this.emit('connecting', hp);
    const sock = net.connect({ host: hp.host, port: hp.port });
    sock.setNoDelay(true);
    this.socket = sock;
    this.connected = false;
    this.decoder = new FrameDecoder(this.maxFrameBytes);
    // Java gives each host an equal share of the session timeout to complete the handshake.
    const connectTimeout = Math.max(50, Math.floor((this.negotiatedTimeout || this.requestedTimeout) / this.hosts.size));
    this.connectTimer = setTimeout(() => this.dropConnection(sock), connectTimeout);
    sock.on('connect', () => {
      if (sock !== this.socket) return;
      const w = new Writer(64);
      const at = w.beginFrame();
      ConnectRequest.write(w, {
        protocolVersion: 0,
        lastZxidSeen: this.lastZxid,
        timeOut: this.requestedTimeout,
        sessionId: this.sessionId,
        passwd: this.passwd,
      });
      w.bool(this.canBeReadOnly);
      w.endFrame(at);
      sock.write(w.toBuffer());
    });
    sock.on('data', (chunk: Buffer) => {
      if (sock !== this.socket) return;
      this.lastRecv = Date.now();
      try {
        this.decoder.push(chunk, (buf, start, end) => this.onFrame(sock, buf, start, end));
      } catch {
        this.dropConnection(sock);
      }
    });
    sock.on('error', noop);
    sock.on('close', () => this.onSocketClosed(sock));
  }

  /** Abandons a connection (timeouts, protocol errors); the close handler does the rest. */
  private dropConnection(sock: net.Socket): void {
    sock.destroy();
    // 'close' fires asynchronously; handle now so the state is consistent immediately.
    this.onSocketClosed(sock);
  }

  private onSocketClosed(sock: net.Socket): void {
    if (sock !== this.socket) return;
    const wasConnected = this.connected;
    this.socket = null;
    this.connected = false;
    this.clearConnectionTimers();
    this.sentAuth = [];
    // Requests written to the dead connection have an unknown outcome.
    for (const p of this.pending.drain()) this.settle(p, new ZooKeeperError(Err.ConnectionLoss, p.path));
    if (this.closing) {
      this.finish('closed');
      return;
    }
    if (this.isTerminal()) return;
    if (wasConnected) {
      this.setState('disconnected');
      this.emit('disconnected');
      this.suspend();
    }
    this.scheduleReconnect();
  }

  /** SUSPENDED; after a whole session timeout without the session back, LOST (see lostAfterSessionTimeout). */
  private suspend(): void {
    this.setConnectionState('SUSPENDED');
    if (this.lostTimer || !this.lostAfterSessionTimeout || this.negotiatedTimeout <= 0) return;
    this.lostTimer = setTimeout(() => {
      this.lostTimer = null;
      if (!this.connected && !this.isTerminal() && !this.closing) this.finish('expired');
    }, this.negotiatedTimeout);
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.isTerminal() || this.closing) return;
    const delay = this.hosts.roundExhausted() ? Math.floor(Math.random() * this.retryDelay) + 10 : 0;
    this.retryTimer = setTimeout(() => this.startConnect(), delay);
  }

  private clearConnectionTimers(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.connectTimer = null;
    this.heartbeat = null;
  }

  private onFrame(sock: net.Socket, buf: Buffer, start: number, end: number): void {
    const r = new Reader(buf, start, end);
    if (!this.connected) {
      this.onConnectResponse(sock, r);
      return;
    }
    const h = ReplyHeader.read(r);
    if (h.xid === Xid.PING) return;
    if (h.xid === Xid.NOTIFICATION) {
      this.onNotification(WatcherEvent.read(r), h.zxid);
      return;
    }
    if (h.xid === Xid.AUTH) {
      this.onAuthReply(h.err);
      return;
    }
    const p = this.pending.shift();
    if (!p || p.xid !== h.xid) {
      // Replies must come back in request order; anything else means the stream is unusable.
      if (p) this.settle(p, new ZooKeeperError(Err.ConnectionLoss, p.path, `Xid out of order. Got Xid ${h.xid} expected ${p.xid}`));
      this.dropConnection(sock);
      return;
    }
    if (h.zxid > 0) this.lastZxid = h.zxid;
    if (p.settled) return; // timed out locally; the reply only keeps the stream in step
    if (h.err !== Err.OK && h.err !== p.acceptErr) {
      this.settle(p, new ZooKeeperError(h.err, p.path));
      return;
    }
    let result: unknown;
    try {
      result = p.decode(r, h.err);
    } catch (e) {
      this.settle(p, e instanceof Error ? e : new Error(String(e)));
      return;
    }
    p.settled = true;
    p.cleanup?.();
    p.resolve(result);
  }

  private onConnectResponse(sock: net.Socket, r: Reader): void {
    const res = ConnectResponse.read(r);
    const readOnly = r.remaining() > 0 ? r.bool() : false;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    const askedToResume = this.sessionId !== 0n;
    if (res.timeOut <= 0 || (askedToResume && res.sessionId !== this.sessionId)) {
      sock.destroy();
      this.socket = null;
      this.finish('expired');
      return;
    }
    const reconnected = this.everConnected && askedToResume;
    this.sessionId = res.sessionId;
    this.passwd = res.passwd ?? ZERO_PASSWD;
    this.negotiatedTimeout = res.timeOut;
    this.connected = true;
    this.everConnected = true;
    this.hosts.onConnected();
    this.lastSend = this.lastRecv = Date.now();
    this.startHeartbeat(sock);
    this.primeConnection();
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.lostTimer = null;
    this.setState('connected');
    this.setConnectionState(readOnly ? 'READ_ONLY' : reconnected ? 'RECONNECTED' : 'CONNECTED');
    const hp = this.currentHost!;
    this.emit('connected', { sessionId: this.sessionId, sessionTimeout: res.timeOut, host: hp.host, port: hp.port, reconnected, readOnly });
    this.flush();
  }

  /** Auth packets, then setWatches batches, ahead of anything queued meanwhile (ClientCnxn.primeConnection). */
  private primeConnection(): void {
    const first: Packet[] = [];
    for (const a of this.authInfo) {
      first.push(this.makePacket(OpCode.auth, AuthPacket.encode({ type: 0, scheme: a.scheme, auth: a.auth }), undefined, () => undefined));
      first[first.length - 1]!.xid = Xid.AUTH;
      this.sentAuth.push(a);
    }
    if (!this.watches.isEmpty()) {
      const snap = this.watches.snapshot();
      const lists = [snap.data, snap.exist, snap.child, snap.persistent, snap.persistentRecursive].map((l) =>
        l.map((p) => prependChroot(this.chroot, p)),
      );
      const idx = [0, 0, 0, 0, 0];
      while (lists.some((l, i) => idx[i]! < l.length)) {
        const batch: string[][] = [[], [], [], [], []];
        let length = 0;
        while (length < SET_WATCHES_MAX_LENGTH) {
          const k = lists.findIndex((l, i) => idx[i]! < l.length);
          if (k < 0) break;
          const path = lists[k]![idx[k]!++]!;
          batch[k]!.push(path);
          length += path.length;
        }
        const [dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches] = batch as [
          string[], string[], string[], string[], string[],
        ];
        const body =
          persistentWatches.length === 0 && persistentRecursiveWatches.length === 0
            ? { op: OpCode.setWatches, buf: SetWatches.encode({ relativeZxid: this.lastZxid, dataWatches, existWatches, childWatches }) }
            : {
                op: OpCode.setWatches2,
                buf: SetWatches2.encode({
                  relativeZxid: this.lastZxid,
                  dataWatches,
                  existWatches,
                  childWatches,
                  persistentWatches,
                  persistentRecursiveWatches,
                }),
              };
        first.push(this.makePacket(body.op, body.buf, undefined, () => undefined));
      }
    }
    if (first.length) this.outgoing.unshiftAll(first);
  }

  private startHeartbeat(sock: net.Socket): void {
    const timeout = this.negotiatedTimeout;
    const readTimeout = Math.floor((timeout * 2) / 3);
    const pingAfter = Math.floor(timeout / 3);
    const tick = Math.max(10, Math.floor(timeout / 6));
    this.heartbeat = setInterval(() => {
      if (sock !== this.socket || !this.connected) return;
      const now = Date.now();
      if (now - this.lastRecv >= readTimeout) {
        this.dropConnection(sock);
        return;
      }
      if (now - this.lastSend >= pingAfter - tick) {
        const w = new Writer(12);
        const at = w.beginFrame();
        w.int(Xid.PING).int(OpCode.ping);
        w.endFrame(at);
        sock.write(w.toBuffer());
        this.lastSend = now;
      }
    }, tick);
  }

  private onNotification(ev: { type: number; state: number; path: string }, zxid: number): void {
    const path = stripChroot(this.chroot, ev.path);
    const targets = this.watches.materialize(ev.type, path);
    if (targets.size === 0) return;
    const event: WatchedEvent = { type: eventTypeName(ev.type), state: 'SyncConnected', path, zxid };
    for (const w of targets) this.deliver(w, event);
  }

  private deliver(w: Watcher, event: WatchedEvent): void {
    try {
      w(event);
    } catch (e) {
      this.emit('watcherError', e);
    }
  }

  private onAuthReply(err: number): void {
    const entry = this.sentAuth.shift();
    if (err === Err.AuthFailed) {
      const e = new ZooKeeperError(Err.AuthFailed);
      if (entry) for (const w of entry.waiters.splice(0)) w.reject(e);
      this.socket?.destroy();
      this.socket = null;
      this.connected = false;
      this.finish('authFailed');
      return;
    }
    if (entry) for (const w of entry.waiters.splice(0)) w.resolve();
  }

  /** Enters a terminal state: fails everything outstanding, tells watchers, releases resources. */
  private finish(state: 'closed' | 'expired' | 'authFailed'): void {
    if (this.isTerminal()) return;
    this.clearConnectionTimers();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.lostTimer = null;
    if (this.socket) {
      this.socket.destroy();
      this.socket = null;
    }
    this.connected = false;
    const wasConnected = this._state === 'connected';
    this.setState(state);
    if (state === 'expired') this.setConnectionState('LOST');
    const code = state === 'authFailed' ? Err.AuthFailed : state === 'closed' ? Err.ConnectionLoss : Err.SessionExpired;
    for (const p of this.pending.drain()) this.settle(p, new ZooKeeperError(code, p.path));
    const lateCode = state === 'authFailed' ? Err.AuthFailed : Err.SessionExpired;
    for (const p of this.outgoing.drain()) this.settle(p, new ZooKeeperError(lateCode, p.path));
    for (const a of this.authInfo) for (const w of a.waiters.splice(0)) w.reject(new ZooKeeperError(lateCode));
    const keeperState = state === 'closed' ? 'Closed' : state === 'expired' ? 'Expired' : 'AuthFailed';
    const event: WatchedEvent = { type: 'None', state: keeperState, path: null, zxid: -1 };
    for (const w of this.watches.drainAll()) this.deliver(w, event);
    if (state === 'expired') {
      if (wasConnected) this.emit('disconnected');
      this.emit('expired');
    } else if (state === 'authFailed') this.emit('authFailed');
    else this.emit('closed');
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /** Ends the session (closeSession) and the connection. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.isTerminal()) return;
    if (this.closing) return new Promise((r) => this.closeWaiters.push(r));
    if (this.connected) {
      const done = new Promise<void>((r) => this.closeWaiters.push(r));
      const p = this.request<void>(OpCode.closeSession, null, undefined, () => undefined);
      this.closing = true;
      const sock = this.socket;
      p.then(
        () => this.finish('closed'),
        () => this.finish('closed'),
      );
      // If the server never answers, give up after a bounded wait.
      const t = setTimeout(() => sock && this.dropConnection(sock), Math.max(1000, Math.min(this.negotiatedTimeout, 5000)));
      await done;
      clearTimeout(t);
      return;
    }
    this.closing = true;
    this.finish('closed');
  }

  // ---------------------------------------------------------------- request plumbing

  private makePacket(op: number, body: Buffer | null, path: string | undefined, decode: Packet['decode']): Packet {
    return { op, xid: 0, body, path, decode, resolve: noop, reject: noop, settled: false, deadline: 0 };
  }

  private settle(p: Packet, err: unknown): void {
    if (p.settled) return;
    p.settled = true;
    p.cleanup?.();
    p.reject(err as Error);
  }

  /**
   * Sends one request; with a retry policy configured and `idempotent` set, sends it again after
   * retryable failures as the policy allows. The signal abandons the wait (and any further retry):
   * a request already written still gets its reply, which is then dropped, keeping xids in step.
   */
  private async request<T>(
    op: number,
    body: Buffer | null,
    path: string | undefined,
    decode: (r: Reader, err: number) => T,
    extra: RequestExtra = {},
  ): Promise<T> {
    const policy = this.retryPolicy;
    if (!policy || !extra.idempotent) return this.send(op, body, path, decode, extra);
    const started = Date.now();
    for (let retry = 0; ; retry++) {
      try {
        return await this.send(op, body, path, decode, extra);
      } catch (e) {
        if (!isRetryable(e) || this.isTerminal() || this.closing) throw e;
        const pause = policy.allowRetry(retry, Date.now() - started);
        if (pause === false) throw e;
        await sleep(pause, extra.signal);
      }
    }
  }

  private send<T>(op: number, body: Buffer | null, path: string | undefined, decode: (r: Reader, err: number) => T, extra: RequestExtra): Promise<T> {
    if (this.isTerminal() || this.closing) return Promise.reject(new ZooKeeperError(this.closing ? Err.SessionExpired : this.terminalError().code, path));
    const signal = extra.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const p = this.makePacket(op, body, path, decode);
      p.resolve = resolve;
      p.reject = reject;
      if (extra.acceptErr !== undefined) p.acceptErr = extra.acceptErr;
      if (this.requestTimeout > 0) p.deadline = Date.now() + this.requestTimeout;
      if (signal) {
        // A packet still queued is skipped by flush() once settled, so an early abort sends nothing.
        const onAbort = () => this.settle(p, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.outgoing.push(p);
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.connected) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes everything queued as one buffer; each request takes the next xid as it goes out. */
  private flush(): void {
    const sock = this.socket;
    if (!sock || !this.connected || this.outgoing.length === 0) return;
    const w = new Writer(4096);
    let p: Packet | undefined;
    while ((p = this.outgoing.shift())) {
      if (p.settled) continue;
      if (p.xid !== Xid.AUTH) {
        p.xid = this.xid;
        this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1;
        this.pending.push(p);
      }
      const at = w.beginFrame();
      w.int(p.xid).int(p.op);
      if (p.body) w.raw(p.body);
      w.endFrame(at);
    }
    if (w.pos === 0) return;
    sock.write(w.view());
    this.lastSend = Date.now();
  }

  private sweepTimeouts(): void {
    const now = Date.now();
    // Both queues are in submission order, so the scan stops at the first packet still in time.
    // Timed-out packets stay in `pending`: their replies still arrive and keep the xid stream in step.
    const expire = (p: Packet): boolean => {
      if (p.deadline === 0 || p.settled) return false;
      if (p.deadline > now) return true;
      this.settle(p, new ZooKeeperError(Err.RequestTimeout, p.path));
      return false;
    };
    this.pending.scan(expire);
    this.outgoing.scan(expire);
  }

  private serverPath(path: string): string {
    return prependChroot(this.chroot, path);
  }
  private clientPath(path: string): string {
    return stripChroot(this.chroot, path);
  }

  // ---------------------------------------------------------------- operations

  /** Creates a znode and returns its actual path (with the sequence suffix for sequential modes). */
  async create(path: string, data?: Data, options: CreateOptions & OpOptions = {}): Promise<string> {
    const op = createOp(path, data, options);
    const opcode = createOpcode(op.mode, false);
    const w = new Writer(64 + (op.data?.length ?? 0));
    writeCreateBody(w, opcode, this.serverPath(path), op);
    if (opcode === OpCode.create) return this.request(opcode, w.view(), path, (r) => this.clientPath(CreateResponse.read(r).path), wo(options));
    return this.request(opcode, w.view(), path, (r) => this.clientPath(Create2Response.read(r).path), wo(options));
  }

  /** Like create, but also returns the new node's Stat (create2 / createContainer / createTTL). */
  async create2(path: string, data?: Data, options: CreateOptions & OpOptions = {}): Promise<{ path: string; stat: Stat }> {
    const op = createOp(path, data, options);
    const opcode = createOpcode(op.mode, true);
    const w = new Writer(64 + (op.data?.length ?? 0));
    writeCreateBody(w, opcode, this.serverPath(path), op);
    return this.request(opcode, w.view(), path, (r) => {
      const res = Create2Response.read(r);
      return { path: this.clientPath(res.path), stat: res.stat };
    }, wo(options));
  }

  async delete(path: string, version = -1, opts?: OpOptions): Promise<void> {
    validatePath(path);
    return this.request(OpCode.delete, DeleteRequest.encode({ path: this.serverPath(path), version }), path, () => undefined, wo(opts));
  }

  /** Stat of the node, or null if it does not exist. A watcher fires on create, delete or data change. */
  exists(path: string, watch?: null, opts?: OpOptions): Promise<Stat | null>;
  exists(path: string, watcher: Watcher, opts?: OpOptions): Promise<Stat | null>;
  exists(path: string, watch: true, opts?: OpOptions): Promise<{ stat: Stat | null } & WatchPromise>;
  exists(path: string, watch?: Watcher | true | null, opts?: OpOptions): Promise<any> {
    validatePath(path);
    const [watcher, promise] = this.watchArg(watch);
    const body = ExistsRequest.encode({ path: this.serverPath(path), watch: watcher !== null });
    const res = this.request(
      OpCode.exists,
      body,
      path,
      (r, err) => {
        if (err === Err.NoNode) {
          if (watcher) this.watches.addExist(path, watcher);
          return null;
        }
        if (watcher) this.watches.addData(path, watcher);
        return ExistsResponse.read(r).stat;
      },
      { ...ro(opts), acceptErr: Err.NoNode },
    );
    return promise ? res.then((stat) => ({ stat, watch: promise })) : res;
  }

  getData(path: string, watch?: null, opts?: OpOptions): Promise<DataResult>;
  getData(path: string, watcher: Watcher, opts?: OpOptions): Promise<DataResult>;
  getData(path: string, watch: true, opts?: OpOptions): Promise<DataResult & WatchPromise>;
  getData(path: string, watch?: Watcher | true | null, opts?: OpOptions): Promise<any> {
    validatePath(path);
    const [watcher, promise] = this.watchArg(watch);
    const body = GetDataRequest.encode({ path: this.serverPath(path), watch: watcher !== null });
    const res = this.request(OpCode.getData, body, path, (r) => {
      const d = GetDataResponse.read(r);
      if (watcher) this.watches.addData(path, watcher);
      return { data: d.data, stat: d.stat };
    }, ro(opts));
    return promise ? res.then((d) => ({ ...d, watch: promise })) : res;
  }

  /** Unconditional (version -1) setData is retried under the retry policy: repeating it leaves the same data. */
  async setData(path: string, data: Data, version = -1, opts?: OpOptions): Promise<Stat> {
    validatePath(path);
    const body = SetDataRequest.encode({ path: this.serverPath(path), data: toBuffer(data), version });
    return this.request(OpCode.setData, body, path, (r) => SetDataResponse.read(r).stat, version === -1 ? ro(opts) : wo(opts));
  }

  async getACL(path: string, opts?: OpOptions): Promise<{ acl: ACL[]; stat: Stat }> {
    validatePath(path);
    return this.request(OpCode.getACL, GetACLRequest.encode({ path: this.serverPath(path) }), path, (r) => {
      const res = GetACLResponse.read(r);
      return { acl: res.acl ?? [], stat: res.stat };
    }, ro(opts));
  }

  async setACL(path: string, acl: ACL[], version = -1, opts?: OpOptions): Promise<Stat> {
    validatePath(path);
    const body = SetACLRequest.encode({ path: this.serverPath(path), acl, version });
    return this.request(OpCode.setACL, body, path, (r) => SetACLResponse.read(r).stat, version === -1 ? ro(opts) : wo(opts));
  }

  getChildren(path: string, watch?: null, opts?: OpOptions): Promise<string[]>;
  getChildren(path: string, watcher: Watcher, opts?: OpOptions): Promise<string[]>;
  getChildren(path: string, watch: true, opts?: OpOptions): Promise<{ children: string[] } & WatchPromise>;
  getChildren(path: string, watch?: Watcher | true | null, opts?: OpOptions): Promise<any> {
    validatePath(path);
    const [watcher, promise] = this.watchArg(watch);
    const body = GetChildrenRequest.encode({ path: this.serverPath(path), watch: watcher !== null });
    const res = this.request(OpCode.getChildren, body, path, (r) => {
      const c = GetChildrenResponse.read(r).children;
      if (watcher) this.watches.addChild(path, watcher);
      return c;
    }, ro(opts));
    return promise ? res.then((children) => ({ children, watch: promise })) : res;
  }

  /** getChildren plus the parent's Stat (opcode 12, what zkCli `ls -s` uses). */
  getChildren2(path: string, watch?: null, opts?: OpOptions): Promise<ChildrenResult>;
  getChildren2(path: string, watcher: Watcher, opts?: OpOptions): Promise<ChildrenResult>;
  getChildren2(path: string, watch: true, opts?: OpOptions): Promise<ChildrenResult & WatchPromise>;
  getChildren2(path: string, watch?: Watcher | true | null, opts?: OpOptions): Promise<any> {
    validatePath(path);
    const [watcher, promise] = this.watchArg(watch);
    const body = GetChildren2Request.encode({ path: this.serverPath(path), watch: watcher !== null });
    const res = this.request(OpCode.getChildren2, body, path, (r) => {
      const c = GetChildren2Response.read(r);
      if (watcher) this.watches.addChild(path, watcher);
      return { children: c.children, stat: c.stat };
    }, ro(opts));
    return promise ? res.then((c) => ({ ...c, watch: promise })) : res;
  }

  /** Number of all descendants of `path` (not counting the node itself). */
  async getAllChildrenNumber(path: string, opts?: OpOptions): Promise<number> {
    validatePath(path);
    const body = GetAllChildrenNumberRequest.encode({ path: this.serverPath(path) });
    return this.request(OpCode.getAllChildrenNumber, body, path, (r) => GetAllChildrenNumberResponse.read(r).totalNumber, ro(opts));
  }

  /** Ephemeral nodes of this session whose path starts with `prefixPath` (default all). */
  async getEphemerals(prefixPath = '/', opts?: OpOptions): Promise<string[]> {
    const body = GetEphemeralsRequest.encode({ prefixPath: this.serverPath(prefixPath) });
    return this.request(
      OpCode.getEphemerals,
      body,
      prefixPath,
      (r) => GetEphemeralsResponse.read(r).ephemerals.map((p) => this.clientPath(p)),
      ro(opts),
    );
  }

  /** Waits until the server this client is connected to has caught up with the leader. */
  async sync(path: string, opts?: OpOptions): Promise<string> {
    validatePath(path);
    return this.request(OpCode.sync, SyncRequest.encode({ path: this.serverPath(path) }), path, (r) => this.clientPath(SyncResponse.read(r).path), ro(opts));
  }

  transaction(): Transaction {
    return new Transaction((ops) => this.multi(ops));
  }

  /** Runs `ops` atomically. On failure throws the first failing op's error, with `.results` set. */
  async multi(ops: Op[], opts?: OpOptions): Promise<OpResult[]> {
    const body = encodeMulti(ops, (p) => this.serverPath(p));
    const paths = ops.map((o) => o.path);
    const results = (await this.request(OpCode.multi, body.view(), paths[0], (r) => decodeMultiResponse(r, paths, (p) => this.clientPath(p)), wo(opts))) as OpResult[];
    const failure = multiFailure(results);
    if (failure) {
      failure.results = results;
      throw failure;
    }
    return results;
  }

  /** Several reads in one round trip; each result is independent (failed ones are `type: 'error'`). */
  async multiRead(ops: ReadOp[], opts?: OpOptions): Promise<ReadOpResult[]> {
    for (const o of ops) validatePath(o.path);
    const body = encodeMultiRead(ops, (p) => this.serverPath(p));
    const paths = ops.map((o) => o.path);
    return (await this.request(OpCode.multiRead, body.view(), paths[0], (r) => decodeMultiResponse(r, paths, (p) => this.clientPath(p)), ro(opts))) as ReadOpResult[];
  }

  /**
   * Adds a persistent (or persistent recursive) watch; `watcher` gets every matching event until the
   * watch is removed. Re-registered automatically after reconnects.
   */
  async addWatch(path: string, watcher: Watcher, mode: AddWatchModeName = 'PERSISTENT', opts?: OpOptions): Promise<void> {
    validatePath(path);
    const recursive = mode === 'PERSISTENT_RECURSIVE';
    const body = AddWatchRequest.encode({
      path: this.serverPath(path),
      mode: recursive ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT,
    });
    await this.request(OpCode.addWatch, body, path, (r) => {
      if (r.remaining() >= 4) ErrorResponse.read(r);
      this.watches.addPersistent(path, watcher, recursive);
    }, ro(opts));
  }

  /**
   * Watch events of `path` as an async iterator: `for await (const ev of zk.watch(path, { signal }))`.
   * Backed by a persistent watch (recursive with `recursive: true`), so no change between two events
   * is missed while connected; after a reconnect the watch is re-registered, but changes made while
   * disconnected produce no event (as with any persistent watch). The watch is removed when the loop
   * ends (break, abort, or an error). The session closing ends the loop; expiry or an auth failure
   * throws SessionExpiredError / AuthFailedError.
   */
  watch(path: string, options: { recursive?: boolean } & AbortOptions = {}): AsyncGenerator<WatchedEvent, void, undefined> {
    validatePath(path);
    const { recursive = false, signal } = options;
    return pushIterator<WatchedEvent>(async (push, end) => {
      const watcher: Watcher = (ev) => {
        if (ev.type === 'None') end(ev.state === 'Closed' ? undefined : this.terminalError());
        else if (ev.type === 'PersistentWatchRemoved') end();
        else push(ev);
      };
      await this.addWatch(path, watcher, recursive ? 'PERSISTENT_RECURSIVE' : 'PERSISTENT', { signal });
      return async () => {
        if (this.isTerminal() || this.closing) return;
        const type = recursive ? 'PersistentRecursive' : 'Persistent';
        await this.removeWatches(path, type, { watcher, local: true }).catch(() => {});
        // 3.8 servers know no Persistent watcher type for checkWatches/removeWatches, so the server's
        // watch can only go with every watch of this connection on the path: done when none of ours
        // remains there (if disconnected, the reconnect does not re-register it anyway).
        if (!this.connected || this.watches.contains(path, 'Any')) return;
        const body = RemoveWatchesRequest.encode({ path: this.serverPath(path), type: WatcherType.Any });
        await this.request(OpCode.removeWatches, body, path, () => undefined).catch(() => {});
      };
    }, signal);
  }

  /**
   * Removes watches of `type` on `path`: only `watcher` when given (opcode checkWatches, as Java does),
   * otherwise all (opcode removeWatches). With `local`, only the client side is cleared and the server is
   * not asked (works while disconnected). Removed watchers get a *WatchRemoved event.
   */
  async removeWatches(path: string, type: WatcherTypeName = 'Any', options: { watcher?: Watcher; local?: boolean } & OpOptions = {}): Promise<void> {
    validatePath(path);
    const { watcher, local } = options;
    if (!this.watches.contains(path, type, watcher)) throw new ZooKeeperError(Err.NoWatcher, path);
    if (!local) {
      const opcode = watcher ? OpCode.checkWatches : OpCode.removeWatches;
      const rec = watcher ? CheckWatchesRequest : RemoveWatchesRequest;
      await this.request(opcode, rec.encode({ path: this.serverPath(path), type: watcherTypeCode[type] }), path, () => undefined, wo(options));
    }
    for (const [w, evType] of this.watches.remove(path, type, watcher)) {
      this.deliver(w, { type: evType, state: 'SyncConnected', path, zxid: -1 });
    }
  }

  /** Asks the server whether this connection holds a watch of `type` on `path` (NoWatcher if not). */
  async checkWatches(path: string, type: WatcherTypeName = 'Any', opts?: OpOptions): Promise<void> {
    validatePath(path);
    const body = CheckWatchesRequest.encode({ path: this.serverPath(path), type: watcherTypeCode[type] });
    await this.request(OpCode.checkWatches, body, path, () => undefined, ro(opts));
  }

  /** The identities the server associates with this connection. */
  async whoAmI(opts?: OpOptions): Promise<Array<{ authScheme: string; user: string }>> {
    return this.request(OpCode.whoAmI, null, undefined, (r) => WhoAmIResponse.read(r).clientInfo, ro(opts));
  }

  /**
   * Adds credentials to the session (e.g. `addAuth('digest', 'user:password')`); they are re-sent on
   * every reconnect. Resolves when the server has accepted them.
   */
  addAuth(scheme: string, auth: string | Buffer): Promise<void> {
    if (this.isTerminal() || this.closing) return Promise.reject(this.terminalError());
    const entry: AuthEntry = { scheme, auth: typeof auth === 'string' ? Buffer.from(auth, 'utf8') : auth, waiters: [] };
    this.authInfo.push(entry);
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    if (this.connected) {
      const p = this.makePacket(OpCode.auth, AuthPacket.encode({ type: 0, scheme, auth: entry.auth }), undefined, () => undefined);
      p.xid = Xid.AUTH;
      this.sentAuth.push(entry);
      this.outgoing.push(p);
      this.scheduleFlush();
    }
    return done;
  }

  private watchArg(watch: Watcher | true | null | undefined): [Watcher | null, Promise<WatchedEvent> | null] {
    if (watch === undefined || watch === null) return [null, null];
    if (watch === true) {
      let resolve!: (e: WatchedEvent) => void;
      const promise = new Promise<WatchedEvent>((r) => (resolve = r));
      return [(e) => resolve(e), promise];
    }
    return [watch, null];
  }
}

