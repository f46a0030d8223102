// Cutting the txn log back to a zxid: what a learner does on TRUNC (FileTxnLog.truncate). Every
// txn after the zxid goes: the file holding the zxid is cut right after its record, later files
// are deleted. Unlike Apache, a zxid that falls in a gap (or before the first txn) keeps nothing
// after it; Apache would keep the first txn past the gap.
import { LOG_PREFIX, listDataFilesAsync } from './FileNames.js';
import { FILE_HEADER_BYTES } from './TxnLogFormat.js';
import { readLogFileEnd } from './TxnLogReader.js';
import { StorageError, consoleLogger, nodeStorageIO, type StorageIO, type StorageLogger } from './StorageIO.js';

export interface TruncateLogOptions {
  io?: StorageIO;
  logger?: StorageLogger;
  maxRecordBytes?: number;
  /** fsync the cut file and the directory (forceSync); on by default. */
  sync?: boolean;
}

export interface TruncateLogResult {
  /** The file that was cut and the offset it now ends at, if one was. */
  cut: { path: string; at: number } | null;
  /** Files deleted because every txn in them was after the zxid. */
  deleted: string[];
  /** Zxid of the last txn left in the log, or -1 if none is left. */
  lastZxid: number;
}

/**
 * Remove every txn with zxid > `zxid` from the log files in logDir. Later files go first,
 * newest first, so a crash part-way leaves a log that is still a prefix of what it was.
 * A directory without log files is an error, as in Apache: the caller expected txns there.
 */
export async function truncateLog(logDir: string, zxid: number, opts: TruncateLogOptions = {}): Promise<TruncateLogResult> {
  const io = opts.io ?? nodeStorageIO;
  const logger = opts.logger ?? consoleLogger;
  const sync = opts.sync ?? true;
  const files = await listDataFilesAsync(logDir, LOG_PREFIX);
  if (files.length === 0) {
    throw new StorageError(
      `no txn log files in ${logDir} to truncate to zxid 0x${zxid.toString(16)} (old snapshots left from another setup, deleted logs, or a changed dataLogDir?)`,
      logDir,
      'ENOLOG',
    );
  }
  const later = files.filter((f) => f.zxid > zxid);
  const holder = files.filter((f) => f.zxid <= zxid).pop();
  const result: TruncateLogResult = { cut: null, deleted: [], lastZxid: -1 };

  for (const f of later.reverse()) {
    await io.remove(f.path);
    result.deleted.push(f.path);
  }
  if (holder) {
    let cutAt = FILE_HEADER_BYTES;
    let fileSize = Infinity;
    const end = await readLogFileEnd(holder.path, { logger, maxRecordBytes: opts.maxRecordBytes }, (r) => {
      if (r.txn.hdr.zxid > zxid) return false;
      cutAt = r.endOffset;
      result.lastZxid = r.txn.hdr.zxid;
    });
    if (end) {
      // Nothing after the zxid in this file: only padding or a torn tail can go.
      fileSize = end.fileSize;
      if (end.end === 'short-header') cutAt = 0;
    }
    if (fileSize > cutAt) {
      await io.truncate(holder.path, cutAt, sync);
      result.cut = { path: holder.path, at: cutAt };
    }
    if (result.lastZxid < 0) {
      // Only earlier files can hold what is left (a damaged holder kept nothing).
      for (const f of files.filter((x) => x.zxid < holder.zxid).reverse()) {
        const prev = (await readLogFileEnd(f.path, { logger, maxRecordBytes: opts.maxRecordBytes }))!;
        if (prev.lastZxid >= 0) {
          result.lastZxid = prev.lastZxid;
          break;
        }
      }
    }
  }
  if (sync && (result.deleted.length > 0 || result.cut)) await io.syncDir(logDir);
  const what = [
    result.cut ? `cut ${result.cut.path} at offset ${result.cut.at}` : null,
    result.deleted.length ? `deleted ${result.deleted.length} later file(s)` : null,
  ].filter(Boolean);
  logger.info(`truncated the txn log in ${logDir} to zxid 0x${zxid.toString(16)}: ${what.length ? what.join(', ') : 'nothing after it'}`);
  return result;
}
