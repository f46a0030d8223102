// The storage steps of a start or a sync (FileTxnSnapLog.restore, ZKDatabase.loadDataBase,
// QuorumPeer's epoch checks), each callable on its own so a learner can load, then truncate or
// take a snapshot from its leader, then open:
//   prepareDirs    create (autocreate) or check the two version-2 directories
//   loadDatabase   newest valid snapshot + replay of the later log entries; reads files only
//   repairStorage  cut a torn log tail, remove logs without a valid record, drop snapshot temporaries
//   truncateTo     a learner's TRUNC: drop every txn (and snapshot) after a zxid
//   openStorage    epoch files, log writer, snapshotter, startup snapshot, autopurge
// recover() is prepare + load + repair + open, for a server that starts on its own.
// Storage knows directories and numbers only; mapping zoo.cfg onto them is the caller's job.
// Everything tolerated is logged; everything that stops a start names the file and the problem.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ZkDatabase } from '../tree/ZkDatabase.js';
import { DataTree } from '../tree/DataTree.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles, listDataFilesAsync } from './FileNames.js';
import { MAX_SNAPSHOT_CANDIDATES, findValidSnapshotsAsync, loadNewestValidSnapshotWith } from './FileSnapshotStore.js';
import { readSnapshotFileToTree } from './Snapshot.js';
import { FileTxnLog } from './TxnLog.js';
import { truncateLog, type TruncateLogResult } from './LogTruncation.js';
import {
  DEFAULT_MAX_RECORD_BYTES, getLastLoggedZxid, isAbnormalEnd, readLogFileEnd, readLogs, type LogFileEnd, type ReadLogsResult,
} from './TxnLogReader.js';
import { Snapshotter } from './Snapshotter.js';
import { startAutopurge } from './Purge.js';
import { loadEpochs } from './EpochFiles.js';
import { StorageError, consoleLogger, nodeStorageIO, type StorageIO, type StorageLogger } from './StorageIO.js';

/** `<dataDir>/version-2` (snapshots, epoch files) and `<dataLogDir>/version-2` (txn logs). */
export interface StorageDirs {
  snapDir: string;
  logDir: string;
}

export interface StorageSettings extends StorageDirs {
  /** zookeeper.datadir.autocreate: create missing directories (default true). */
  autocreate?: boolean;
  /** zookeeper.preAllocSize in KiB; 0 or less turns padding off. */
  preAllocSizeKb: number;
  forceSync: boolean;
  snapCount: number;
  /** Largest record or field accepted on read: jute.maxbuffer + extrasize. */
  maxFieldBytes?: number;
  /** zookeeper.commitLogCount: txns kept in memory for DIFF sync. */
  commitLogCount?: number;
  /** zookeeper.digest.enabled (default true). */
  digestEnabled?: boolean;
  /** autopurge.snapRetainCount (default 3). */
  snapRetainCount?: number;
  /** autopurge.purgeInterval in hours; 0 (default) = off. */
  purgeIntervalHours?: number;
  /**
   * A quorum member: no snapshot of the replayed state at start, except the empty tree of a new
   * directory (Apache's QuorumPeer.loadDataBase takes none). The log's tail may hold txns the
   * ensemble never committed; a snapshot of them would leave nothing older to truncate back to
   * when the leader sends TRUNC.
   */
  quorumMember?: boolean;
}

export interface StorageOptions {
  io?: StorageIO;
  logger?: StorageLogger;
  /** Injected for deterministic snapshot triggers in tests; Math.random by default. */
  random?: () => number;
}

// ------------------------------------------------------------------ prepare

function prepareDir(dir: string, what: string, autocreate: boolean): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw StorageError.wrap(`stat ${what}`, dir, e);
  }
  if (!st) {
    if (!autocreate) throw new StorageError(`${what} ${dir} does not exist (autocreate is off)`, dir, 'ENOENT');
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw StorageError.wrap(`create ${what}`, dir, e);
    }
    return;
  }
  if (!st.isDirectory()) throw new StorageError(`${what} ${dir} is not a directory`, dir, 'ENOTDIR');
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.R_OK | fs.constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StorageError(`${what} ${dir} is not writable (${code})`, dir, code);
  }
}

/**
 * Create the directories or check they are usable. Startup only. With autocreate off, dataDir
 * and dataLogDir (the parents) must exist; the version-2 directories in them are always created.
 */
