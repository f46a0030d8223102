// The log stage: txns go to the durable TxnLog in batches, one append (one write + fsync) per turn
// of the scheduler, and come back in order once durable. Every role logs the same way (standalone
// its own txns, a leader and a follower the proposals); what "durable" then means is the commit
// stage's business.
import type { Txn } from '../../protocol/txn.js';
import type { TxnLog } from '../../storage/TxnLog.js';
import type { Clock, Scheduler } from '../../runtime/Runtime.js';

export interface LogSink {
  /** These txns are durable; called in append order. */
  durable(txns: Txn[]): void;
  /** The log failed: nothing after this is durable (the log refuses further appends). */
  failed(err: Error): void;
}

/** What the log stage reports to the metrics (ServerStats implements it). */
export interface LogMetrics {
  /** A txn was handed to the log stage. */
  recordSyncQueued(): void;
  /** One append of `txns` took `ms` (write + fsync). */
  recordLogBatch(txns: number, ms: number): void;
  /** A txn became durable `queuedMs` after it reached the log stage, `totalMs` after it was prepared. */
  recordDurable(queuedMs: number, totalMs: number): void;
}

/**
 * At most this many txns per append (ZooKeeper's zookeeper.maxBatchSize default). Each append's
 * txns are committed and applied in one turn when it is durable, so this also bounds how long
 * applying a batch can hold the event loop (issue 10: 4000 pipelined creates in one turn took
 * ~100 ms).
 */
export const MAX_LOG_BATCH = 1000;

const NO_METRICS: LogMetrics = { recordSyncQueued() {}, recordLogBatch() {}, recordDurable() {} };

export class LogStage {
  private batch: Txn[] = [];
  private scheduled = false;
  private pendingCount = 0;
  private tail: Promise<void> = Promise.resolve();
  private error: Error | null = null;
  /** When the first txn of the batch being gathered arrived. */
  private batchStartedAt = 0;

  constructor(
    private readonly log: TxnLog,
    private readonly scheduler: Scheduler,
    private readonly clock: Clock,
    private readonly sink: LogSink,
    private readonly metrics: LogMetrics = NO_METRICS,
  ) {}

  /** Txns handed to the log and not yet durable. */
  get pending(): number {
    return this.pendingCount;
  }

  get failure(): Error | null {
    return this.error;
  }

  append(txn: Txn): void {
    if (this.error) return;
    this.batch.push(txn);
    this.pendingCount++;
    this.metrics.recordSyncQueued();
    if (this.batch.length === 1) this.batchStartedAt = this.clock.now();
    if (!this.scheduled) {
      this.scheduled = true;
      this.scheduler.soon(() => this.flush());
    }
  }

  /** Start a new log file at the next append (a snapshot was taken). */
  roll(): void {
    this.log.roll();
  }

  private flush(): void {
    this.scheduled = false;
    let batch = this.batch;
    if (batch.length > MAX_LOG_BATCH) {
      this.batch = batch.slice(MAX_LOG_BATCH);
      batch = batch.slice(0, MAX_LOG_BATCH);
      this.batchStartedAt = this.clock.now();
      this.scheduled = true;
      this.scheduler.soon(() => this.flush());
    } else {
      this.batch = [];
    }
    if (batch.length === 0 || this.error) return;
    const started = this.clock.now();
    const queuedAt = this.batchStartedAt;
    this.tail = this.log.append(batch).then(
      () => {
        this.pendingCount -= batch.length;
        if (this.error) return;
        const now = this.clock.now();
        this.metrics.recordLogBatch(batch.length, now - started);
        for (const txn of batch) this.metrics.recordDurable(now - queuedAt, now - txn.hdr.time);
        this.sink.durable(batch);
      },
      (err: Error) => {
        this.pendingCount -= batch.length;
        if (this.error) return;
        this.error = err;
        this.sink.failed(err);
      },
    );
  }

  /** Resolves once everything appended so far is durable or has failed. */
  async settled(): Promise<void> {
    while (this.pendingCount > 0 && !this.error) {
      if (this.scheduled) await new Promise<void>((r) => this.scheduler.soon(r));
      await this.tail;
    }
  }

  async close(): Promise<void> {
    await this.settled();
    await this.log.close();
  }
}
