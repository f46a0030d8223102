// A learner's commit stage (follower or observer): the leader's PROPOSALs are logged here and ACKed
// once durable; a txn is committed when its COMMIT arrives (observers: on INFORM), in zxid order, and
// then goes to the apply stage. Writes prepared by clients of this server are not proposed here: they
// are forwarded to the leader as REQUEST and come back as PROPOSALs. The protocol is the pure
// ZabLearner core; this class wires it to the log stage, the transport and the server's storage.
import type { Txn } from '../../protocol/txn.js';
import type { TxnLog } from '../../storage/TxnLog.js';
import type { Runtime } from '../../runtime/Runtime.js';
import type { ZabLearner, LearnerOutput } from '../../quorum/zab/ZabLearner.js';
import type { ZabMessage } from '../../quorum/zab/messages.js';
import type { CommitSink, CommitStage } from './Commit.js';
import { LogStage, type LogMetrics } from './LogStage.js';
import { OrderedOutputs, zxidOf, type EpochStore, type ZabTransport } from './ZabCommit.js';

/** What synchronisation does to the server's storage (TRUNC, SNAP, the snapshot at NEWLEADER). */
export interface LearnerStorage<S> extends EpochStore {
  truncate(zxid: bigint): void | Promise<void>;
  loadSnapshot(zxid: bigint, snapshot: S): void | Promise<void>;
  takeSnapshot(zxid: bigint): void | Promise<void>;
}

export interface LearnerEvents<S> {
  /** UPTODATE: serve clients. */
  serving(epoch: number): void;
  /** Give up on this leader: back to election. */
  leaderLost(reason: string): void;
  /** SYNC and REVALIDATE replies. */
  leaderReply?(msg: ZabMessage<Txn, S>): void;
}

export class FollowerCommit<S> implements CommitStage {
  private readonly outputs: OrderedOutputs<LearnerOutput<Txn, S>>;
  private logged = 0;
  private committed = 0;
  private waiters: (() => void)[] = [];
  private dead = false;

  constructor(
    private readonly core: ZabLearner<Txn, S>,
    private readonly log: LogStage,
    private readonly sink: CommitSink,
    private readonly transport: ZabTransport<S>,
    private readonly leaderSid: number,
    private readonly storage: LearnerStorage<S>,
    private readonly events: LearnerEvents<S>,
  ) {
    this.outputs = new OrderedOutputs<LearnerOutput<Txn, S>>((o) => this.carryOut(o), (err) => this.fail(err));
  }

  /** Connected to the leader: FOLLOWERINFO or OBSERVERINFO. */
  start(): void {
    this.carry(this.core.start());
  }

  /** Txns this server logged and has not committed yet. */
  get inFlight(): number {
    return this.logged - this.committed;
  }

  propose(txn: Txn): void {
    this.fail(new Error(`a learner does not propose: txn 0x${txn.hdr.zxid.toString(16)} must be forwarded to the leader`));
  }

  /** A packet from the leader. */
  receive(msg: ZabMessage<Txn, S>): void {
    this.carry(this.core.receive(msg));
  }

  /** A client request to forward (REQUEST, REVALIDATE); false until UPTODATE (the caller retries or refuses). */
  forward(msg: ZabMessage<Txn, S>): boolean {
    if (this.core.state !== 'broadcast') return false;
    this.carry(this.core.forward(msg));
    return true;
  }

  tick(): void {
    this.carry(this.core.tick());
  }

  disconnected(): void {
    this.carry(this.core.disconnected());
  }

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
    if (this.inFlight > 0 && !this.dead && this.core.state !== 'lost') return;
    // Called on every commit: no new list unless someone waits.
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private carry(outs: LearnerOutput<Txn, S>[]): void {
    this.outputs.run(outs);
  }

  /** One output of the core; a promise when the outputs after it must wait for it. */
  private carryOut(o: LearnerOutput<Txn, S>): void | Promise<void> {
    switch (o.kind) {
      case 'send':
        this.transport.send(this.leaderSid, o.msg);
        return;
      case 'persistAcceptedEpoch':
        return this.storage.setAcceptedEpoch(o.epoch);
      case 'persistCurrentEpoch':
        return this.storage.setCurrentEpoch(o.epoch);
      case 'truncate':
        return this.storage.truncate(o.zxid);
      case 'loadSnapshot':
        return this.storage.loadSnapshot(o.zxid, o.snapshot);
      case 'takeSnapshot':
        this.log.roll();
        return this.storage.takeSnapshot(o.zxid);
      case 'log':
        this.logged++;
        this.log.append(o.txn);
        return;
      case 'commit':
        // Observers commit INFORMs they log at the same moment; followers commit what they logged.
        if (this.committed < this.logged) this.committed++;
        this.sink.committed(o.txn);
        this.wake();
        return;
      case 'serving':
        this.events.serving(o.epoch);
        return;
      case 'leaderReply':
        this.events.leaderReply?.(o.msg);
        return;
      case 'leaderLost':
        this.transport.disconnect(this.leaderSid, o.reason);
        this.events.leaderLost(o.reason);
        this.wake();
        return;
    }
  }

  /** Resolves once everything logged here so far is committed, or following ended. */
  async settled(): Promise<void> {
    await this.outputs.idle();
    if (this.inFlight === 0 || this.dead || this.core.state === 'lost') return;
    await new Promise<void>((r) => this.waiters.push(r));
  }

  async close(): Promise<void> {
    await this.outputs.idle();
    await this.log.close();
  }
}

/** The commit stage of a learner over `core`, for RequestPipeline's constructor. */
export function followerCommit<S>(
  core: ZabLearner<Txn, S>,
  log: TxnLog,
  runtime: Runtime,
  transport: ZabTransport<S>,
  leaderSid: number,
  storage: LearnerStorage<S>,
  events: LearnerEvents<S>,
  metrics?: LogMetrics,
  onCreated?: (stage: FollowerCommit<S>) => void,
): (sink: CommitSink) => CommitStage {
  return (sink) => {
    let stage: FollowerCommit<S> | null = null;
    const logStage = new LogStage(log, runtime.scheduler, runtime.clock, {
      durable: (txns) => stage?.durable(txns),
      failed: (err) => sink.fatal(err),
    }, metrics);
    stage = new FollowerCommit(core, logStage, sink, transport, leaderSid, storage, events);
    onCreated?.(stage);
    return stage;
  };
}
