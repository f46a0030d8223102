// One client TCP connection: framing, ordered replies batched into one socket write per tick,
// and watch delivery. What requests mean is the pipeline's business (pipeline/RequestPipeline).
import type { Socket } from 'node:net';
import { Reader, Writer } from '../jute/archive.js';
import type { Codec } from '../jute/codec.js';
import { KeeperState, Perm, Xid } from '../protocol/constants.js';
import { ReplyHeader, WatcherEvent, type ACL } from '../protocol/records.js';
import type { Identity } from '../auth/AuthProviders.js';
import type { Watcher } from '../tree/WatchManager.js';
import { hasPerm } from './AclCheck.js';
import type { ClientChannel } from './pipeline/ClientChannel.js';

export interface ConnectionHost {
  onFrame(conn: Connection, frame: Buffer): void;
  onFourLetterWord(conn: Connection, word: string, rest: Buffer): void;
  isFourLetterWord(word: string): boolean;
  onClose(conn: Connection): void;
  readonly maxBuffer: number;
  readonly skipACL: boolean;
  /** A watch notification of `frameBytes` (length prefix included) was queued. */
  notificationSent(frameBytes: number): void;
  /** Hand this connection the notifications of a spread fan-out it is still owed. */
  deliverPendingNotifications(conn: Connection): void;
}


/** Replies and notifications a peer may leave unread before it is disconnected. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

/**
 * Socket writes per turn (issue 10). Each connection's output of a turn is one write, made
 * after the turn; a write waking 10,000 watchers would otherwise make 10,000 writes in one
 * go (~15 us each). Beyond this many, the rest go in the following turns. A connection's
 * replies and notifications share one buffer, so their order is kept whatever the delay.
 */
const FLUSHES_PER_TURN = 256;
const flushQueue: Array<{ flushOutput(): void }> = [];
let flushHead = 0;
let flushScheduled = false;

function queueFlush(c: { flushOutput(): void }): void {
  flushQueue.push(c);
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(drainFlushes);
  }
}

function drainFlushes(): void {
  flushScheduled = false;
  const stop = Math.min(flushQueue.length, flushHead + FLUSHES_PER_TURN);
  while (flushHead < stop) flushQueue[flushHead++]!.flushOutput();
  if (flushHead < flushQueue.length) {
    flushScheduled = true;
    setImmediate(drainFlushes);
  } else {
    flushQueue.length = 0;
    flushHead = 0;
  }
}
/**
 * Requests handled per turn across all connections (issue 10). When 10,000 clients each send a
 * request at once, one poll of the event loop reads all of them; handling them there too held
 * the loop for hundreds of ms. Past this many in a turn, a connection keeps what it read and is
 * queued to go on in the next turn, in order, so each connection's requests keep their order.
 */
const FRAMES_PER_TURN = 500;
let framesThisTurn = 0;
const parseQueue: Connection[] = [];
let parseHead = 0;

function countFrame(): void {
  if (framesThisTurn++ === 0) setImmediate(newTurn);
}

function newTurn(): void {
  framesThisTurn = 0;
  while (parseHead < parseQueue.length && framesThisTurn < FRAMES_PER_TURN) parseQueue[parseHead++]!.parseQueued();
  if (parseHead < parseQueue.length) {
    // Budget spent: countFrame has scheduled the next turn; if nothing was counted, do it here.
    if (framesThisTurn === 0) setImmediate(newTurn);
  } else {
    parseQueue.length = 0;
    parseHead = 0;
  }
}

/**
 * Connections whose peer went away (FIN, reset), closed at most CLOSES_PER_TURN per turn (issue
 * 10). When 10,000 clients drop together the event loop sees 10,000 EOFs in one poll; closing
 * each there (ending the socket, dropping its watches and session link) held the loop for
 * hundreds of ms. In the poll a connection is only queued; the rest is done in slices.
 */
const CLOSES_PER_TURN = 500;
const closeQueue: Connection[] = [];
let closeHead = 0;
let closeScheduled = false;

