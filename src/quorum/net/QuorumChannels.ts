// The quorum port on real TCP: the leader listens and learns each learner's sid from its first
// packet (FOLLOWERINFO/OBSERVERINFO); a learner dials the leader. Both directions are the
// un-prefixed QuorumPacket stream (ZabStreamDecoder frames it); txns travel as their log bytes and
// reach the cores decoded, so the commit stages see the same Txn objects as the standalone server.
import net from 'node:net';
import type { Txn } from '../../protocol/txn.js';
import type { SnapshotBody } from '../../storage/Snapshot.js';
import type { ZabMessage } from '../zab/messages.js';
import { txnBytes } from '../../protocol/txn.js';
import { Writer } from '../../jute/archive.js';
import { PacketType, decodeProposalData } from '../wire/QuorumPacket.js';
import { ZabStreamDecoder, writeBarePacket, writeZabMessage, type WireZabMessage } from '../wire/ZabCodec.js';

export type PeerMessage = ZabMessage<Txn, SnapshotBody>;

/** Wire form (txn bytes) → core form (Txn); a channel's decoder does this itself as it reads (see ZabStreamDecoder's txnOf). */
export function fromWire(m: WireZabMessage): PeerMessage {
  switch (m.type) {
    case 'PROPOSAL':
    case 'INFORM':
      return { ...m, txn: decodeProposalData(PacketType[m.type], Number(m.zxid), m.txn) };
    case 'INFORMANDACTIVATE':
      return { ...m, txn: decodeProposalData(PacketType.PROPOSAL, Number(m.zxid), m.txn) };
    default:
      return m;
  }
}

/** A txn's log bytes, encoded once however many learners it goes to (see txnBytes). */
export const encodedTxn = txnBytes;

export function toWire(m: PeerMessage): WireZabMessage {
  switch (m.type) {
    case 'PROPOSAL':
    case 'INFORM':
    case 'INFORMANDACTIVATE':
      return { ...m, txn: txnBytes(m.txn) };
    default:
      return m;
  }
}

/** Appends a message's wire bytes to `w` (PROPOSAL/INFORM without a wire-form copy of the message). */
function writePeerMessage(w: Writer, m: PeerMessage): void {
  if (m.type === 'PROPOSAL' || m.type === 'INFORM') writeBarePacket(w, PacketType[m.type], m.zxid, txnBytes(m.txn));
  else writeZabMessage(w, toWire(m));
}

/** A channel's first output buffer; later ones are sized from the previous turn's bytes, up to the hint's cap. */
const OUT_INITIAL_BYTES = 1024;
const OUT_MAX_HINT_BYTES = 1 << 20;

/** One quorum connection: encode out, decode in, report the end once. */
/** One learner connection's traffic as the leader sees it (Apache's LearnerHandler figures for the observers command). */
export interface LearnerConnectionStats {
  /** As Java's InetSocketAddress.toString: "/host:port". */
  remoteAddress: string;
  /** Wall-clock ms when the connection was accepted. */
  established: number;
  packetsReceived: number;
  packetsSent: number;
  requests: number;
  /** The zxid of the last packet sent that carried one (> 0); -1 before any. */
  lastZxid: bigint;
  /** Bytes written but not yet handed to the kernel (this channel has no packet queue of its own). */
  queuedBytes: number;
}

export class QuorumChannel {
  private readonly decoder: ZabStreamDecoder<Txn>;
  private closed = false;
  readonly established = Date.now();
  packetsReceived = 0;
  packetsSent = 0;
  /** REQUEST packets received (a learner's forwarded client requests). */
  requestsReceived = 0;
  lastSentZxid = -1n;

