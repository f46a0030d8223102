// The client front: accepts TCP connections, enforces connection limits, answers four-letter
// words, performs the session handshake and auth, and hands every other request to the
// pipeline by session id.
import net from 'node:net';
import { Reader, JuteError } from '../jute/archive.js';
import { Err, OpCode } from '../protocol/constants.js';
import { AuthPacket, ConnectRequest, ConnectResponse, GetSASLRequest, SetSASLResponse } from '../protocol/records.js';
import { authenticate, normaliseAddress } from '../auth/AuthProviders.js';
import { sessionPassword } from '../session/SessionPassword.js';
import type { SessionTracker } from '../session/SessionTracker.js';
import type { Clock } from '../runtime/Runtime.js';
import { Connection, type ConnectionHost } from './Connection.js';
import type { RequestPipeline } from './pipeline/RequestPipeline.js';
import type { ServerStats } from './ServerStats.js';

/** A request frame starts with its RequestHeader: xid and type, two ints. */
const REQUEST_HEADER_BYTES = 8;

export interface FrontSettings {
  maxBuffer: number;
  skipACL: boolean;
  maxClientCnxns: number;
  maxCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  superDigest: string | undefined;
}

export interface FrontHooks {
  isFourLetterWord(word: string): boolean;
  runFourLetterWord(conn: Connection, word: string, rest: Buffer): void;
  /** Zxid of the last applied txn (a client that has seen more must go elsewhere). */
  lastZxid(): number;
  /**
   * Whether a session a client reconnects with is still alive. A quorum learner asks its leader
   * (REVALIDATE), which owns session expiry; absent, the local tracker answers.
   */
  revalidateSession?: (sessionId: bigint, timeout: number, done: (valid: boolean) => void) => void;
  error(msg: string): void;
  /** Undefined while the level is off, so callers build no message then; source is `thread:Class`. */
  info?: ((msg: string, source?: string) => void) | undefined;
  debug?: ((msg: string, source?: string) => void) | undefined;
}

/** ZooKeeper's session ids in its logs: Long.toHexString, unsigned, no padding. */
const hexId = (id: bigint) => BigInt.asUintN(64, id).toString(16);
/** InetSocketAddress.toString() of a client, as ZooKeeper's log lines show it. */
const clientAddr = (c: Connection) => `/${c.remoteAddress}:${c.remotePort}`;
/** The thread ZooKeeper's NIO server handles connections on, for the log layout. */
const CNXN_THREAD = 'NIOWorkerThread-1';

