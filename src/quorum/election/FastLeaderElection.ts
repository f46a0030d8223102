// ZooKeeper 3.8's fast leader election (FastLeaderElection.lookForLeader plus the replies its
// WorkerReceiver thread sends) as a pure state machine. Inputs: start looking, a notification from
// a peer (already decoded, sender sid from the connection), the election timer firing. Outputs:
// notifications to send (one per recipient, self included: the wiring loops a member's own
// notifications back to receive(), as QuorumCnxManager does), the election timer to (re)arm or
// cancel, "connect to everyone", the decision, and log lines in Apache's wording. No sockets,
// clocks, timers or randomness inside, so the simulation drives it in virtual time.
import type { QuorumVerifier } from './QuorumVerifier.js';
import { LONG_MIN, longHex, makeVote, totalOrderPredicate, votesEqual, type Candidate, type ServerState, type Vote } from './Vote.js';

/** zoo.cfg peerType (Apache: LearnerType). */
export type PeerType = 'participant' | 'observer';

/** A decoded election message as the receiver sees it. */
export interface Notification {
  state: ServerState;
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
  /** Message format version (2 for 3.5+ senders, 0 for 28/40-byte messages). */
  version: number;
  /** Version of the config text the sender attached; 0 when absent. */
  configVersion?: bigint;
}

/** What to put on the wire; the codec adds format version 2 and this member's config text. */
export interface OutgoingNotification {
  state: ServerState;
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
}

export type LogLevel = 'debug' | 'info' | 'warn';

export type ElectionOutput =
  | { type: 'send'; to: bigint; notification: OutgoingNotification }
  /** Arm the election timer for delayMs, replacing any armed one; hand `token` back to timeout(). */
  | { type: 'setTimer'; delayMs: number; token: number }
  | { type: 'cancelTimer' }
  /** Nothing was delivered since the last timeout: (re)connect to every voter (QuorumCnxManager.connectAll). */
  | { type: 'connectAll' }
  /**
   * The election ended: LEADING, FOLLOWING or OBSERVING `vote.leader`. `voters` are the sids whose
   * votes made the quorum (Apache hands them to a new leader as its leadingVoteSet); `via` says
   * whether this round's LOOKING votes decided it or members already established outside it.
   */
  | { type: 'decided'; state: ServerState; vote: Vote; voters: bigint[]; via: 'election' | 'established' }
  /** A voter went LOOKING while we lead (Leader.reportLookingSid, used by maxTimeToWaitForEpoch). */
  | { type: 'lookingVoter'; sid: bigint }
  | { type: 'log'; level: LogLevel; message: string };

export interface ElectionOptions {
  myId: bigint;
  learnerType: PeerType;
  verifier: QuorumVerifier;
  /** zookeeper.fastleader.minNotificationInterval; also the first wait. Default 200. */
  minNotificationIntervalMs?: number;
  /** zookeeper.fastleader.maxNotificationInterval. Default 60000. */
  maxNotificationIntervalMs?: number;
  /** How long a quorum must stand unchallenged before deciding. Apache: 200 (a constant). */
  finalizeWaitMs?: number;
}

/** What the member's database says when it starts looking. */
export interface LocalHistory {
  /** Last logged zxid (the data tree's lastProcessedZxid after load). */
  lastLoggedZxid: bigint;
  /** The currentEpoch file's value. */
  currentEpoch: bigint;
}

const RECEIVE_BUFFER = 100;

export class FastLeaderElection {
  readonly myId: bigint;
  readonly learnerType: PeerType;
  readonly verifier: QuorumVerifier;
  private readonly minInterval: number;
  private readonly maxInterval: number;
  private readonly finalizeWait: number;

  private peerState: ServerState = 'LOOKING';
  private clock = 0n;
  private current: Vote | null = null;

