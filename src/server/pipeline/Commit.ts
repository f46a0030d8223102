// The commit stage: where a prepared txn becomes committed. Only this differs between roles:
//   standalone  durable in the local txn log ⇒ committed (StandaloneCommit, below)
//   leader      logged here and ACKed by a quorum of followers ⇒ COMMIT (and INFORM to observers)
//   follower    the leader's PROPOSAL logged here; committed when its COMMIT arrives
// Every committed txn, whoever asked for it, goes to the apply stage through the sink, in zxid order.
import type { Txn } from '../../protocol/txn.js';
import type { TxnLog } from '../../storage/TxnLog.js';
import type { Runtime } from '../../runtime/Runtime.js';
import { LogStage, type LogMetrics } from './LogStage.js';

export interface CommitSink {
  /** A txn is committed; called in zxid order. */
  committed(txn: Txn): void;
  /** Durable storage failed: nothing after this can be acknowledged; the server must stop. */
  fatal(err: Error): void;
}

export interface CommitStage {
  /** A txn prepared on this server enters replication. */
  propose(txn: Txn): void;
  /** Txns proposed but not yet committed. */
  readonly inFlight: number;
  /** Resolves once every txn proposed so far is committed or has failed. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** Standalone: a txn is committed as soon as the log stage says it is durable. */
export class StandaloneCommit implements CommitStage {
  constructor(private readonly log: LogStage) {}

  get inFlight(): number {
    return this.log.pending;
  }

  propose(txn: Txn): void {
    this.log.append(txn);
  }

  settled(): Promise<void> {
    return this.log.settled();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

/** The commit stage of a standalone server on `log`, for RequestPipeline's constructor. */
export function standaloneCommit(
  log: TxnLog,
  runtime: Runtime,
  metrics?: LogMetrics,
): (sink: CommitSink) => CommitStage {
  return (sink) => {
    const logStage = new LogStage(log, runtime.scheduler, runtime.clock, {
      durable: (txns) => {
        for (const txn of txns) sink.committed(txn);
      },
      failed: (err) => sink.fatal(err),
    }, metrics);
    return new StandaloneCommit(logStage);
  };
}