/** A connection that has not completed its handshake within this long is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10000;

export class ClientFront implements ConnectionHost {
  readonly connections = new Set<Connection>();
  readonly sessionConns = new Map<bigint, Connection>();
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly settings: FrontSettings,
    private readonly pipeline: RequestPipeline,
    private readonly tracker: SessionTracker,
    private readonly clock: Clock,
    private readonly stats: ServerStats,
    private readonly hooks: FrontHooks,
  ) {}

  get maxBuffer(): number {
    return this.settings.maxBuffer;
  }
  get skipACL(): boolean {
    return this.settings.skipACL;
  }

  accept(socket: net.Socket): void {
    const ip = normaliseAddress(socket.remoteAddress);
    const count = this.perIp.get(ip) ?? 0;
    const s = this.settings;
    if ((s.maxClientCnxns > 0 && count >= s.maxClientCnxns) || (s.maxCnxns > 0 && this.connections.size >= s.maxCnxns)) {
      // Excess sockets are accepted and dropped without a word, as ZooKeeper does.
      this.stats.recordConnectionRejected();
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    this.hooks.debug?.(
      `Accepted socket connection from /${ip}:${socket.remotePort}`,
      `NIOServerCxnFactory.AcceptThread:/${socket.localAddress}:${socket.localPort}:NIOServerCnxnFactory`,
    );
    this.connections.add(new Connection(socket, this, ip));
  }

  onClose(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    const ip = conn.remoteAddress;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    this.pipeline.watches.removeWatcher(conn);
    this.pipeline.forget(conn);
    if (this.sessionConns.get(conn.sessionId) === conn) this.sessionConns.delete(conn.sessionId);
    this.hooks.debug?.(
      `Closed socket connection for client ${clientAddr(conn)} ` +
        (conn.sessionId !== 0n ? `which had sessionid 0x${hexId(conn.sessionId)}` : '(no session established for client)'),
      `${CNXN_THREAD}:NIOServerCnxn`,
    );
  }

  notificationSent(frameBytes: number): void {
    this.stats.recordNotification(frameBytes);
  }

  deliverPendingNotifications(conn: Connection): void {
    this.pipeline.watches.deliverPending(conn);
  }

  isFourLetterWord(word: string): boolean {
    return this.hooks.isFourLetterWord(word);
  }

  onFourLetterWord(conn: Connection, word: string, rest: Buffer): void {
    this.hooks.runFourLetterWord(conn, word, rest);
  }

  onFrame(conn: Connection, frame: Buffer): void {
    this.stats.recordPacketReceived(frame.length + 4);
    try {
      if (!conn.handshakeStarted) this.onConnect(conn, frame);
      else this.onRequest(conn, frame);
    } catch (e) {
      // A client can never take the server down: log and drop that connection.
      if (!(e instanceof JuteError || e instanceof RangeError)) this.hooks.error(`request failed: ${(e as Error)?.stack ?? String(e)}`);
      conn.close();
    }
  }

  private onConnect(conn: Connection, frame: Buffer): void {
    const r = new Reader(frame, 0, frame.length, this.settings.maxBuffer * 2);
    const req = ConnectRequest.read(r);
    conn.sentReadOnlyFlag = r.remaining() >= 1;
    this.stats.recordConnectionRequest();
    conn.holdForHandshake();
    if (req.lastZxidSeen > this.hooks.lastZxid()) {
      // The client has seen a newer state than ours: it must try another server.
      conn.close();
      return;
    }
    const timeout = Math.min(Math.max(req.timeOut, this.settings.minSessionTimeout), this.settings.maxSessionTimeout);
    if (req.sessionId === 0n) {
      this.pipeline.createSession(conn, timeout, (id) => {
        if (id === null) conn.close();
        else this.attach(conn, id, timeout);
      });
      return;
    }
    // Every existing connection of the session goes first, before the password is checked.
    const old = this.sessionConns.get(req.sessionId);
    if (old && old !== conn) old.close();
    const passwdOk = req.passwd != null && req.passwd.equals(sessionPassword(req.sessionId));
    const finish = (ok: boolean) => {
      if (conn.closed) return;
      if (!ok) {
        this.hooks.info?.(`Invalid session 0x${hexId(req.sessionId)} for client ${clientAddr(conn)}, probably expired`, `${CNXN_THREAD}:ZooKeeperServer`);
        conn.sendFrame((w) => {
          ConnectResponse.write(w, { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16) });
          if (conn.sentReadOnlyFlag) w.bool(false);
        });
        conn.closeAfterFlush();
        return;
      }
      this.tracker.add(req.sessionId, timeout, this.clock.now());
      this.attach(conn, req.sessionId, timeout);
    };
    if (!passwdOk) return finish(false);
    if (this.hooks.revalidateSession) this.hooks.revalidateSession(req.sessionId, timeout, finish);
    else finish(this.tracker.isActive(req.sessionId));
  }

  private attach(conn: Connection, id: bigint, timeout: number): void {
    if (conn.closed) return;
    conn.sessionId = id;
    conn.sessionTimeout = timeout;
    this.sessionConns.set(id, conn);
    conn.sendFrame((w) => {
      ConnectResponse.write(w, { protocolVersion: 0, timeOut: timeout, sessionId: id, passwd: sessionPassword(id) });
      if (conn.sentReadOnlyFlag) w.bool(false);
    });
    this.stats.packetsSent++;
    this.hooks.debug?.(`Established session 0x${hexId(id)} with negotiated timeout ${timeout} for client ${clientAddr(conn)}`, `${CNXN_THREAD}:ZooKeeperServer`);
    conn.lastOp = 'SESS';
    conn.handshakeDone();
  }

  private onRequest(conn: Connection, frame: Buffer): void {
    // The RequestHeader (xid, type) read in place: no Reader or record object per request.
    if (frame.length < REQUEST_HEADER_BYTES) {
      throw new JuteError(`truncated record: need ${REQUEST_HEADER_BYTES} bytes for the request header, have ${frame.length}`);
    }
    const xid = frame.readInt32BE(0);
    const type = frame.readInt32BE(4);
    const body = frame.subarray(REQUEST_HEADER_BYTES);
    this.tracker.touch(conn.sessionId, this.clock.now());
    conn.lastCxid = xid;
    if (type === OpCode.auth) return this.onAuth(conn, xid, body);
    if (type === OpCode.sasl) {
      // No SASL provider: answer with an empty token, outside the ordered pipeline.
      GetSASLRequest.read(new Reader(body));
      conn.reply(xid, 0, 0, SetSASLResponse, { token: null });
      return;
    }
    if (this.pipeline.submit(conn, xid, type, body)) return;
    // Unknown opcode (and a stand-alone check): Unimplemented, then the connection closes.
    conn.reply(xid, -1, Err.Unimplemented);
    conn.closeAfterFlush();
  }

  private onAuth(conn: Connection, xid: number, body: Buffer): void {
    const p = AuthPacket.read(new Reader(body, 0, body.length, this.settings.maxBuffer * 2));
    const ids = authenticate(p.scheme, p.auth, conn.remoteAddress, this.settings.superDigest);
    if (!ids) {
      this.stats.authFailed++;
      conn.reply(xid, 0, Err.AuthFailed);
      conn.closeAfterFlush();
      return;
    }
    for (const id of ids) {
      if (!conn.identities.some((x) => x.scheme === id.scheme && x.id === id.id)) conn.identities.push(id);
    }
    conn.reply(xid, 0, Err.OK);
  }

  /** Expiry closes the session's connection silently. */
  dropSession(id: bigint): void {
    const conn = this.sessionConns.get(id);
    if (!conn) return;
    this.sessionConns.delete(id);
    conn.close();
  }

  /** Connections silent past their session timeout, or stuck in the handshake, are closed. */
  tick(now: number): void {
    for (const c of this.connections) {
      if (c.established) {
        if (now - c.lastRecvAt > c.sessionTimeout) c.close();
      } else if (now - c.establishedAt > HANDSHAKE_TIMEOUT_MS) {
        this.stats.recordSessionlessConnectionExpired();
        c.close();
      }
    }
  }

  closeAll(): void {
    for (const c of [...this.connections]) {
      c.socket.destroy();
      c.close();
    }
  }
}