  constructor(
    readonly socket: net.Socket,
    /** True on the learner's side (it reads what the leader sends). */
    fromLeader: boolean,
    private readonly onMessage: (m: PeerMessage) => void,
    private readonly onClose: (reason: string) => void,
  ) {
    // Txns are decoded as their packets are read (the message is built once, in its core form).
    this.decoder = new ZabStreamDecoder(fromLeader, {}, decodeProposalData);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      this.decoder.push(chunk);
      try {
        for (let m = this.decoder.next(); m && !this.closed; m = this.decoder.next()) {
          this.packetsReceived++;
          this.onMessage(m);
        }
      } catch (e) {
        this.close(`bad packet: ${(e as Error).message}`);
      }
    });
    socket.on('error', (e) => this.close(e.message));
    socket.on('close', () => this.close('connection closed'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Packets are gathered and written once per turn of the event loop (setImmediate): under load a
   * leader sends a PROPOSAL and a COMMIT per write to every follower, and one socket write each was
   * a quarter of its CPU time. Apache's LearnerHandler batches likewise (it flushes when its queue
   * runs empty). The order of packets on the connection is unchanged. Packets are encoded straight
   * into one buffer per turn, which the socket then owns: no buffer per packet and no joining copy.
   */
  send(m: PeerMessage): void {
    if (this.closed) return;
    writePeerMessage(this.out, m);
    this.packetsSent++;
    if ('zxid' in m && m.zxid > 0n) this.lastSentZxid = m.zxid;
    if (this.flushTimer === null) this.flushTimer = setImmediate(this.flushNow);
  }

  /** This turn's packets; replaced by a fresh buffer at each flush (the socket keeps the old one). */
  private out = new Writer(OUT_INITIAL_BYTES);
  /** Bytes written at the last flush: the next buffer's size, so a busy channel rarely grows one. */
  private lastFlushBytes = 0;
  private flushTimer: NodeJS.Immediate | null = null;

  private readonly flushNow = (): void => {
    this.flushTimer = null;
    if (this.out.pos === 0 || this.socket.destroyed) return;
    const bytes = this.out.view();
    this.lastFlushBytes = bytes.length;
    this.out = new Writer(Math.max(OUT_INITIAL_BYTES, Math.min(OUT_MAX_HINT_BYTES, this.lastFlushBytes * 2)));
    this.socket.write(bytes);
  };

  /** Bytes sent by this side and not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.out.pos + this.socket.writableLength;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // What was sent before the close still goes out (e.g. the last packets before a disconnect).
    if (this.flushTimer !== null) clearImmediate(this.flushTimer);
    this.flushNow();
    this.socket.destroy();
    this.onClose(reason);
  }
}

/** The leader's side: accepts learners; a learner is known by sid once its first packet arrives. */
export class LeaderListener {
  private server: net.Server | null = null;
  private readonly bySid = new Map<number, QuorumChannel>();
  private readonly all = new Set<QuorumChannel>();

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly events: {
      message(sid: number, m: PeerMessage): void;
      disconnected(sid: number, reason: string): void;
    },
  ) {}

  async listen(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (s) => this.accepted(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.port, host: this.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {});
  }

  private accepted(s: net.Socket): void {
    let sid = -1;
    const ch = new QuorumChannel(
      s, false,
      (m) => {
        if (sid < 0) {
          if (m.type !== 'FOLLOWERINFO' && m.type !== 'OBSERVERINFO') {
            ch.close(`first packet ${m.type} is not FOLLOWERINFO/OBSERVERINFO`);
            return;
          }
          sid = Number(m.sid);
          // A learner that reconnects replaces its old connection.
          this.bySid.get(sid)?.close('replaced by a new connection');
          this.bySid.set(sid, ch);
        }
        if (m.type === 'REQUEST') ch.requestsReceived++;
        this.events.message(sid, m);
      },
      (reason) => {
        this.all.delete(ch);
        if (sid >= 0 && this.bySid.get(sid) === ch) {
          this.bySid.delete(sid);
          this.events.disconnected(sid, reason);
        }
      },
    );
    this.all.add(ch);
  }

  /** The current connection of learner `sid`, or null. */
  stats(sid: number): LearnerConnectionStats | null {
    const ch = this.bySid.get(sid);
    if (!ch) return null;
    const host = ch.socket.remoteAddress ?? '';
    return {
      remoteAddress: `/${host.includes(':') ? `[${host}]` : host}:${ch.socket.remotePort ?? 0}`,
      established: ch.established,
      packetsReceived: ch.packetsReceived,
      packetsSent: ch.packetsSent,
      requests: ch.requestsReceived,
      lastZxid: ch.lastSentZxid,
      queuedBytes: ch.queuedBytes,
    };
  }

  /** observer_connection_stat_reset: the packet and request counts of learner `sid` start again from 0. */
  resetStats(sid: number): void {
    const ch = this.bySid.get(sid);
    if (!ch) return;
    ch.packetsReceived = 0;
    ch.packetsSent = 0;
    ch.requestsReceived = 0;
  }

  send(sid: number, m: PeerMessage): void {
    this.bySid.get(sid)?.send(m);
  }

  disconnect(sid: number, reason: string): void {
    this.bySid.get(sid)?.close(reason);
  }

  async close(): Promise<void> {
    for (const ch of [...this.all]) ch.close('leader stopping');
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

/**
 * A learner's dial to the leader's quorum port, retried until `deadline` (ms since the epoch).
 * Learner and leader decide at the same moment, so the first dial often comes before the leader
 * listens: retries start after 10 ms and back off to `retryMs` (Apache's
 * leaderConnectDelayDuringRetryMs, 100 ms), so that fail-over does not wait out a fixed delay.
 */
export function dialLeader(host: string, port: number, deadline: number, retryMs = 100): Promise<net.Socket> {
  let delay = Math.min(10, retryMs);
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        s.destroy();
        if (Date.now() + delay > deadline) reject(new Error(`cannot connect to the leader at ${host}:${port}: ${e.message}`));
        else {
          setTimeout(attempt, delay);
          delay = Math.min(delay * 2, retryMs);
        }
      });
    };
    attempt();
  });
}
