// The commit stage: where a prepared txn becomes committed. Only this differs between roles:
//   standalone  durable in the local txn log ⇒ committed (StandaloneCommit, below)
//   leader      logged here and ACKed by a quorum of followers ⇒ COMMIT (and INFORM to observers)
//   follower    the leader's PROPOSAL logged here; committed when its COMMIT arrives
// Every committed txn, whoever asked for it, goes to the apply stage through onCommit, in zxid order.
import type { Txn } from '../../protocol/txn.js';
import type { TxnLog } from '../../storage/TxnLog.js';
import type { Scheduler } from '../../runtime/Runtime.js';

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

/**
 * Standalone: group commit. Txns proposed during one turn of the scheduler go to the log as one
 * append (one write + fsync); when the append resolves they are committed, in order.
 */
export class StandaloneCommit implements CommitStage {
  private batch: Txn[] = [];
  private scheduled = false;
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  private failed: Error | null = null;

  constructor(
    private readonly log: TxnLog,
    private readonly scheduler: Scheduler,
    private readonly sink: CommitSink,
    /** Called with each append's duration (fsync time as the operator sees it). */
    private readonly onAppended: (txns: number, ms: number) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  get inFlight(): number {
    return this.pending;
  }

  propose(txn: Txn): void {
    if (this.failed) return;
    this.batch.push(txn);
    this.pending++;
    if (!this.scheduled) {
      this.scheduled = true;
      this.scheduler.soon(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0 || this.failed) return;
    const started = this.now();
    this.tail = this.log.append(batch).then(
      () => {
        this.pending -= batch.length;
        if (this.failed) return;
        this.onAppended(batch.length, this.now() - started);
        for (const txn of batch) this.sink.committed(txn);
      },
      (err: Error) => {
        this.pending -= batch.length;
        if (this.failed) return;
        this.failed = err;
        this.sink.fatal(err);
      },
    );
  }

  async settled(): Promise<void> {
    while (this.pending > 0 && !this.failed) {
      if (this.scheduled) await new Promise<void>((r) => this.scheduler.soon(r));
      await this.tail;
    }
  }

  async close(): Promise<void> {
    await this.settled();
    await this.log.close();
  }
}
