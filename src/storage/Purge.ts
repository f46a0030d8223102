// Autopurge (PurgeTxnLog / DatadirCleanupManager, A4.7): keep the newest N valid snapshots
// and every log file needed to replay from the oldest of them; delete older snapshot.* and
// log.* files. Nothing else in the directories is touched.
import * as fs from 'node:fs';
import type { ServerConfig } from '../config/ServerConfig.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles, logFilesFrom, storageDirs } from './FileNames.js';
import { findValidSnapshots } from './FileSnapshotStore.js';
import { consoleLogger, type StorageLogger } from './StorageIO.js';

export const MIN_SNAP_RETAIN_COUNT = 3;

/** Delete what the retained snapshots do not need; returns the deleted paths. */
export function purge(snapDir: string, logDir: string, snapRetainCount: number, logger: StorageLogger = consoleLogger): string[] {
  const retain = Math.max(MIN_SNAP_RETAIN_COUNT, snapRetainCount);
  const kept = findValidSnapshots(snapDir, retain);
  if (kept.length === 0) return [];
  const oldestKept = kept[kept.length - 1]!.zxid;
  const logs = listDataFiles(logDir, LOG_PREFIX);
  const neededLogs = new Set(logFilesFrom(logs, oldestKept).map((f) => f.path));
  const doomed = [
    ...listDataFiles(snapDir, SNAPSHOT_PREFIX).filter((f) => f.zxid < oldestKept),
    ...logs.filter((f) => f.zxid < oldestKept && !neededLogs.has(f.path)),
  ];
  const deleted: string[] = [];
  for (const f of doomed) {
    try {
      fs.unlinkSync(f.path);
      deleted.push(f.path);
    } catch (e) {
      logger.warn(`purge: could not delete ${f.path}: ${(e as Error).message}`);
    }
  }
  if (deleted.length) logger.info(`purge: deleted ${deleted.length} files older than snapshot 0x${oldestKept.toString(16)}`);
  return deleted;
}

export interface AutopurgeTask {
  stop(): void;
}

/** Runs purge at startup and every purgeInterval hours when the interval is > 0. */
export function startAutopurge(config: ServerConfig, logger: StorageLogger = consoleLogger): AutopurgeTask | null {
  if (!(config.autopurgePurgeInterval > 0)) return null;
  const { snapDir, logDir } = storageDirs(config);
  const run = () => {
    try {
      purge(snapDir, logDir, config.autopurgeSnapRetainCount, logger);
    } catch (e) {
      logger.warn(`purge failed: ${(e as Error).message}`);
    }
  };
  run();
  const intervalMs = config.autopurgePurgeInterval * 3600_000;
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
  return { stop: () => clearTimeout(timer) };
}
