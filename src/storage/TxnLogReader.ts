// Reading txn-log files back (FileTxnLog.FileTxnIterator). Where the valid data of a file
// ends follows A2.3, except that nothing at the tail is fatal: a zero-length record (the
// preallocated padding), EOF inside a record, a bad end-of-record byte, an unreasonable
// length or a checksum mismatch all end the file's valid data; the last three with a warning.
import * as fs from 'node:fs';
import type { Txn } from '../protocol/txn.js';
import { decodeTxn } from '../protocol/txn.js';
import { DEFAULT_MAX_BUFFER } from '../protocol/constants.js';
import { adler32 } from './Adler32.js';
import { LOG_PREFIX, listDataFiles, logFilesFrom, type DataFile } from './FileNames.js';
import { END_OF_RECORD, FILE_HEADER_BYTES, RECORD_OVERHEAD, TXNLOG_MAGIC } from './TxnLog.js';
import { StorageError, consoleLogger, type StorageLogger } from './StorageIO.js';

/** How a file's valid data ended. */
export type LogEnd =
  | 'eof' // clean end of file after a whole record
  | 'padding' // zero-length record: preallocated zeros
  | 'short-header' // file shorter than its 16-byte header
  | 'partial' // EOF inside a record
  | 'bad-eor' // end-of-record byte is not 0x42
  | 'bad-length' // negative or over the jute limit
  | 'crc-mismatch';

/** Ends that mean "something was cut or damaged here" rather than "the file is done". */
export function isAbnormalEnd(end: LogEnd): boolean {
  return end !== 'eof' && end !== 'padding';
}

export interface LogRecord {
  txn: Txn;
  /** Byte offset of the record (its crc field) in the file. */
  offset: number;
  /** Offset just past the record's 0x42. */
  endOffset: number;
  crc: number;
  /** False only with yieldBadChecksums, for a record whose stored checksum is wrong. */
  crcOk: boolean;
}

export interface LogFileEnd {
  path: string;
  end: LogEnd;
  /** Offset just past the last valid record (16 for a header-only file). */
  validEnd: number;
  fileSize: number;
  records: number;
  /** Zxid of the last valid record, or -1. */
  lastZxid: number;
}

/** Per-record size limit on read: jute.maxbuffer + the same again as extrasize (A0.1). */
export const DEFAULT_MAX_RECORD_BYTES = DEFAULT_MAX_BUFFER * 2;

const CHUNK_BYTES = 1 << 20;

/** Sequential reads over a file through one reusable window. */
class FileWindow {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private start = 0; // file offset of buf[0]
  private len = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** The n bytes at offset, or null if the file ends first. Valid until the next call. */
  bytes(offset: number, n: number): { buf: Buffer; at: number } | null {
    if (offset + n > this.size) return null;
    if (offset < this.start || offset + n > this.start + this.len) {
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.start = offset;
      this.len = 0;
      const want = Math.min(this.buf.length, this.size - offset);
      while (this.len < want) {
        const got = fs.readSync(this.fd, this.buf, this.len, want - this.len, offset + this.len);
        if (got <= 0) break;
        this.len += got;
      }
      if (this.len < n) return null;
    }
    return { buf: this.buf, at: offset - this.start };
  }
}

export interface ReadLogOptions {
  maxRecordBytes?: number;
  logger?: StorageLogger;
  /** For dump tools: yield records whose checksum is wrong (flagged) instead of stopping there. */
  yieldBadChecksums?: boolean;
}

/**
 * Every valid record of one log file, in order; the generator's return value says how the
 * valid data ended. A bad magic number is the only hard error (the file is not a txn log).
 */