export function prepareDirs(settings: StorageDirs & { autocreate?: boolean }): void {
  const autocreate = settings.autocreate ?? true;
  prepareDir(path.dirname(settings.snapDir), 'dataDir', autocreate);
  prepareDir(settings.snapDir, 'snapshot directory', true);
  if (settings.logDir !== settings.snapDir) {
    prepareDir(path.dirname(settings.logDir), 'dataLogDir', autocreate);
    prepareDir(settings.logDir, 'txn log directory', true);
  }
}

// ------------------------------------------------------------------ load

export interface LoadOptions {
  logger?: StorageLogger;
  maxFieldBytes?: number;
  commitLogCount?: number;
  /** zookeeper.digest.enabled (default true): keep and check the tree digest. */
  digestEnabled?: boolean;
}

export interface LoadReport extends StorageDirs {
  /** Snapshot the tree was loaded from, or null for an empty start. */
  snapshot: string | null;
  snapshotZxid: number;
  replayedTxns: number;
  lastProcessedZxid: number;
  /** How each log file read ended (the newest one tells whether a tail is torn). */
  logFiles: LogFileEnd[];
  /**
   * Sessions that own ephemerals but are not in the session table: the server must close each
   * through its write path (a closeSession txn), never by changing the tree on its own.
   */
  orphanSessions: bigint[];
  /** The ephemeral paths those sessions own. */
  orphanEphemerals: string[];
  /** Time to find, read and rebuild the snapshot, and to replay the logs after it, in ms. */
  snapLoadMs: number;
  txnsLoadMs: number;
}

export interface Loaded {
  db: ZkDatabase;
  report: LoadReport;
}

function checkDirForLoad(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw StorageError.wrap(`stat ${what}`, dir, e);
  }
  if (!st.isDirectory()) throw new StorageError(`${what} ${dir} is not a directory`, dir, 'ENOTDIR');
}

/**
 * Newest valid snapshot + replay of every later logged txn (FileTxnSnapLog.restore). Reads
 * files and changes none, so it can run before deciding to truncate or to take a snapshot
 * from a leader. Replayed txns also fill the database's committed-txn window.
 */
export function loadDatabase(dirs: StorageDirs, opts: LoadOptions = {}): Loaded {
  const logger = opts.logger ?? consoleLogger;
  const { snapDir, logDir } = dirs;
  checkDirForLoad(snapDir, 'snapshot directory');
  if (logDir !== snapDir) {
    checkDirForLoad(logDir, 'txn log directory');
    if (listDataFiles(logDir, SNAPSHOT_PREFIX).length > 0) {
      throw new StorageError(`txn log directory ${logDir} contains snapshot files; dataDir and dataLogDir are swapped or mixed`, logDir, 'EMIXED');
    }
    if (listDataFiles(snapDir, LOG_PREFIX).length > 0) {
      throw new StorageError(`snapshot directory ${snapDir} contains txn log files; dataDir and dataLogDir are swapped or mixed`, snapDir, 'EMIXED');
    }
  }
  const maxFieldBytes = opts.maxFieldBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const report: LoadReport = {
    snapDir, logDir, snapshot: null, snapshotZxid: 0, replayedTxns: 0, lastProcessedZxid: 0,
    logFiles: [], orphanSessions: [], orphanEphemerals: [], snapLoadMs: 0, txnsLoadMs: 0,
  };
  const snapT0 = performance.now();

  const dbOpts = { commitLogCount: opts.commitLogCount };
  const treeOpts = { digestEnabled: opts.digestEnabled ?? true };
  // Nodes go from the file's bytes straight into the tree (no record per node on the way).
  const loaded = loadNewestValidSnapshotWith(snapDir, logger, (p) => readSnapshotFileToTree(p, treeOpts, maxFieldBytes));
  // Digest mismatches are only reported (digest_mismatches_count), as ZooKeeper 3.8 does.
  const digestReporter = (msg: string): void => logger.warn(msg);
  let db: ZkDatabase;
  if (loaded) {
    const tree = loaded.content.tree;
    tree.digestReporter = digestReporter;
    db = new ZkDatabase(tree, dbOpts);
    for (const [id, timeout] of loaded.content.sessions) db.sessions.set(id, timeout);
    db.lastProcessedZxid = loaded.file.zxid;
    // A digest at the file's own zxid is checked now; a later one (fuzzy snapshot) once replay gets there.
    tree.loadSnapshotDigest(loaded.content.digest, loaded.file.zxid);
    report.snapshot = loaded.file.path;
    report.snapshotZxid = loaded.file.zxid;
    logger.info(`loaded ${loaded.file.path}: ${loaded.content.nodeCount} nodes, ${loaded.content.sessions.size} sessions, digest ${tree.treeDigest()}`);
  } else {
    db = new ZkDatabase(new DataTree(false, treeOpts), dbOpts);
    db.tree.digestReporter = digestReporter;
    if (listDataFiles(logDir, LOG_PREFIX).length > 0) logger.warn(`no snapshot in ${snapDir}; replaying the txn logs onto an empty tree`);
  }

  report.snapLoadMs = performance.now() - snapT0;
  const txnsT0 = performance.now();
  const logs: ReadLogsResult = { files: [], lastZxid: -1 };
  const it = readLogs(logDir, report.snapshotZxid + 1, { maxRecordBytes: maxFieldBytes, logger }, logs);
  for (let r = it.next(); !r.done; r = it.next()) {
    try {
      db.applyTxn(r.value);
    } catch (e) {
      throw new Error(`replay of txn 0x${r.value.hdr.zxid.toString(16)} (type ${r.value.hdr.type}) from ${logDir} failed: ${(e as Error).message}`);
    }
    report.replayedTxns++;
  }
  report.txnsLoadMs = performance.now() - txnsT0;
  report.logFiles = logs.files;
  db.tree.assertSnapshotDigestSettled();
  const pendingSnapshotDigest = db.tree.digestFromLoadedSnapshot;
  if (pendingSnapshotDigest) {
    logger.warn(
      `highest txn zxid 0x${db.lastProcessedZxid.toString(16)} does not cover the snapshot digest zxid 0x${pendingSnapshotDigest.zxid.toString(16)}, which might lead to an inconsistent state`,
    );
  }
  report.lastProcessedZxid = db.lastProcessedZxid;
  report.orphanSessions = db.orphanSessionOwners();
  report.orphanEphemerals = report.orphanSessions.flatMap((s) => [...(db.tree.ephemerals.get(s) ?? [])]);
  if (report.orphanSessions.length > 0) {
    logger.info(
      `${report.orphanSessions.length} session(s) not in the session table own ${report.orphanEphemerals.length} ephemeral node(s); ` +
        'they are to be closed through the log',
    );
  }
  logger.info(
    `loaded zxid 0x${db.lastProcessedZxid.toString(16)} from ${report.snapshot ?? 'an empty tree'} + ${report.replayedTxns} logged txns`,
  );
  return { db, report };
}

