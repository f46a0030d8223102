// When to snapshot (SyncRequestProcessor's trigger): after snapCount/2 + a random share of
// snapCount/2 txns, roll the log and write a fuzzy snapshot in the background. Only one
// snapshot runs at a time; a trigger that finds one running is skipped ("Too busy to snap").
import type { ZkDatabase } from '../tree/ZkDatabase.js';
import type { TxnLog } from './TxnLog.js';
import type { AutopurgeTask } from './Purge.js';
import { DEFAULT_NODES_PER_SLICE, streamSnapshot } from './Snapshot.js';
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
  /** Path of the newest snapshot this snapshotter wrote (older ones are autopurge's business). */
  lastSnapshot: string | null = null;
  snapshotsWritten = 0;
  /** Duration of the last snapshot taken before anyone listened (the startup one); no history kept. */
  private unreportedMs: number | null = null;
  private snapshotListener: ((ms: number) => void) | null = null;
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
      const t0 = performance.now();
      const snap = streamSnapshot(db, { nodesPerSlice: this.opts.nodesPerSlice ?? DEFAULT_NODES_PER_SLICE });
      this.wrote(await writeSnapshotFile(this.opts.snapDir, snap, this.io), t0);
    } catch (e) {
      this.lastError = e as Error;
      this.logger.warn(`background snapshot failed: ${(e as Error).message}`);
    }
  }

  /** Resolves when no background snapshot is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private wrote(p: string, t0: number): void {
    this.lastSnapshot = p;
    this.snapshotsWritten++;
    const ms = performance.now() - t0;
    if (this.snapshotListener) this.snapshotListener(ms);
    else this.unreportedMs = ms;
  }

  /** Tell `listener` how long each snapshot takes (snapshottime), starting with those already taken. */
  reportSnapshotTimes(listener: (ms: number) => void): void {
    this.snapshotListener = listener;
    if (this.unreportedMs !== null) listener(this.unreportedMs);
    this.unreportedMs = null;
  }

  private autopurge: AutopurgeTask | null = null;

  /** Hand over the autopurge task so that close() stops it with the rest of the background work. */
  attachAutopurge(task: AutopurgeTask | null): void {
    this.autopurge = task;
  }

  /** Shutdown: stop autopurge, let a running background snapshot or purge finish; no new one is started. */
  async close(): Promise<void> {
    const purge = this.autopurge;
    this.autopurge = null;
    purge?.stop();
    await purge?.running;
    await this.idle();
  }

  /** A fuzzy snapshot of db started now and written in slices; false if one is already running. */
  startInBackground(db: ZkDatabase): boolean {
    if (this.running) return false;
    this.running = this.snapshotInBackground(db).finally(() => {
      this.running = null;
    });
    return true;
  }

  /**
   * A complete snapshot of db now (startup, after a sync), streamed to the file. Meant for
   * when nothing else changes the tree; if something does, it is a fuzzy snapshot like the rest.
   */
  async snapshotNow(db: ZkDatabase): Promise<string> {
    await this.idle();
    const t0 = performance.now();
    const p = await writeSnapshotFile(this.opts.snapDir, streamSnapshot(db, { nodesPerSlice: Number.MAX_SAFE_INTEGER }), this.io);
    this.wrote(p, t0);
    return p;
  }
}
