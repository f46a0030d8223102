// The election port on real TCP: listens on this member's election address, dials peers, writes
// the initial message and length-prefixed notifications, and carries bytes between the sockets and
// the two pure cores (ElectionConnections for who keeps which connection, FastLeaderElection for
// the votes). Timers come from the Runtime. Everything protocol-shaped is decided by the cores.
import net from 'node:net';
import type { Runtime, TimerHandle } from '../../runtime/Runtime.js';
import { ElectionConnections, type ConnectionOutput, type ConnId } from '../election/ElectionConnections.js';
import { FastLeaderElection, type ElectionOutput, type LocalHistory, type LogLevel, type Notification } from '../election/FastLeaderElection.js';
import { QuorumMaj, type QuorumVerifier } from '../election/QuorumVerifier.js';
import { STATE_CODES, stateFromCode, type ServerState, type Vote } from '../election/Vote.js';
import {
  ElectionStreamReader, decodeNotification, encodeInitialMessage, encodeNotificationFrame, voteNotification,
} from '../wire/ElectionWire.js';

export interface PeerAddr {
  sid: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  type: 'participant' | 'observer';
}

export interface ElectionEvents {
  decided(state: ServerState, vote: Vote, voters: bigint[]): void;
  log(level: LogLevel, message: string): void;
}

export class ElectionTransport {
  readonly election: FastLeaderElection;
  private readonly conns: ElectionConnections<Notification>;
  private readonly sockets = new Map<ConnId, net.Socket>();
  private nextConn = 1;
  private server: net.Server | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly peers: Map<number, PeerAddr>;
  /**
   * Messages for the election that arrive while it is still handing us outputs (our own
   * notifications loop back at once). Delivering them re-entrantly would let the inner batch arm
   * a timer that the rest of the outer batch then replaces with an older, already stale one: the
   * election would never time out again and, with no peer reachable, never retry.
   */
  private readonly inbox: { from: bigint; message: Notification }[] = [];
  private depth = 0;

  constructor(
    readonly myId: number,
    peers: PeerAddr[],
    private readonly configText: string,
    private readonly runtime: Runtime,
    private readonly events: ElectionEvents,
    /** Which voters form a quorum (hierarchical groups); a majority of the participants by default. */
    verifier?: QuorumVerifier,
  ) {
    this.peers = new Map(peers.map((p) => [p.sid, p]));
    const me = this.peers.get(myId);
    if (!me) throw new Error(`server.${myId} is not in the ensemble's server list`);
    const voters = peers.filter((p) => p.type === 'participant').map((p) => BigInt(p.sid));
    this.election = new FastLeaderElection({ myId: BigInt(myId), learnerType: me.type, verifier: verifier ?? new QuorumMaj(voters) });
    this.conns = new ElectionConnections(BigInt(myId));
  }

  private get me(): PeerAddr {
    return this.peers.get(this.myId)!;
  }

  /** Listens on this member's election address, or on every interface (quorumListenOnAllIPs). */
  async listen(bindHost: string = this.me.host): Promise<void> {
    const server = net.createServer({ noDelay: true }, (s) => this.accepted(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.me.electionPort, host: bindHost }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.events.log('warn', `election port error: ${e.message}`));
  }

  startLooking(h: LocalHistory): void {
    this.runElection(this.election.startLooking(h));
  }

  becomeLooking(): void {
    this.election.becomeLooking();
  }

