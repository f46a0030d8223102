// Startup: newest valid snapshot + replay of the later log entries (FileTxnSnapLog.restore),
// then a fresh log writer and snapshotter. Everything tolerated is logged; everything that
// stops the start names the file or directory and the problem.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServerConfig } from '../config/ServerConfig.js';
import { ZkDatabase } from '../tree/ZkDatabase.js';
import { DataTree } from '../tree/DataTree.js';
import { LOG_PREFIX, SNAPSHOT_PREFIX, listDataFiles, storageDirs } from './FileNames.js';
import { loadNewestValidSnapshot } from './FileSnapshotStore.js';
import { FILE_HEADER_BYTES, FileTxnLog } from './TxnLog.js';
import { isAbnormalEnd, readLogs, type LogFileEnd, type ReadLogsResult } from './TxnLogReader.js';
import { Snapshotter } from './Snapshotter.js';
import { startAutopurge } from './Purge.js';
import { StorageError, consoleLogger, nodeStorageIO, type StorageIO, type StorageLogger } from './StorageIO.js';

export interface RecoveryOptions {
  io?: StorageIO;
  logger?: StorageLogger;
  random?: () => number;
  /** Create missing data directories (zookeeper.datadir.autocreate, default true). */
  autocreate?: boolean;
}

export interface RecoveryReport {
  snapDir: string;
  logDir: string;
  /** Snapshot the tree was loaded from, or null for an empty start. */
  snapshot: string | null;
  snapshotZxid: number;
  replayedTxns: number;
  lastProcessedZxid: number;
  logFiles: LogFileEnd[];
  /** Log files whose damaged or torn tail was cut off, with the offset cut at. */
  truncated: Array<{ path: string; at: number }>;
  /** Log files removed because they held no valid record. */
  removedEmptyLogs: string[];
  /** Ephemeral paths of sessions that no longer exist, deleted after load. */
  orphanEphemerals: string[];
  /** Snapshot written at the end of recovery, if one was needed. */
  startupSnapshot: string | null;
}

export interface Recovered {
  db: ZkDatabase;
  log: FileTxnLog;
  snapshotter: Snapshotter;
  report: RecoveryReport;
}

export { storageDirs };

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

/** Cut the newest log file at the end of its valid data; drop it if nothing in it is valid. */
function repairNewestLog(end: LogFileEnd, report: RecoveryReport, logger: StorageLogger): void {
  if (end.records === 0 && (end.end === 'short-header' || isAbnormalEnd(end.end) || end.validEnd <= FILE_HEADER_BYTES)) {
    // A file created just before a crash: its name would collide with the next log file.
    fs.unlinkSync(end.path);
    report.removedEmptyLogs.push(end.path);
    logger.warn(`removed ${end.path}: no complete record in it`);
    return;
  }
  if (!isAbnormalEnd(end.end)) return;
  fs.truncateSync(end.path, end.validEnd);
  report.truncated.push({ path: end.path, at: end.validEnd });
  logger.warn(`truncated ${end.path} at offset ${end.validEnd} (${end.end}); ${end.fileSize - end.validEnd} bytes of torn tail removed`);
}

export async function recover(config: ServerConfig, opts: RecoveryOptions = {}): Promise<Recovered> {
  const io = opts.io ?? nodeStorageIO;
  const logger = opts.logger ?? consoleLogger;
  const { snapDir, logDir } = storageDirs(config);
  const autocreate = opts.autocreate ?? true;
  prepareDir(config.dataDir, 'dataDir', autocreate);
  prepareDir(snapDir, 'snapshot directory', true);
  if (logDir !== snapDir) {
    prepareDir(config.dataLogDir, 'dataLogDir', autocreate);
    prepareDir(logDir, 'txn log directory', true);
    if (listDataFiles(logDir, SNAPSHOT_PREFIX).length > 0) {
      throw new StorageError(`txn log directory ${logDir} contains snapshot files; dataDir and dataLogDir are swapped or mixed`, logDir, 'EMIXED');
    }
    if (listDataFiles(snapDir, LOG_PREFIX).length > 0) {
      throw new StorageError(`snapshot directory ${snapDir} contains txn log files; dataDir and dataLogDir are swapped or mixed`, snapDir, 'EMIXED');
    }
  }
  for (const name of fs.readdirSync(snapDir)) {
    if (name.startsWith(SNAPSHOT_PREFIX + '.') && name.endsWith('.tmp')) fs.rmSync(path.join(snapDir, name), { force: true });
  }

  const maxFieldBytes = config.juteMaxBuffer * 2;
  const report: RecoveryReport = {
    snapDir, logDir, snapshot: null, snapshotZxid: 0, replayedTxns: 0, lastProcessedZxid: 0,
    logFiles: [], truncated: [], removedEmptyLogs: [], orphanEphemerals: [], startupSnapshot: null,
  };

  const loaded = loadNewestValidSnapshot(snapDir, logger, maxFieldBytes);
  let db: ZkDatabase;
  if (loaded) {
    let tree: DataTree;
    try {
      tree = DataTree.fromSnapshot(loaded.content.acls, loaded.content.nodes);
    } catch (e) {
      throw new StorageError(`${loaded.file.path}: cannot rebuild the tree: ${(e as Error).message}`, loaded.file.path, 'EBADSNAPSHOT');
    }
    db = new ZkDatabase(tree);
    for (const [id, timeout] of loaded.content.sessions) db.sessions.set(id, timeout);
    db.lastProcessedZxid = loaded.file.zxid;
    report.snapshot = loaded.file.path;
    report.snapshotZxid = loaded.file.zxid;
    logger.info(`loaded ${loaded.file.path}: ${loaded.content.nodes.length} nodes, ${loaded.content.sessions.size} sessions`);
  } else {
    db = new ZkDatabase(new DataTree());
    if (listDataFiles(logDir, LOG_PREFIX).length > 0) logger.warn(`no snapshot in ${snapDir}; replaying the txn logs onto an empty tree`);
  }

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
  report.logFiles = logs.files;
  const newest = logs.files[logs.files.length - 1];
  if (newest) repairNewestLog(newest, report, logger);

  report.orphanEphemerals = db.killOrphanEphemerals();
  report.lastProcessedZxid = db.lastProcessedZxid;

  const log = new FileTxnLog({ dir: logDir, preAllocSizeKb: config.preAllocSizeKb, forceSync: config.forceSync, io, logger });
  const snapshotter = new Snapshotter({ snapDir, log, snapCount: config.snapCount, io, logger, random: opts.random });
  // Like ZooKeeperServer.loadData: start from a clean snapshot (snapshot.0 on a new directory),
  // unless the newest snapshot already is exactly this state.
  if (!loaded || report.replayedTxns > 0 || report.orphanEphemerals.length > 0) {
    report.startupSnapshot = await snapshotter.snapshotNow(db);
  }
  // autopurge.purgeInterval > 0: purge now and every interval; stopped by snapshotter.close().
  snapshotter.attachAutopurge(startAutopurge(config, logger));
  logger.info(
    `recovered to zxid 0x${db.lastProcessedZxid.toString(16)} from ${report.snapshot ?? 'an empty tree'} + ${report.replayedTxns} logged txns`,
  );
  return { db, log, snapshotter, report };
}