  // One election (lookForLeader call); null between elections.
  private running = false;
  private history: LocalHistory = { lastLoggedZxid: 0n, currentEpoch: 0n };
  private proposed: Candidate = { leader: -1n, zxid: -1n, peerEpoch: 0n };
  private recvset = new Map<bigint, Vote>();
  private outOfElection = new Map<bigint, Vote>();
  private notTimeout = 0;
  private finalizing = false;
  private token = 0;
  /** Notifications that arrived while LOOKING before the election loop started. */
  private early: Array<{ from: bigint; n: Notification }> = [];
  /**
   * Not in Apache: the latest LOOKING notification from each voter heard while following or
   * leading, handed to this member's next election as if the network had held it until then.
   * When a leader dies, one follower often notices first and opens a round whose notification
   * reaches the other before that one has noticed: Apache answers it and drops it, and the other
   * then opens the same round voting for itself, so neither learns the other's vote until a
   * notification timeout (200 ms) resends it: one fail-over in five took ~240 ms instead of ~40
   * (bench --ensemble). A delayed notification is something the election already tolerates.
   */
  private heardWhileEstablished = new Map<bigint, Notification>();
  /** Voters the wiring reports it cannot reach (see peerReachable). */
  private unreachable = new Set<bigint>();

  constructor(opts: ElectionOptions) {
    this.myId = opts.myId;
    this.learnerType = opts.learnerType;
    this.verifier = opts.verifier;
    this.minInterval = opts.minNotificationIntervalMs ?? 200;
    this.maxInterval = opts.maxNotificationIntervalMs ?? 60000;
    this.finalizeWait = opts.finalizeWaitMs ?? 200;
    if (!(this.minInterval > 0) || !(this.maxInterval >= this.minInterval)) {
      throw new Error(`notification intervals must satisfy 0 < min <= max (min=${this.minInterval}, max=${this.maxInterval})`);
    }
  }

  get state(): ServerState {
    return this.peerState;
  }

  get logicalClock(): bigint {
    return this.clock;
  }

  /** The vote this member answers with when not looking (QuorumPeer.getCurrentVote). */
  get currentVote(): Vote | null {
    return this.current;
  }

  /** This election's proposal (FastLeaderElection.getVote). */
  get proposal(): Candidate {
    return { ...this.proposed };
  }

  get inElection(): boolean {
    return this.running;
  }

  /**
   * QuorumPeer.updateElectionVote: once the new epoch is set, the answer given to LOOKING members
   * carries it as peerEpoch (so members that restart can match it against the leader's).
   */
  updateElectionVote(newEpoch: bigint): void {
    if (this.current) this.current = { ...this.current, peerEpoch: newEpoch };
  }

  /**
   * The member lost its leader (or just started) and is LOOKING, but the election loop has not
   * begun (an observer waits observer.election.DelayMs first). Notifications received now wait
   * for startLooking, as they wait in Apache's receive queue.
   */
  becomeLooking(): void {
    if (this.peerState !== 'LOOKING') {
      this.peerState = 'LOOKING';
      this.early = [...this.heardWhileEstablished].map(([from, n]) => ({ from, n }));
      this.heardWhileEstablished = new Map();
    }
  }