  updateElectionVote(epoch: bigint): void {
    this.election.updateElectionVote(epoch);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.runElection(this.election.stop());
    this.timer?.cancel();
    for (const s of this.sockets.values()) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  // ------------------------------------------------------------------ cores' outputs

  private runElection(outs: ElectionOutput[]): void {
    this.depth++;
    try {
      this.carryElection(outs);
    } finally {
      this.depth--;
    }
    if (this.depth > 0) return;
    while (this.inbox.length > 0 && !this.stopped) {
      const d = this.inbox.shift()!;
      this.depth++;
      try {
        this.carryElection(this.election.receive(d.from, d.message));
      } finally {
        this.depth--;
      }
    }
  }

  private carryElection(outs: ElectionOutput[]): void {
    for (const o of outs) {
      switch (o.type) {
        case 'send':
          // Our own notifications loop back to us through the connection core, so they carry a version too.
          this.runConns(this.conns.send(o.to, { ...o.notification, version: 2 }));
          break;
        case 'setTimer': {
          this.timer?.cancel();
          const token = o.token;
          this.timer = this.runtime.scheduler.after(o.delayMs, () => {
            this.timer = null;
            if (!this.stopped) this.runElection(this.election.timeout(token, this.conns.haveDelivered()));
          });
          break;
        }
        case 'cancelTimer':
          this.timer?.cancel();
          this.timer = null;
          break;
        case 'connectAll':
          this.runConns(this.conns.connectAll());
          break;
        case 'decided':
          this.events.decided(o.state, o.vote, o.voters);
          break;
        case 'lookingVoter':
          break;
        case 'log':
          this.events.log(o.level, o.message);
          break;
      }
    }
  }

  private runConns(outs: ConnectionOutput<Notification>[]): void {
    for (const o of outs) {
      if (this.stopped) return;
      switch (o.type) {
        case 'dial':
          this.dial(o.sid);
          break;
        case 'writeInitial': {
          const me = this.me;
          this.sockets.get(o.conn)?.write(encodeInitialMessage(BigInt(this.myId), [`${me.host}:${me.electionPort}`]));
          break;
        }
        case 'write': {
          const s = this.sockets.get(o.conn);
          if (!s) break;
          const n = o.message;
          const frame = encodeNotificationFrame(voteNotification(
            STATE_CODES[n.state], Number(n.leader), Number(n.zxid), Number(n.electionEpoch), Number(n.peerEpoch), this.configText,
          ));
          const conn = o.conn;
          s.write(frame, () => this.runtime.scheduler.soon(() => this.runConns(this.conns.writeDone(conn))));
          break;
        }
        case 'close':
          this.sockets.get(o.conn)?.destroy();
          break;
        case 'deliver':
          this.inbox.push({ from: o.from, message: o.message });
          if (this.depth === 0) this.runElection([]);
          break;
        case 'lost':
          // A member that died closes its connections before anyone dials it: this is when the
          // election can first know (a dial would only come at its next timeout).
          this.runElection(this.election.peerReachable(o.sid, false));
          break;
        case 'log':
          this.events.log(o.level, o.message);
          break;
      }
    }
  }

  // ------------------------------------------------------------------ sockets

  private track(s: net.Socket, expectInitial: boolean, onConnect: ((conn: ConnId) => void) | null): ConnId {
    const conn = this.nextConn++;
    this.sockets.set(conn, s);
    s.setNoDelay(true);
    const reader = new ElectionStreamReader({ expectInitial });
    let gone = false;
    const close = () => {
      if (gone) return;
      gone = true;
      this.sockets.delete(conn);
      s.destroy();
      if (!this.stopped) this.runConns(this.conns.closed(conn));
    };
    s.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      try {
        for (let f = reader.next(); f; f = reader.next()) {
          if (f.kind === 'initial') {
            this.runConns(this.conns.initialReceived(conn, f.msg.sid));
            continue;
          }
          const w = decodeNotification(f.body);
          const state = stateFromCode(w.state);
          if (!state) continue; // Apache ignores states it does not know
          const n: Notification = {
            state, leader: BigInt(w.leader), zxid: BigInt(w.zxid), electionEpoch: BigInt(w.electionEpoch), peerEpoch: BigInt(w.peerEpoch),
            version: w.version,
          };
          this.runConns(this.conns.received(conn, n));
        }
      } catch (e) {
        this.events.log('warn', `election connection ${conn}: ${(e as Error).message}; closing it`);
        close();
      }
    });
    s.on('error', () => close());
    s.on('close', () => close());
    if (onConnect) s.once('connect', () => onConnect(conn));
    return conn;
  }

  private accepted(s: net.Socket): void {
    if (this.stopped) {
      s.destroy();
      return;
    }
    this.track(s, true, null);
  }

  private dial(sid: bigint): void {
    const p = this.peers.get(Number(sid));
    if (!p) {
      this.runConns(this.conns.dialFailed(sid));
      return;
    }
    const s = net.connect({ host: p.host, port: p.electionPort });
    let connected = false;
    const conn = this.track(s, false, (c) => {
      connected = true;
      this.runElection(this.election.peerReachable(sid, true));
      this.runConns(this.conns.dialed(sid, c));
    });
    s.once('close', () => {
      if (connected || this.stopped) return;
      this.runConns(this.conns.dialFailed(sid));
      // A refused dial is how a member learns at once that a voter (often the dead leader) is gone:
      // the election core then need not wait out finalizeWait for it.
      this.runElection(this.election.peerReachable(sid, false));
    });
    void conn;
  }
}