export function* readLogFile(path: string, opts: ReadLogOptions = {}): Generator<LogRecord, LogFileEnd, void> {
  const maxLen = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const logger = opts.logger ?? consoleLogger;
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw StorageError.wrap('open txn log', path, e);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const w = new FileWindow(fd, size);
    const result = (end: LogEnd, validEnd: number, records: number, lastZxid: number): LogFileEnd => ({
      path, end, validEnd, fileSize: size, records, lastZxid,
    });
    const hdr = w.bytes(0, FILE_HEADER_BYTES);
    if (!hdr) {
      logger.warn(`${path}: only ${size} bytes, shorter than the 16-byte file header; treating it as empty`);
      return result('short-header', 0, 0, -1);
    }
    const magic = hdr.buf.readInt32BE(hdr.at);
    if (magic !== TXNLOG_MAGIC) {
      throw new StorageError(`${path}: not a ZooKeeper txn log (magic 0x${(magic >>> 0).toString(16)}, expected 0x5a4b4c47 "ZKLG")`, path, 'EBADMAGIC');
    }
    let off = FILE_HEADER_BYTES;
    let records = 0;
    let lastZxid = -1;
    for (;;) {
      const head = w.bytes(off, 12);
      if (!head) return result(off === size ? 'eof' : 'partial', off, records, lastZxid);
      const crcHi = head.buf.readUInt32BE(head.at);
      const crc = head.buf.readUInt32BE(head.at + 4);
      const len = head.buf.readInt32BE(head.at + 8);
      if (len === 0) return result('padding', off, records, lastZxid);
      if (len < 0 || len > maxLen) {
        logger.warn(`${path}: unreasonable record length ${len} at offset ${off}; valid data ends there`);
        return result('bad-length', off, records, lastZxid);
      }
      const body = w.bytes(off + 12, len + 1);
      if (!body) return result('partial', off, records, lastZxid);
      const eor = body.buf[body.at + len];
      if (eor !== END_OF_RECORD) {
        logger.warn(`${path}: record at offset ${off} has end byte 0x${eor!.toString(16)}, not 0x42 (partial write); valid data ends there`);
        return result('bad-eor', off, records, lastZxid);
      }
      const actual = adler32(body.buf, 1, body.at, body.at + len);
      const crcOk = crcHi === 0 && crc === actual;
      if (!crcOk && !opts.yieldBadChecksums) {
        logger.warn(`${path}: checksum mismatch at offset ${off} (stored 0x${crc.toString(16)}, computed 0x${actual.toString(16)}); valid data ends there`);
        return result('crc-mismatch', off, records, lastZxid);
      }
      let txn: Txn;
      try {
        txn = decodeTxn(Buffer.from(body.buf.subarray(body.at, body.at + len)));
      } catch (e) {
        if (!crcOk) {
          logger.warn(`${path}: checksum mismatch at offset ${off} and the record does not decode; valid data ends there`);
          return result('crc-mismatch', off, records, lastZxid);
        }
        throw new StorageError(`${path}: record at offset ${off} passes its checksum but cannot be decoded: ${(e as Error).message}`, path, 'EBADRECORD');
      }
      const endOffset = off + RECORD_OVERHEAD + len;
      yield { txn, offset: off, endOffset, crc, crcOk };
      records++;
      lastZxid = txn.hdr.zxid;
      off = endOffset;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export interface ReadLogsResult {
  files: LogFileEnd[];
  /** Zxid of the last txn read (skipped ones included), or -1. */
  lastZxid: number;
}

function epochOf(zxid: number): number {
  return Math.floor(zxid / 0x100000000);
}

/**
 * Txns with zxid >= fromZxid across every log file in logDir, ascending (FileTxnIterator).
 * When a file's data ended abnormally and a later file goes on with a gap inside the same
 * epoch, acknowledged txns would be silently missing: that is refused with an error naming
 * the file, rather than replaying around the hole.
 */
export function* readLogs(
  logDir: string,
  fromZxid: number,
  opts: ReadLogOptions = {},
  out: ReadLogsResult = { files: [], lastZxid: -1 },
): Generator<Txn, ReadLogsResult, void> {
  const files: DataFile[] = logFilesFrom(listDataFiles(logDir, LOG_PREFIX), fromZxid);
  let damaged: LogFileEnd | null = null;
  for (const f of files) {
    const it = readLogFile(f.path, opts);
    for (;;) {
      const r = it.next();
      if (r.done) {
        out.files.push(r.value);
        if (isAbnormalEnd(r.value.end)) damaged = r.value;
        break;
      }
      const z = r.value.txn.hdr.zxid;
      if (damaged && epochOf(z) === epochOf(out.lastZxid)) {
        const expected = Math.max(out.lastZxid, fromZxid - 1) + 1;
        if (z > expected) {
          throw new StorageError(
            `${damaged.path}: valid data ends at offset ${damaged.validEnd} (${damaged.end}) but ${f.path} continues at zxid 0x${z.toString(16)}; ` +
              `txns 0x${expected.toString(16)}..0x${(z - 1).toString(16)} are missing, refusing to replay around the gap`,
            damaged.path,
            'EGAP',
          );
        }
      }
      damaged = null;
      out.lastZxid = z;
      if (z >= fromZxid) yield r.value.txn;
    }
  }
  return out;
}