function queueClose(c: Connection): void {
  closeQueue.push(c);
  if (!closeScheduled) {
    closeScheduled = true;
    setImmediate(drainCloses);
  }
}

function drainCloses(): void {
  const stop = Math.min(closeQueue.length, closeHead + CLOSES_PER_TURN);
  while (closeHead < stop) closeQueue[closeHead++]!.peerGone();
  if (closeHead < closeQueue.length) {
    setImmediate(drainCloses);
  } else {
    closeScheduled = false;
    closeQueue.length = 0;
    closeHead = 0;
  }
}

/**
 * The last notification frame encoded. WatchManager fires every watcher of an event back to back
 * and the bytes (xid -1, zxid -1, type, state, path) are the same for each, so one write of 10,000
 * watches encodes once instead of 10,000 times.
 */
let lastNotification: { type: number; path: string; frame: Buffer } | null = null;

function notificationFrame(type: number, path: string): Buffer {
  const last = lastNotification;
  if (last && last.type === type && last.path === path) return last.frame;
  const w = new Writer(64 + path.length * 3);
  const at = w.beginFrame();
  ReplyHeader.write(w, { xid: Xid.NOTIFICATION, zxid: -1, err: 0 });
  WatcherEvent.write(w, { type, state: KeeperState.SyncConnected, path });
  w.endFrame(at);
  const frame = Buffer.from(w.view());
  lastNotification = { type, path, frame };
  return frame;
}

/** Past this much unread output we stop handling the peer's requests until it reads. */
const OUTPUT_HIGH_WATER_BYTES = 4 * 1024 * 1024;

export class Connection implements Watcher, ClientChannel {
  sessionId = 0n;
  sessionTimeout = 0;
  /** Set once the ConnectResponse has been sent. */
  established = false;
  /** A ConnectRequest has been received (further frames wait until it is answered). */
  handshakeStarted = false;
  closed = false;
  identities: Identity[];
  /** Requests of this connection queued behind in-flight writes. */
  inflight = 0;
  /** Whether the ConnectRequest carried the trailing readOnly byte. */
  sentReadOnlyFlag = false;
  /** Watch events fired for this connection and not yet queued on it (WatchManager fan-out). */
  pendingNotifications = 0;

  readonly remoteAddress: string;
  readonly remotePort: number;
  // Statistics for cons/stat/mntr.
  packetsReceived = 0;
  packetsSent = 0;
  establishedAt = Date.now();
  lastOp = 'NA';
  lastCxid = -1;
  lastZxid = -1;
  lastResponseTime = 0;
  lastLatency = 0;
  minLatency = Number.MAX_SAFE_INTEGER;
  maxLatency = 0;
  totalLatency = 0;
  latencyCount = 0;
  lastRecvAt = Date.now();

  /**
   * Bytes received but not yet parsed, kept as chunks until a whole frame (or length prefix) is
   * there: a peer trickling a large frame in tiny segments costs linear, not quadratic, copying.
   */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needBytes = 4;

  constructor(readonly socket: Socket, private readonly host: ConnectionHost, remoteAddress: string) {
    this.remoteAddress = remoteAddress;
    this.remotePort = socket.remotePort ?? 0;
    this.identities = [{ scheme: 'ip', id: remoteAddress }];
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    // The server socket allows half-open connections, so a peer's FIN ('end') is ours to
    // answer: with the replies already made, in a later turn (see CLOSES_PER_TURN).
    socket.on('end', () => this.closeSoon());
    socket.on('error', () => this.closeSoon());
    socket.on('close', () => this.closeSoon());
  }

  private closeQueued = false;

  /** The peer is gone or going: close in a later turn, in a slice with others. */
  private closeSoon(): void {
    if (this.closed || this.closeQueued) return;
    this.closeQueued = true;
    queueClose(this);
  }

