// The leader's commit stage: a prepared txn is logged here and sent as PROPOSAL; it is committed once a
// quorum of voters (this server's own durable log included) has ACKed it, in zxid order; then COMMIT
// goes to the followers, INFORM to the observers, and the txn to the apply stage. The protocol itself
// is the pure ZabLeader core; this class wires it to the log stage, the transport and the epoch files.
import type { Txn } from '../../protocol/txn.js';
import type { TxnLog } from '../../storage/TxnLog.js';
import type { Runtime } from '../../runtime/Runtime.js';
import type { ZabLeader, LeaderOutput } from '../../quorum/zab/ZabLeader.js';
import type { SessionTouch, ZabMessage } from '../../quorum/zab/messages.js';
import type { CommitSink, CommitStage } from './Commit.js';
import { LogStage, type LogMetrics } from './LogStage.js';
import { OrderedOutputs, zxidOf, type EpochStore, type ZabTransport } from './ZabCommit.js';

export interface LeaderEvents<S> {
  /** A quorum acknowledged NEWLEADER: start serving clients. */
  established(epoch: number): void;
  /** Back to election. */
  stepDown(reason: string): void;
  touchSessions?(sid: number, sessions: SessionTouch[]): void;
  learnerRequest?(sid: number, msg: ZabMessage<Txn, S>): void;
  /** How a learner is being synchronised (for the operator's log). */
  syncChosen?(sid: number, mode: string, zxid: bigint, proposals: number, reason: string): void;
}

export class LeaderCommit<S> implements CommitStage {
  private readonly outputs: OrderedOutputs<LeaderOutput<Txn, S>>;
  private waiters: (() => void)[] = [];
  private dead = false;

  constructor(
    private readonly core: ZabLeader<Txn, S>,
    private readonly log: LogStage,
    private readonly sink: CommitSink,
    private readonly transport: ZabTransport<S>,
    private readonly epochs: EpochStore,
    private readonly events: LeaderEvents<S>,
  ) {
    this.outputs = new OrderedOutputs<LeaderOutput<Txn, S>>((o) => this.carryOut(o), (err) => this.fail(err));
  }

  /** Starts discovery (the leader's own epoch contribution). */
  start(): void {
    this.carry(this.core.start());
  }

  get inFlight(): number {
    return this.core.pendingProposals;
  }

  propose(txn: Txn): void {
    if (this.dead) return;
    try {
      this.carry(this.core.propose(zxidOf(txn), txn));
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** A packet from learner `from`. */
  receive(from: number, msg: ZabMessage<Txn, S>): void {
    this.carry(this.core.receive(from, msg));
  }

  /** A learner forwarded a client's sync (ZooKeeper's processSync). */
  syncRequested(sid: number): void {
    this.carry(this.core.syncRequested(sid));
  }

  disconnected(sid: number): void {
    this.carry(this.core.disconnected(sid));
  }

  /** Every tickTime/2. */
  tick(): void {
    this.carry(this.core.tick());
  }

  /** The log stage made these txns durable: the leader's own ACK. */
  durable(txns: Txn[]): void {
    if (txns.length > 0) this.carry(this.core.logged(zxidOf(txns[txns.length - 1])));
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.sink.fatal(err);
    this.wake();
  }

  private wake(): void {
    if (this.core.pendingProposals > 0 && !this.dead && !this.core.stopped) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private carry(outs: LeaderOutput<Txn, S>[]): void {
    this.outputs.run(outs);
  }

  /** One output of the core; a promise when the outputs after it must wait for it. */
  private carryOut(o: LeaderOutput<Txn, S>): void | Promise<void> {
    switch (o.kind) {
      case 'send':
        this.transport.send(o.to, o.msg);
        return;
      case 'disconnect':
        this.transport.disconnect(o.sid, o.reason);
        return;
      case 'persistAcceptedEpoch':
        return this.epochs.setAcceptedEpoch(o.epoch);
      case 'persistCurrentEpoch':
        return this.epochs.setCurrentEpoch(o.epoch);
      case 'log':
        this.log.append(o.txn);
        return;
      case 'commit':
        this.sink.committed(o.txn);
        this.wake();
        return;
      case 'established':
        this.events.established(o.epoch);
        return;
      case 'stepDown':
        this.events.stepDown(o.reason);
        this.wake();
        return;
      case 'touchSessions':
        this.events.touchSessions?.(o.sid, o.sessions);
        return;
      case 'learnerRequest':
        this.events.learnerRequest?.(o.sid, o.msg);
        return;
      case 'syncChosen':
        this.events.syncChosen?.(o.sid, o.decision.mode, o.decision.zxid, o.decision.proposals, o.decision.reason);
        return;
    }
  }

  /** Resolves once every txn proposed so far is committed, or the leader stepped down or failed. */
  async settled(): Promise<void> {
    await this.outputs.idle();
    if (this.core.pendingProposals === 0 || this.dead || this.core.stopped) return;
    await new Promise<void>((r) => this.waiters.push(r));
    await this.outputs.idle();
  }

  async close(): Promise<void> {
    await this.outputs.idle();
    await this.log.close();
  }
}

/** The commit stage of a leader over `core`, for RequestPipeline's constructor. */
export function leaderCommit<S>(
  core: ZabLeader<Txn, S>,
  log: TxnLog,
  runtime: Runtime,
  transport: ZabTransport<S>,
  epochs: EpochStore,
  events: LeaderEvents<S>,
  metrics?: LogMetrics,
  onCreated?: (stage: LeaderCommit<S>) => void,
): (sink: CommitSink) => CommitStage {
  return (sink) => {
    let stage: LeaderCommit<S> | null = null;
    const logStage = new LogStage(log, runtime.scheduler, runtime.clock, {
      durable: (txns) => stage?.durable(txns),
      failed: (err) => sink.fatal(err),
    }, metrics);
    stage = new LeaderCommit(core, logStage, sink, transport, epochs, events);
    onCreated?.(stage);
    return stage;
  };
}