  /** lookForLeader: a new round with this member's own vote. */
  startLooking(h: LocalHistory): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    this.becomeLooking();
    this.history = { ...h };
    // QuorumPeer.startLeaderElection's vote: what we answer non-voters with until a first decision.
    if (!this.current) this.current = makeVote(this.myId, h.lastLoggedZxid, -1n, h.currentEpoch);
    this.running = true;
    this.recvset = new Map();
    this.outOfElection = new Map();
    this.notTimeout = this.minInterval;
    this.finalizing = false;
    this.clock += 1n;
    this.proposed = this.initialCandidate();
    this.log(out, 'info', `New election. My id = ${this.myId}, proposed zxid=0x${longHex(this.proposed.zxid)}`);
    this.sendNotifications(out);
    this.arm(out, this.notTimeout);
    const early = this.early;
    this.early = [];
    for (const e of early) {
      if (!this.running) break;
      this.loop(out, e.from, e.n);
    }
    return out;
  }

  /** A notification from `from` (the connection's sid). */
  receive(from: bigint, n: Notification): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    this.unreachable.delete(from);
    // A non-voter (observer) is answered at once with our vote and never counted.
    if (!this.validVoter(from)) {
      const v = this.current ?? makeVote(this.myId, this.history.lastLoggedZxid, -1n, this.history.currentEpoch);
      this.send(out, from, { state: this.peerState, leader: v.leader, zxid: v.zxid, electionEpoch: this.clock, peerEpoch: v.peerEpoch });
      return out;
    }
    this.log(
      out,
      'info',
      `Notification: my state:${this.peerState}; n.sid:${from}, n.state:${n.state}, n.leader:${n.leader}, n.round:0x${longHex(n.electionEpoch)}, ` +
        `n.peerEpoch:0x${longHex(n.peerEpoch)}, n.zxid:0x${longHex(n.zxid)}, message format version:0x${n.version.toString(16)}, ` +
        `n.config version:0x${longHex(n.configVersion ?? 0n)}`,
    );
    if (this.peerState === 'LOOKING') {
      // A LOOKING peer on an older round learns ours right away.
      if (n.state === 'LOOKING' && n.electionEpoch < this.clock) {
        this.send(out, from, { state: 'LOOKING', leader: this.proposed.leader, zxid: this.proposed.zxid, electionEpoch: this.clock, peerEpoch: this.proposed.peerEpoch });
      }
      if (this.running) this.loop(out, from, n);
      else {
        if (this.early.length >= RECEIVE_BUFFER) this.early.shift();
        this.early.push({ from, n });
      }
    } else if (n.state === 'LOOKING' && this.current) {
      // Established: tell the LOOKING voter who leads, as fixed when our election ended.
      if (this.peerState === 'LEADING') out.push({ type: 'lookingVoter', sid: from });
      this.heardWhileEstablished.set(from, n);
      const v = this.current;
      this.send(out, from, { state: this.peerState, leader: v.leader, zxid: v.zxid, electionEpoch: v.electionEpoch, peerEpoch: v.peerEpoch });
    }
    return out;
  }

  /**
   * The wiring's news about a voter's election connection: `false` when dialing it failed, `true`
   * when it is heard from again. Not in Apache, which always waits finalizeWait (200 ms) once a
   * quorum agrees: when every voter except unreachable ones has voted for our proposal, no
   * notification can come within the wait that would change it, so we decide at once. That is the
   * common fail-over (the dead leader is the one voter missing) and saves the whole wait. Without
   * such news the core behaves exactly as Apache's.
   */
  peerReachable(sid: bigint, reachable: boolean): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    if (!this.validVoter(sid) || sid === this.myId) return out;
    if (reachable) this.unreachable.delete(sid);
    else this.unreachable.add(sid);
    if (!reachable && this.running && this.finalizing && this.onlyUnreachableMissing()) this.decideProposal(out);
    return out;
  }

  /** Some voter is unreachable, and every other voter's vote of this round equals our proposal. */
  private onlyUnreachableMissing(): boolean {
    if (this.unreachable.size === 0) return false;
    const mine = makeVote(this.proposed.leader, this.proposed.zxid, this.clock, this.proposed.peerEpoch);
    for (const sid of this.verifier.voters) {
      if (this.unreachable.has(sid)) continue;
      const v = this.recvset.get(sid);
      if (!v || !votesEqual(mine, v)) return false;
    }
    return true;
  }

  /** The end of finalizeWait: our proposal wins. */
  private decideProposal(out: ElectionOutput[]): void {
    const vote = makeVote(this.proposed.leader, this.proposed.zxid, this.clock, this.proposed.peerEpoch);
    this.decide(out, this.peerStateFor(this.proposed.leader), vote, this.acks(this.recvset, vote), 'election');
  }

  /** The election timer fired; haveDelivered = some peer's send queue is empty (QuorumCnxManager.haveDelivered). */
  timeout(token: number, haveDelivered: boolean): ElectionOutput[] {
    const out: ElectionOutput[] = [];
    if (!this.running || token !== this.token) return out;
    if (this.finalizing) {
      this.decideProposal(out);
      return out;
    }
    if (haveDelivered) this.sendNotifications(out);
    else out.push({ type: 'connectAll' });
    this.notTimeout = Math.min(this.notTimeout * 2, this.maxInterval);
    this.log(out, 'info', `Notification time out: ${this.notTimeout} ms`);
    this.arm(out, this.notTimeout);
    return out;
  }

  /** The member stops (shutdown): no timer, no election. */
  stop(): ElectionOutput[] {
    this.running = false;
    this.finalizing = false;
    this.early = [];
    return [{ type: 'cancelTimer' }];
  }

  // --- lookForLeader's loop body, one dequeued notification at a time ---

  private loop(out: ElectionOutput[], from: bigint, n: Notification): void {
    if (this.finalizing) {
      // Waiting out finalizeWait: only a better vote reopens the round; anything else is dropped
      // and the wait starts over (Apache polls again with the full finalizeWait).
      if (this.beats(n, this.proposed)) {
        this.finalizing = false;
      } else {
        this.arm(out, this.finalizeWait);
        return;
      }
    }
    this.arm(out, this.notTimeout);
    if (!this.validVoter(from) || !this.validVoter(n.leader)) {
      if (!this.validVoter(n.leader)) this.log(out, 'warn', `Ignoring notification for non-cluster member sid ${n.leader} from sid ${from}`);
      if (!this.validVoter(from)) this.log(out, 'warn', `Ignoring notification for sid ${n.leader} from non-quorum member sid ${from}`);
      return;
    }
    switch (n.state) {
      case 'LOOKING':
        this.lookingNotification(out, from, n);
        return;
      case 'OBSERVING':
        this.log(out, 'debug', `Notification from observer: ${from}`);
        return;
      case 'FOLLOWING':
      case 'LEADING':
        this.establishedNotification(out, from, n);
        return;
    }
  }

  private lookingNotification(out: ElectionOutput[], from: bigint, n: Notification): void {
    const init = this.initialCandidate();
    if (init.zxid === -1n) {
      this.log(out, 'debug', 'Ignoring notification as our zxid is -1');
      return;
    }
    if (n.zxid === -1n) {
      this.log(out, 'debug', `Ignoring notification from member with -1 zxid ${from}`);
      return;
    }
    if (n.electionEpoch > this.clock) {
      this.clock = n.electionEpoch;
      this.recvset.clear();
      this.proposed = this.beats(n, init) ? { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch } : init;
      this.sendNotifications(out);
    } else if (n.electionEpoch < this.clock) {
      this.log(out, 'debug', `Notification election epoch is smaller than logicalclock. n.electionEpoch = 0x${longHex(n.electionEpoch)}, logicalclock=0x${longHex(this.clock)}`);
      return;
    } else if (this.beats(n, this.proposed)) {
      this.proposed = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
      this.sendNotifications(out);
    }
    this.recvset.set(from, makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch));
    const mine = makeVote(this.proposed.leader, this.proposed.zxid, this.clock, this.proposed.peerEpoch);
    if (this.hasQuorum(this.recvset, mine)) {
      this.finalizing = true;
      if (this.onlyUnreachableMissing()) this.decideProposal(out);
      else this.arm(out, this.finalizeWait);
    }
  }

  private establishedNotification(out: ElectionOutput[], from: bigint, n: Notification): void {
    const theirs = makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch, n.state, n.version);
    if (n.electionEpoch === this.clock) {
      // Apache stores this one without its format version (Vote's 5-argument constructor).
      this.recvset.set(from, makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch, n.state));
      if (this.hasQuorum(this.recvset, theirs) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
        this.decide(out, this.peerStateFor(n.leader), makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch), this.acks(this.recvset, theirs), 'established');
        return;
      }
    }
    // Joining an established ensemble: a quorum must follow the same leader, whatever round they
    // were elected in (ZOOKEEPER-1732).
    this.outOfElection.set(from, theirs);
    if (this.hasQuorum(this.outOfElection, theirs) && this.checkLeader(this.outOfElection, n.leader, n.electionEpoch)) {
      this.clock = n.electionEpoch;
      this.decide(out, this.peerStateFor(n.leader), makeVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch), this.acks(this.outOfElection, theirs), 'established');
    }
  }

  /**
   * Apache's checkLeader: someone else can only be followed once it said itself that it leads;
   * we lead only if the quorum is of our own round (so a crashed leader is not re-elected forever).
   */
  private checkLeader(votes: Map<bigint, Vote>, leader: bigint, electionEpoch: bigint): boolean {
    if (leader !== this.myId) return votes.get(leader)?.state === 'LEADING';
    return this.clock === electionEpoch;
  }

  private hasQuorum(votes: Map<bigint, Vote>, vote: Vote): boolean {
    const acks = this.acks(votes, vote);
    return this.verifier.containsQuorum(acks);
  }

  /** Voters (only: SyncedLearnerTracker ignores others) whose recorded vote equals `vote`. */
  private acks(votes: Map<bigint, Vote>, vote: Vote): bigint[] {
    const acks: bigint[] = [];
    for (const [sid, v] of votes) if (this.verifier.voters.has(sid) && votesEqual(vote, v)) acks.push(sid);
    return acks.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private decide(out: ElectionOutput[], state: ServerState, vote: Vote, voters: bigint[], via: 'election' | 'established'): void {
    this.peerState = state;
    this.heardWhileEstablished = new Map();
    this.current = vote;
    this.running = false;
    this.finalizing = false;
    this.token++;
    out.push({ type: 'cancelTimer' });
    this.log(out, 'debug', `About to leave FLE instance: leader=${vote.leader}, zxid=0x${longHex(vote.zxid)}, my id=${this.myId}, my state=${state}`);
    out.push({ type: 'decided', state, vote, voters, via });
  }

  private peerStateFor(leader: bigint): ServerState {
    if (leader === this.myId) return 'LEADING';
    return this.learnerType === 'participant' ? 'FOLLOWING' : 'OBSERVING';
  }

  private beats(n: Candidate, cur: Candidate): boolean {
    return totalOrderPredicate(this.verifier.weight(n.leader), n, cur);
  }

  /** getInitId / getInitLastLoggedZxid / getPeerEpoch: non-voters propose Long.MIN_VALUE throughout. */
  private initialCandidate(): Candidate {
    const leader = this.verifier.voters.has(this.myId) ? this.myId : LONG_MIN;
    if (this.learnerType !== 'participant') return { leader, zxid: LONG_MIN, peerEpoch: LONG_MIN };
    return { leader, zxid: this.history.lastLoggedZxid, peerEpoch: this.history.currentEpoch };
  }

  private validVoter(sid: bigint): boolean {
    return this.verifier.voters.has(sid);
  }

  private sendNotifications(out: ElectionOutput[]): void {
    for (const sid of [...this.verifier.voters].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      this.send(out, sid, { state: 'LOOKING', leader: this.proposed.leader, zxid: this.proposed.zxid, electionEpoch: this.clock, peerEpoch: this.proposed.peerEpoch });
    }
  }

  private send(out: ElectionOutput[], to: bigint, notification: OutgoingNotification): void {
    out.push({ type: 'send', to, notification });
  }

  private arm(out: ElectionOutput[], delayMs: number): void {
    this.token++;
    out.push({ type: 'setTimer', delayMs, token: this.token });
  }

  private log(out: ElectionOutput[], level: LogLevel, message: string): void {
    out.push({ type: 'log', level, message });
  }
}