  /**
   * Queued by closeSoon. A peer that sent requests and then its FIN (a closeSession in the same
   * segment, say) gets their replies first: the close waits until what it sent is handled and
   * answered (bounded by the session timeout, ClientFront.tick). A reset socket closes at once.
   */
  peerGone(): void {
    if (this.closed) return;
    if (this.socket.destroyed) return this.close();
    // A four-letter word's answer closes the connection once written (FourLetterWords.run).
    if (this.pausedFor.has('4lw')) return;
    if (this.parseWaiting || this.inflight > 0 || (this.handshakeStarted && !this.established)) {
      this.closeQueued = false;
      setTimeout(() => this.closeSoon(), 5).unref();
      return;
    }
    this.closeAfterFlush();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastRecvAt = Date.now();
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.parse();
  }

  /** Bytes of replies produced but not yet taken by the peer. */
  private get unsentBytes(): number {
    return (this.out?.pos ?? 0) + (this.outShared?.length ?? 0) + this.socket.writableLength;
  }

  /** Waiting in parseQueue for a turn with request budget left. */
  private parseWaiting = false;

  /** Its turn in parseQueue. */
  parseQueued(): void {
    this.parseWaiting = false;
    this.parse();
  }

  /** Handle every whole frame received, unless the peer is not reading what we answer. */
  private parse(): void {
    if (this.pendingBytes < this.needBytes || this.pausedFor.has('output') || this.parseWaiting) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.needBytes = 4;
    let off = 0;
    while (buf.length - off >= 4 && !this.closed) {
      if (framesThisTurn >= FRAMES_PER_TURN) {
        this.parseWaiting = true;
        parseQueue.push(this);
        break;
      }
      if (!this.handshakeStarted && off === 0 && this.packetsReceived === 0) {
        const word = buf.toString('latin1', 0, 4);
        if (this.host.isFourLetterWord(word)) {
          this.host.onFourLetterWord(this, word, buf.subarray(4));
          return;
        }
      }
      // While the session is being created nothing more is read (as ZooKeeper disables receive):
      // what already arrived stays unparsed, so a peer cannot make us buffer without bound.
      if (this.handshakeStarted && !this.established) break;
      if (this.unsentBytes > OUTPUT_HIGH_WATER_BYTES) {
        // Leave the rest for when the peer has read its replies.
        this.flush();
        if (!this.pausedFor.has('output')) this.waitForDrain();
        break;
      }
      const len = buf.readInt32BE(off);
      if (len < 0 || len > this.host.maxBuffer) {
        // "Len error": the connection is closed without a reply.
        this.close();
        return;
      }
      if (buf.length - off - 4 < len) {
        this.needBytes = 4 + len;
        break;
      }
      const frame = buf.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      countFrame();
      this.packetsReceived++;
      this.host.onFrame(this, frame);
    }
    if (off < buf.length && !this.closed) {
      // Copy the tail so a retained partial frame does not pin the whole chunk.
      const rest = Buffer.from(buf.subarray(off));
      this.pending.unshift(rest);
      this.pendingBytes += rest.length;
    }
  }

  private waitForDrain(): void {
    this.pauseReading('output');
    this.socket.once('drain', () => {
      this.resumeReading('output');
      this.parse();
    });
  }

  /** The ConnectRequest is being handled: read nothing more until it is answered. */
  holdForHandshake(): void {
    this.handshakeStarted = true;
    this.pauseReading('handshake');
  }

  /** The session is established: handle what arrived meanwhile and read on. */
  handshakeDone(): void {
    this.established = true;
    this.resumeReading('handshake');
    this.parse();
  }

  /** Replies of the current tick, encoded back to back; sent as one write. */
  private out: Writer | null = null;

  /** A shared frame (a notification) that is this turn's only output so far: sent without a Writer. */
  private outShared: Buffer | null = null;

  private outWriter(): Writer {
    if (!this.out) {
      this.out = new Writer(4096);
      if (this.outShared) {
        this.out.raw(this.outShared);
        this.outShared = null;
      } else {
        queueFlush(this);
      }
    }
    return this.out;
  }

  /** The queued flush of this turn's output (see FLUSHES_PER_TURN). */
  flushOutput(): void {
    this.flush();
  }

