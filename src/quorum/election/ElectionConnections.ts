// The connection rules of ZooKeeper's election port (QuorumCnxManager) as a pure state machine,
// so the wiring only moves bytes: which of two connections between a pair of members survives
// (the one the larger sid opened), one send slot per peer whose newer message replaces an unsent
// older one, the re-send of the last message when a fresh connection starts, the loop-back of a
// member's messages to itself, and haveDelivered for the election's timeout. Messages are opaque
// (encoded notifications); connection ids are the wiring's.

export type ConnId = number;

export type ConnectionOutput<M> =
  /** Open a TCP connection to sid's election address; report dialed() or dialFailed(). */
  | { type: 'dial'; sid: bigint }
  /** Write our initial message (protocol version, our sid, our election address) on conn. */
  | { type: 'writeInitial'; conn: ConnId }
  /** Write one length-prefixed message; report writeDone(conn) when the socket took it. */
  | { type: 'write'; conn: ConnId; sid: bigint; message: M }
  | { type: 'close'; conn: ConnId }
  /** A message for the election (from a peer, or our own looped back). */
  | { type: 'deliver'; from: bigint; message: M }
  /**
   * The connection in use to sid is gone: what we last wrote on it may be lost, and sid may have
   * died. (The wiring tells the election, which need not wait out finalizeWait for sid's vote.)
   */
  | { type: 'lost'; sid: bigint }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string };

interface Peer<M> {
  conn: ConnId | null;
  /** The send slot (Apache: a queue of capacity 1). */
  queued: M | null;
  writing: boolean;
  last: M | null;
  dialing: boolean;
}

export class ElectionConnections<M> {
  private readonly peers = new Map<bigint, Peer<M>>();
  /** Connections whose initial message said which sid is on the other end. */
  private readonly sidOf = new Map<ConnId, bigint>();
  /** Our own dials, before we know whether we keep them. */
  private readonly dialOf = new Map<ConnId, bigint>();

  constructor(readonly myId: bigint) {}

  /** Queue a message for sid (FastLeaderElection's sends), dialing if there is no connection. */
  send(to: bigint, message: M): ConnectionOutput<M>[] {
    if (to === this.myId) return [{ type: 'deliver', from: to, message }];
    const out: ConnectionOutput<M>[] = [];
    const p = this.peer(to);
    p.queued = message;
    if (p.conn !== null) this.pump(to, p, out);
    else this.connectOne(to, p, out);
    return out;
  }

  /** The election timed out and nothing was delivered: dial every peer we have sent to. */
  connectAll(): ConnectionOutput<M>[] {
    const out: ConnectionOutput<M>[] = [];
    for (const [sid, p] of this.peers) this.connectOne(sid, p, out);
    return out;
  }

  /** Some peer's send slot is empty (QuorumCnxManager.haveDelivered). */
  haveDelivered(): boolean {
    for (const p of this.peers.values()) if (p.queued === null) return true;
    return false;
  }

  /** Our dial to sid connected as conn. */
  dialed(sid: bigint, conn: ConnId): ConnectionOutput<M>[] {
    const out: ConnectionOutput<M>[] = [{ type: 'writeInitial', conn }];
    const p = this.peer(sid);
    p.dialing = false;
    if (sid > this.myId) {
      // Only the larger sid's connection survives: announce ourselves so it dials back, then drop.
      out.push({ type: 'log', level: 'info', message: `Have smaller server identifier, so dropping the connection: (myId:${this.myId} --> sid:${sid})` });
      out.push({ type: 'close', conn });
      return out;
    }
    this.adopt(sid, conn, out);
    return out;
  }

  dialFailed(sid: bigint): ConnectionOutput<M>[] {
    const p = this.peers.get(sid);
    if (p) p.dialing = false;
    return [{ type: 'log', level: 'warn', message: `Cannot open channel to ${sid} at election address` }];
  }