// ------------------------------------------------------------------ repair

export interface RepairReport {
  /** Log files whose damaged or torn tail was cut off, with the offset cut at. */
  truncated: Array<{ path: string; at: number }>;
  /** Log files removed because they held no valid record. */
  removedEmptyLogs: string[];
  /** `snapshot.*.tmp` files of snapshots that never finished. */
  removedTemporaries: string[];
  /** Zxid of the last valid record in the newest log left, or -1 (none). */
  lastLoggedZxid: number;
}

export interface RepairOptions {
  io?: StorageIO;
  logger?: StorageLogger;
  maxFieldBytes?: number;
  /** fsync what is changed (forceSync); default true. */
  sync?: boolean;
  /**
   * How log files ended when loadDatabase read them: a file still that size is not read again
   * (at a million znodes the newest log holds ~10 MB of txns: reading it twice more cost ~0.5 s
   * of every restart).
   */
  known?: readonly LogFileEnd[];
}

/**
 * Leave the directories ready for a writer after a crash: newest log files without a valid
 * record are removed (their names would collide with the next file), the newest log with data
 * is cut at the end of its valid data, unfinished snapshot temporaries go.
 */
export async function repairStorage(dirs: StorageDirs, opts: RepairOptions = {}): Promise<RepairReport> {
  const io = opts.io ?? nodeStorageIO;
  const logger = opts.logger ?? consoleLogger;
  const sync = opts.sync ?? true;
  const report: RepairReport = { truncated: [], removedEmptyLogs: [], removedTemporaries: [], lastLoggedZxid: -1 };
  for (const name of await fsp.readdir(dirs.snapDir)) {
    if (name.startsWith(SNAPSHOT_PREFIX + '.') && name.endsWith('.tmp')) {
      await io.remove(path.join(dirs.snapDir, name));
      report.removedTemporaries.push(path.join(dirs.snapDir, name));
    }
  }
  const logs = await listDataFilesAsync(dirs.logDir, LOG_PREFIX);
  for (let i = logs.length - 1; i >= 0; i--) {
    const file = logs[i]!.path;
    const seen = opts.known?.find((k) => k.path === file);
    const end = seen !== undefined && (await fsp.stat(file)).size === seen.fileSize
      ? seen
      : (await readLogFileEnd(file, { logger, maxRecordBytes: opts.maxFieldBytes }))!;
    if (end.records === 0) {
      // A file created just before a crash: its name would collide with the next log file.
      await io.remove(end.path);
      report.removedEmptyLogs.push(end.path);
      logger.warn(`removed ${end.path}: no complete record in it`);
      continue;
    }
    if (isAbnormalEnd(end.end)) {
      await io.truncate(end.path, end.validEnd, sync);
      report.truncated.push({ path: end.path, at: end.validEnd });
      logger.warn(`truncated ${end.path} at offset ${end.validEnd} (${end.end}); ${end.fileSize - end.validEnd} bytes of torn tail removed`);
    }
    report.lastLoggedZxid = end.lastZxid;
    break;
  }
  if (sync && report.removedEmptyLogs.length > 0) await io.syncDir(dirs.logDir);
  return report;
}