  private flush(): void {
    const w = this.out;
    const shared = this.outShared;
    this.out = null;
    this.outShared = null;
    if (!w && !shared || this.socket.destroyed || this.closed && this.socket.writableEnded) return;
    if (!this.socket.write(w ? w.view() : shared!)) {
      // The peer is not reading: stop reading its requests until its replies drain, and cut it
      // off if even notifications pile up beyond the bound.
      if (this.socket.writableLength > MAX_UNSENT_BYTES) {
        this.socket.destroy();
        this.close();
        return;
      }
      if (!this.pausedFor.has('output')) this.waitForDrain();
    }
  }

  private pausedFor = new Set<string>();

  /** Stop reading requests for a reason; reading resumes when every reason is lifted. */
  pauseReading(reason: string): void {
    if (this.pausedFor.size === 0) this.socket.pause();
    this.pausedFor.add(reason);
  }

  resumeReading(reason: string): void {
    if (!this.pausedFor.delete(reason) || this.pausedFor.size > 0 || this.closed) return;
    this.socket.resume();
  }

  /**
   * Before any reply: events fired earlier for this connection go out first, so a client
   * never sees anything of a state after a change before that change's watch event.
   */
  private eventsFirst(): void {
    if (this.pendingNotifications > 0) this.host.deliverPendingNotifications(this);
  }

  /** Queue raw bytes behind this tick's replies. */
  write(b: Buffer): void {
    if (this.closed) return;
    this.eventsFirst();
    this.outWriter().raw(b);
  }

  /** Send ReplyHeader + optional body as one frame; returns its size in bytes. */
  reply<T>(xid: number, zxid: number, err: number, codec?: Codec<T>, body?: T): number {
    if (this.closed) return 0;
    this.eventsFirst();
    const w = this.outWriter();
    const start = w.pos;
    const at = w.beginFrame();
    ReplyHeader.write(w, { xid, zxid, err });
    if (codec) codec.write(w, body as T);
    w.endFrame(at);
    this.packetsSent++;
    return w.pos - start;
  }

  /** Send a pre-framed message (ConnectResponse). */
  sendFrame(write: (w: Writer) => void): void {
    if (this.closed) return;
    this.eventsFirst();
    const w = this.outWriter();
    const at = w.beginFrame();
    write(w);
    w.endFrame(at);
    this.packetsSent++;
  }

  notify(type: number, path: string): void {
    if (this.closed) return;
    // 3.8 servers send zxid -1 in notifications.
    const frame = notificationFrame(type, path);
    if (!this.out && !this.outShared) {
      this.outShared = frame;
      queueFlush(this);
    } else {
      this.outWriter().raw(frame);
    }
    this.packetsSent++;
    this.host.notificationSent(frame.length);
  }

  canRead(acl: ACL[]): boolean {
    return hasPerm(acl, Perm.READ, this.identities, this.host.skipACL);
  }

  noteResponse(op: string, zxid: number, latencyMs: number): void {
    this.lastOp = op;
    this.lastZxid = zxid;
    this.recordLatency(latencyMs);
  }

  recordLatency(ms: number): void {
    this.lastLatency = ms;
    this.lastResponseTime = Date.now();
    if (ms < this.minLatency) this.minLatency = ms;
    if (ms > this.maxLatency) this.maxLatency = ms;
    this.totalLatency += ms;
    this.latencyCount++;
  }

  resetStats(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatency = Number.MAX_SAFE_INTEGER;
    this.maxLatency = 0;
    this.totalLatency = 0;
    this.latencyCount = 0;
    this.lastLatency = 0;
    this.lastOp = 'NA';
    this.lastCxid = -1;
    this.lastZxid = -1;
    this.lastResponseTime = 0;
  }

  /** Close after pending output is flushed. */
  closeAfterFlush(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out = null;
    this.outShared = null;
    if (!this.socket.destroyed) {
      if (!this.socket.writableEnded) this.socket.end();
      // Read on (and discard) until the peer's FIN, even if reading was paused: a paused socket
      // would never notice the peer going away.
      this.socket.resume();
      // Force the socket down if the peer never reads.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.host.onClose(this);
  }
}
