// The snapshot directory: which snapshot to load and how a new one reaches disk.
// New snapshots go to `snapshot.<zxid>.tmp`, are fsynced and renamed into place, so a crash
// never leaves a half-written `snapshot.<zxid>`; readers still check validity anyway, since
// files may come from Apache ZooKeeper, which writes background snapshots in place.
import * as path from 'node:path';
import { SNAPSHOT_PREFIX, listDataFiles, listDataFilesAsync, snapshotFileName, type DataFile } from './FileNames.js';
import { TreeRebuildError, looksLikeValidSnapshot, looksLikeValidSnapshotAsync, readSnapshotFile, type SnapshotContent } from './Snapshot.js';
import { StorageError, consoleLogger, nodeStorageIO, type StorageIO, type StorageLogger } from './StorageIO.js';

/** At most this many candidates are considered at startup (FileSnap.findNValidSnapshots(100)). */
export const MAX_SNAPSHOT_CANDIDATES = 100;

/** The n newest snapshots that pass the cheap validity test, newest first. */
export function findValidSnapshots(snapDir: string, n: number): DataFile[] {
  const all = listDataFiles(snapDir, SNAPSHOT_PREFIX).reverse();
  const out: DataFile[] = [];
  for (const f of all) {
    if (out.length >= n) break;
    if (looksLikeValidSnapshot(f.path)) out.push(f);
  }
  return out;
}

/** findValidSnapshots without blocking the event loop. */
export async function findValidSnapshotsAsync(snapDir: string, n: number): Promise<DataFile[]> {
  const all = (await listDataFilesAsync(snapDir, SNAPSHOT_PREFIX)).reverse();
  const out: DataFile[] = [];
  for (const f of all) {
    if (out.length >= n) break;
    if (await looksLikeValidSnapshotAsync(f.path)) out.push(f);
  }
  return out;
}

export interface LoadedSnapshot {
  file: DataFile;
  content: SnapshotContent;
}

/**
 * The newest snapshot that deserializes with good checksums, falling back to older ones.
 * Null when the directory holds no snapshot file at all; an error naming every file tried
 * when there are snapshot files but none is usable.
 */
export function loadNewestValidSnapshot(snapDir: string, logger: StorageLogger = consoleLogger, maxFieldBytes?: number): LoadedSnapshot | null {
  return loadNewestValidSnapshotWith(snapDir, logger, (p) => readSnapshotFile(p, maxFieldBytes));
}

/** loadNewestValidSnapshot with another reader (e.g. one decoding straight into a tree). */
export function loadNewestValidSnapshotWith<T>(snapDir: string, logger: StorageLogger, read: (path: string) => T): { file: DataFile; content: T } | null {
  const all = listDataFiles(snapDir, SNAPSHOT_PREFIX);
  if (all.length === 0) return null;
  const problems: string[] = [];
  const candidates = findValidSnapshots(snapDir, MAX_SNAPSHOT_CANDIDATES);
  for (const file of candidates) {
    try {
      return { file, content: read(file.path) };
    } catch (e) {
      if (e instanceof TreeRebuildError) throw e;
      problems.push((e as Error).message);
      logger.warn(`skipping snapshot: ${(e as Error).message}; trying an older one`);
    }
  }
  for (const f of all) {
    if (!candidates.some((c) => c.path === f.path)) problems.push(`${f.path}: incomplete (does not end with the "/" marker)`);
  }
  throw new StorageError(`Not able to find valid snapshots in ${snapDir}: ${problems.join('; ')}`, snapDir, 'ENOSNAPSHOT');
}

/** A snapshot to write: its name zxid and its bytes, in order (a SnapshotStream or a SerializedSnapshot). */
export interface SnapshotSource {
  zxid: number;
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>;
}

/**
 * Write a snapshot durably as `snapshot.<zxid>` in snapDir; returns its path. Chunks are written
 * as they come: with a SnapshotStream nothing close to the whole file is ever in memory.
 */
export async function writeSnapshotFile(snapDir: string, snap: SnapshotSource, io: StorageIO = nodeStorageIO): Promise<string> {
  const final = path.join(snapDir, snapshotFileName(snap.zxid));
  const tmp = final + '.tmp';
  const file = await io.createTruncate(tmp);
  try {
    let pos = 0;
    for await (const c of snap.chunks) {
      await file.write(c, pos);
      pos += c.length;
    }
    await file.datasync();
  } finally {
    await file.close().catch(() => undefined);
  }
  await io.rename(tmp, final);
  await io.syncDir(snapDir);
  return final;
}
