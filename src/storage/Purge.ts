// Autopurge (PurgeTxnLog / DatadirCleanupManager): keep the newest N valid snapshots
// and every log file needed to replay from the oldest of them; delete older snapshot.* and
// log.* files. Nothing else in the directories is touched. Runs while serving: fs.promises only.
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFilesAsync, logFilesFrom } from './FileNames.js';
import { findValidSnapshotsAsync } from './FileSnapshotStore.js';
import { consoleLogger, nodeStorageIO, type StorageIO, type StorageLogger } from './StorageIO.js';

export const MIN_SNAP_RETAIN_COUNT = 3;

/** Delete what the retained snapshots do not need; returns the deleted paths. */
export async function purge(
  snapDir: string,
  logDir: string,
  snapRetainCount: number,
  logger: StorageLogger = consoleLogger,
  io: StorageIO = nodeStorageIO,
): Promise<string[]> {
  const retain = Math.max(MIN_SNAP_RETAIN_COUNT, snapRetainCount);
  const kept = await findValidSnapshotsAsync(snapDir, retain);
  if (kept.length === 0) return [];
  const oldestKept = kept[kept.length - 1]!.zxid;
  const logs = await listDataFilesAsync(logDir, LOG_PREFIX);
  const neededLogs = new Set(logFilesFrom(logs, oldestKept).map((f) => f.path));
  const doomed = [
    ...(await listDataFilesAsync(snapDir, SNAPSHOT_PREFIX)).filter((f) => f.zxid < oldestKept),
    ...logs.filter((f) => f.zxid < oldestKept && !neededLogs.has(f.path)),
  ];
  const deleted: string[] = [];
  for (const f of doomed) {
    try {
      await io.remove(f.path);
      deleted.push(f.path);
    } catch (e) {
      logger.warn(`purge: could not delete ${f.path}: ${(e as Error).message}`);
    }
  }
  if (deleted.length) logger.info(`purge: deleted ${deleted.length} files older than snapshot 0x${oldestKept.toString(16)}`);
  return deleted;
}

export interface AutopurgeSettings {
  snapDir: string;
  logDir: string;
  /** autopurge.snapRetainCount (raised to 3 if lower). */
  snapRetainCount: number;
  /** autopurge.purgeInterval in hours; 0 or less = off. */
  purgeIntervalHours: number;
}

export interface AutopurgeTask {
  stop(): void;
  /** The purge running now, if any (tests and shutdown wait for it). */
  readonly running: Promise<void> | null;
}

/** Runs purge at startup and every purgeInterval hours when the interval is > 0. */
export function startAutopurge(settings: AutopurgeSettings, logger: StorageLogger = consoleLogger, io?: StorageIO): AutopurgeTask | null {
  if (!(settings.purgeIntervalHours > 0)) return null;
  let running: Promise<void> | null = null;
  const run = () => {
    // A purge still running (huge directory, slow disk) is not stacked with another.
    if (running) return;
    running = purge(settings.snapDir, settings.logDir, settings.snapRetainCount, logger, io).then(
      () => undefined,
      (e: unknown) => logger.warn(`purge failed: ${(e as Error).message}`),
    ).finally(() => {
      running = null;
    });
  };
  run();
  const intervalMs = settings.purgeIntervalHours * 3600_000;
  // Timers overflow past 2^31-1 ms (~24.8 days), so long intervals are waited out in legs.
  const MAX_TIMER_MS = 0x7fffffff;
  let timer: NodeJS.Timeout;
  const arm = (remainingMs: number) => {
    timer = setTimeout(() => {
      if (remainingMs > MAX_TIMER_MS) return arm(remainingMs - MAX_TIMER_MS);
      run();
      arm(intervalMs);
    }, Math.min(remainingMs, MAX_TIMER_MS));
    timer.unref();
  };
  arm(intervalMs);
  return {
    stop: () => clearTimeout(timer),
    get running() {
      return running;
    },
  };
}