  /** An accepted connection's initial message named sid. */
  initialReceived(conn: ConnId, sid: bigint): ConnectionOutput<M>[] {
    const out: ConnectionOutput<M>[] = [];
    if (sid < this.myId) {
      // Ours is the larger sid: drop theirs and any connection we had, and dial back ourselves.
      const p = this.peer(sid);
      if (p.conn !== null) this.drop(p, out);
      out.push({ type: 'close', conn });
      this.connectOne(sid, p, out);
      return out;
    }
    if (sid === this.myId) {
      out.push({ type: 'log', level: 'warn', message: `We got a connection request from a server with our own ID. This should be either a configuration error, or a bug.` });
      out.push({ type: 'close', conn });
      return out;
    }
    this.adopt(sid, conn, out);
    return out;
  }

  /** A message arrived on conn. */
  received(conn: ConnId, message: M): ConnectionOutput<M>[] {
    const sid = this.sidOf.get(conn);
    if (sid === undefined) return [{ type: 'log', level: 'warn', message: `message on connection ${conn} before its initial message; dropped` }];
    return [{ type: 'deliver', from: sid, message }];
  }

  /** The socket took the last write on conn. */
  writeDone(conn: ConnId): ConnectionOutput<M>[] {
    const out: ConnectionOutput<M>[] = [];
    const sid = this.sidOf.get(conn);
    if (sid === undefined) return out;
    const p = this.peer(sid);
    if (p.conn !== conn) return out;
    p.writing = false;
    this.pump(sid, p, out);
    return out;
  }

  /** conn is gone (error, EOF, or our own close). */
  closed(conn: ConnId): ConnectionOutput<M>[] {
    const sid = this.sidOf.get(conn) ?? this.dialOf.get(conn);
    this.sidOf.delete(conn);
    this.dialOf.delete(conn);
    if (sid === undefined) return [];
    const p = this.peer(sid);
    if (p.conn === conn) {
      p.conn = null;
      p.writing = false;
      return [{ type: 'lost', sid }];
    }
    return [];
  }

  isConnected(sid: bigint): boolean {
    return this.peers.get(sid)?.conn != null;
  }

  private adopt(sid: bigint, conn: ConnId, out: ConnectionOutput<M>[]): void {
    const p = this.peer(sid);
    // A newer connection replaces the older one (SendWorker.finish on the old).
    if (p.conn !== null && p.conn !== conn) this.drop(p, out);
    p.conn = conn;
    p.writing = false;
    this.sidOf.set(conn, sid);
    // A fresh sender with nothing to send re-sends the last message: the peer may have lost it
    // with the old connection, and duplicates are harmless to the election.
    if (p.queued === null && p.last !== null) {
      p.writing = true;
      out.push({ type: 'write', conn, sid, message: p.last });
      return;
    }
    this.pump(sid, p, out);
  }

  private drop(p: Peer<M>, out: ConnectionOutput<M>[]): void {
    const old = p.conn!;
    this.sidOf.delete(old);
    p.conn = null;
    p.writing = false;
    out.push({ type: 'close', conn: old });
  }

  private pump(sid: bigint, p: Peer<M>, out: ConnectionOutput<M>[]): void {
    if (p.conn === null || p.writing || p.queued === null) return;
    const message = p.queued;
    p.queued = null;
    p.last = message;
    p.writing = true;
    out.push({ type: 'write', conn: p.conn, sid, message });
  }

  private connectOne(sid: bigint, p: Peer<M>, out: ConnectionOutput<M>[]): void {
    if (p.conn !== null || p.dialing) return;
    p.dialing = true;
    out.push({ type: 'dial', sid });
  }

  private peer(sid: bigint): Peer<M> {
    let p = this.peers.get(sid);
    if (!p) this.peers.set(sid, (p = { conn: null, queued: null, writing: false, last: null, dialing: false }));
    return p;
  }
}