// ------------------------------------------------------------------ truncate

export interface TruncateReport {
  log: TruncateLogResult;
  /** Snapshots named after the zxid: they hold the txns being undone. */
  removedSnapshots: string[];
}

/**
 * A learner's TRUNC: afterwards loadDatabase yields the state at `zxid`. The log loses every
 * txn after it; so do snapshots named after it, which Apache leaves in place (ZOOKEEPER-1549:
 * the next load would bring the undone txns back). When every valid snapshot is newer than
 * `zxid` nothing is changed and the call fails (code ENOSNAPSHOT): only a full snapshot from
 * the leader (SNAP) can help then.
 */
export async function truncateTo(dirs: StorageDirs, zxid: number, opts: RepairOptions = {}): Promise<TruncateReport> {
  const removedSnapshots = await removeSnapshotsAfter(dirs, zxid, opts);
  const log = await truncateLog(dirs.logDir, zxid, {
    io: opts.io, logger: opts.logger, sync: opts.sync ?? true, maxRecordBytes: opts.maxFieldBytes,
  });
  return { log, removedSnapshots };
}

/**
 * The snapshot half of truncateTo, for a learner whose log writer is open (it cuts the log through
 * the writer, TxnLog.truncate): removes every snapshot named after `zxid`, or fails (ENOSNAPSHOT,
 * nothing removed) when no valid snapshot at or before it would remain to load from.
 */
export async function removeSnapshotsAfter(dirs: StorageDirs, zxid: number, opts: RepairOptions = {}): Promise<string[]> {
  const io = opts.io ?? nodeStorageIO;
  const logger = opts.logger ?? consoleLogger;
  const sync = opts.sync ?? true;
  const newer = (await listDataFilesAsync(dirs.snapDir, SNAPSHOT_PREFIX)).filter((f) => f.zxid > zxid);
  if (newer.length > 0) {
    const valid = await findValidSnapshotsAsync(dirs.snapDir, MAX_SNAPSHOT_CANDIDATES);
    if (valid.length > 0 && !valid.some((f) => f.zxid <= zxid)) {
      throw new StorageError(
        `cannot truncate to zxid 0x${zxid.toString(16)}: every snapshot in ${dirs.snapDir} is newer (${newer.map((f) => f.name).join(', ')}); a full snapshot is needed`,
        dirs.snapDir,
        'ENOSNAPSHOT',
      );
    }
  }
  const removedSnapshots: string[] = [];
  for (const f of newer.reverse()) {
    await io.remove(f.path);
    removedSnapshots.push(f.path);
    logger.warn(`removed ${f.path}: it holds txns after 0x${zxid.toString(16)}, which are being truncated`);
  }
  if (sync && removedSnapshots.length > 0) await io.syncDir(dirs.snapDir);
  return removedSnapshots;
}

// ------------------------------------------------------------------ open

export interface Epochs {
  currentEpoch: number;
  acceptedEpoch: number;
}

export interface OpenOptions extends StorageOptions {
  /**
   * What loadDatabase reported for this db: when the db is exactly the newest snapshot, no
   * startup snapshot is written. Without it a startup snapshot is always written (as Apache's
   * ZooKeeperServer.loadData does).
   */
  loaded?: LoadReport;
  /** The newest logged zxid as repairStorage found it (else the newest log is read for it). */
  lastLoggedZxid?: number;
}

