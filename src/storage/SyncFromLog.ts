// Whether a leader may bring a learner up to date from its txn log on disk rather than with a
// full snapshot (Apache's ZKDatabase.calculateTxnLogSizeLimit / getProposalsFromTxnLog): only
// when the log files it would have to scan are small next to the newest snapshot, since reading
// much more log than a snapshot's worth is slower than sending the snapshot.
import * as fsp from 'node:fs/promises';
import { LOG_PREFIX, logFilesFrom, listDataFilesAsync } from './FileNames.js';
import { findValidSnapshotsAsync } from './FileSnapshotStore.js';
import type { StorageDirs } from './Recovery.js';

/** zookeeper.snapshotSizeFactor's default. */
export const DEFAULT_SNAPSHOT_SIZE_FACTOR = 0.33;

export interface LogSyncBudget {
  /** Bytes of log files that would be scanned (their sizes on disk, preallocation included). */
  logBytes: number;
  /** snapshotSizeFactor × the newest snapshot's size; -1 when syncing from the log is off. */
  limitBytes: number;
  allowed: boolean;
}

/**
 * The budget for reading the log from `fromZxid` on. A negative factor turns syncing from the
 * log off; with no snapshot the limit is 0, so only an empty scan would be allowed.
 */
export async function txnLogSyncBudget(dirs: StorageDirs, fromZxid: number, factor = DEFAULT_SNAPSHOT_SIZE_FACTOR): Promise<LogSyncBudget> {
  if (!(factor >= 0)) return { logBytes: 0, limitBytes: -1, allowed: false };
  const newest = (await findValidSnapshotsAsync(dirs.snapDir, 1))[0];
  const snapBytes = newest ? (await fsp.stat(newest.path)).size : 0;
  const limitBytes = Math.floor(snapBytes * factor);
  let logBytes = 0;
  for (const f of logFilesFrom(await listDataFilesAsync(dirs.logDir, LOG_PREFIX), fromZxid)) {
    try {
      logBytes += (await fsp.stat(f.path)).size;
    } catch {
      // Purged while we looked: it is not scanned either.
    }
  }
  return { logBytes, limitBytes, allowed: logBytes <= limitBytes };
}
