// When to snapshot (SyncRequestProcessor's trigger): after snapCount/2 + a random share of
// snapCount/2 txns, roll the log and write a fuzzy snapshot in the background. Only one
// snapshot runs at a time; a trigger that finds one running is skipped ("Too busy to snap").
import type { ZkDatabase } from '../tree/ZkDatabase.js';
import type { TxnLog } from './TxnLog.js';
import { serializeSnapshot, serializeSnapshotSync } from './Snapshot.js';
import { writeSnapshotFile } from './FileSnapshotStore.js';
import { consoleLogger, nodeStorageIO, type StorageIO, type StorageLogger } from './StorageIO.js';

export interface SnapshotterOptions {
  snapDir: string;
  log: TxnLog;
  snapCount: number;
  io?: StorageIO;
  logger?: StorageLogger;
  /** Injected for deterministic tests; Math.random by default. */
  random?: () => number;
  /** Nodes serialized per event-loop slice. */
  nodesPerSlice?: number;
}

export class Snapshotter {
  private readonly snapCount: number;
  private readonly random: () => number;
  private readonly io: StorageIO;
  private readonly logger: StorageLogger;
  private txnsSinceRoll = 0;
  private randRoll: number;
  private running: Promise<void> | null = null;
  /** Paths of snapshots written by this snapshotter, oldest first. */
  readonly written: string[] = [];
  skippedBusy = 0;
  lastError: Error | null = null;

  constructor(private readonly opts: SnapshotterOptions) {
    this.snapCount = Math.max(2, Math.floor(opts.snapCount));
    this.random = opts.random ?? Math.random;
    this.io = opts.io ?? nodeStorageIO;
    this.logger = opts.logger ?? consoleLogger;
    this.randRoll = this.drawRoll();
  }

  private drawRoll(): number {
    return Math.floor(this.random() * Math.floor(this.snapCount / 2));
  }

  /** Txns that trigger the next snapshot: snapCount/2 + randRoll, exceeded by one. */
  get threshold(): number {
    return Math.floor(this.snapCount / 2) + this.randRoll;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Call once per applied txn. */
  afterApply(db: ZkDatabase): void {
    if (++this.txnsSinceRoll <= this.threshold) return;
    this.txnsSinceRoll = 0;
    this.randRoll = this.drawRoll();
    this.opts.log.roll();
    if (this.running) {
      this.skippedBusy++;
      this.logger.warn('Too busy to snap, skipping');
      return;
    }
    this.running = this.snapshotInBackground(db).finally(() => {
      this.running = null;
    });
  }

  private async snapshotInBackground(db: ZkDatabase): Promise<void> {
    try {
      const snap = await serializeSnapshot(db, { nodesPerSlice: this.opts.nodesPerSlice ?? 2000 });
      this.written.push(await writeSnapshotFile(this.opts.snapDir, snap, this.io));
    } catch (e) {
      this.lastError = e as Error;
      this.logger.warn(`background snapshot failed: ${(e as Error).message}`);
    }
  }

  /** Resolves when no background snapshot is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private autopurge: { stop(): void } | null = null;

  /** Hand over the autopurge task so that close() stops it with the rest of the background work. */
  attachAutopurge(task: { stop(): void } | null): void {
    this.autopurge = task;
  }

  /** Shutdown: stop autopurge, let a running background snapshot finish; no new one is started. */
  async close(): Promise<void> {
    this.autopurge?.stop();
    this.autopurge = null;
    await this.idle();
  }

  /** A complete snapshot of db right now (startup, shutdown); blocks the event loop while serializing. */
  async snapshotNow(db: ZkDatabase): Promise<string> {
    await this.idle();
    const p = await writeSnapshotFile(this.opts.snapDir, serializeSnapshotSync(db), this.io);
    this.written.push(p);
    return p;
  }
}