export interface Opened {
  log: FileTxnLog;
  snapshotter: Snapshotter;
  epochs: Epochs;
  /** Snapshot written by open (a clean starting point, snapshot.0 on a new directory), if any. */
  startupSnapshot: string | null;
  /** The startup snapshot is being written in the background (a big tree: see below). */
  startupSnapshotInBackground?: boolean;
}

/**
 * Above this many znodes the startup snapshot is written in the background, in slices, instead
 * of before the server serves: at a million znodes it takes seconds, and nothing needs it first
 * (the logs it would supersede stay until a snapshot covers them, as with any background one).
 */
export const BACKGROUND_STARTUP_SNAPSHOT_NODES = 100_000;

/**
 * Start writing: check or create the epoch files (QuorumPeer.loadDataBase: missing ones get the
 * epoch of the db's last zxid), open the log writer and the snapshotter, write a startup
 * snapshot unless the newest one already is this state, start autopurge (its first pass is
 * awaited). Call after loadDatabase and repairStorage, and after truncateTo if there was one.
 */
export async function openStorage(settings: StorageSettings, db: ZkDatabase, opts: OpenOptions = {}): Promise<Opened> {
  const io = opts.io ?? nodeStorageIO;
  const logger = opts.logger ?? consoleLogger;
  const { snapDir, logDir } = settings;
  prepareDirs(settings);
  const epochs = await loadEpochs(snapDir, db.lastProcessedZxid, io);
  const maxRecordBytes = settings.maxFieldBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const lastLoggedZxid = opts.lastLoggedZxid ?? (await getLastLoggedZxid(logDir, { logger, maxRecordBytes }));
  const log = new FileTxnLog({
    dir: logDir, preAllocSizeKb: settings.preAllocSizeKb, forceSync: settings.forceSync, io, logger, lastLoggedZxid, maxRecordBytes,
  });
  const snapshotter = new Snapshotter({ snapDir, log, snapCount: settings.snapCount, io, logger, random: opts.random });
  let startupSnapshot: string | null = null;
  let startupSnapshotInBackground = false;
  const loaded = opts.loaded;
  const unchanged =
    loaded !== undefined &&
    loaded.snapshot !== null &&
    loaded.snapshotZxid === db.lastProcessedZxid &&
    (await findValidSnapshotsAsync(snapDir, 1))[0]?.path === loaded.snapshot;
  const wanted = settings.quorumMember
    ? db.lastProcessedZxid === 0 && (await findValidSnapshotsAsync(snapDir, 1)).length === 0
    : !unchanged;
  if (wanted) {
    if (db.tree.nodeCount > BACKGROUND_STARTUP_SNAPSHOT_NODES) startupSnapshotInBackground = snapshotter.startInBackground(db);
    else startupSnapshot = await snapshotter.snapshotNow(db);
  }
  const purge = startAutopurge(
    { snapDir, logDir, snapRetainCount: settings.snapRetainCount ?? 3, purgeIntervalHours: settings.purgeIntervalHours ?? 0 },
    logger,
    io,
  );
  // Stopped by snapshotter.close().
  snapshotter.attachAutopurge(purge);
  await purge?.running;
  return { log, snapshotter, epochs, startupSnapshot, startupSnapshotInBackground };
}

// ------------------------------------------------------------------ all of it

export interface RecoveryReport extends LoadReport, RepairReport {
  epochs: Epochs;
  startupSnapshot: string | null;
}

export interface Recovered {
  db: ZkDatabase;
  log: FileTxnLog;
  snapshotter: Snapshotter;
  report: RecoveryReport;
}

/** prepareDirs + loadDatabase + repairStorage + openStorage: a server starting on its own. */
export async function recover(settings: StorageSettings, opts: StorageOptions = {}): Promise<Recovered> {
  const logger = opts.logger ?? consoleLogger;
  prepareDirs(settings);
  const { db, report: loadReport } = loadDatabase(settings, {
    logger, maxFieldBytes: settings.maxFieldBytes, commitLogCount: settings.commitLogCount, digestEnabled: settings.digestEnabled,
  });
  const repair = await repairStorage(settings, {
    io: opts.io, logger, maxFieldBytes: settings.maxFieldBytes, sync: settings.forceSync, known: loadReport.logFiles,
  });
  const opened = await openStorage(settings, db, { ...opts, loaded: loadReport, lastLoggedZxid: repair.lastLoggedZxid });
  const report: RecoveryReport = { ...loadReport, ...repair, epochs: opened.epochs, startupSnapshot: opened.startupSnapshot };
  return { db, log: opened.log, snapshotter: opened.snapshotter, report };
}
