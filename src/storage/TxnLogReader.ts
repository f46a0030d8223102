// Reading txn-log files back (FileTxnLog.FileTxnIterator). Where the valid data of a file
// ends follows ZooKeeper's FileTxnIterator, except that nothing at the tail is fatal: a zero-length record (the
// preallocated padding), EOF inside a record, a bad end-of-record byte, an unreasonable
// length or a checksum mismatch all end the file's valid data; the last three with a warning.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { Txn } from '../protocol/txn.js';
import { decodeTxn } from '../protocol/txn.js';
import { DEFAULT_MAX_BUFFER } from '../protocol/constants.js';
import { adler32 } from './Adler32.js';
import { LOG_PREFIX, listDataFiles, listDataFilesAsync, logFilesFrom, type DataFile } from './FileNames.js';
import { END_OF_RECORD, FILE_HEADER_BYTES, RECORD_OVERHEAD, TXNLOG_MAGIC } from './TxnLogFormat.js';
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

/** Per-record size limit on read: jute.maxbuffer + the same again as extrasize. */
export const DEFAULT_MAX_RECORD_BYTES = DEFAULT_MAX_BUFFER * 2;

const CHUNK_BYTES = 1 << 20;
/** The async reader uses smaller reads: each one is a point where other work can run. */
const ASYNC_CHUNK_BYTES = 256 << 10;
/** The async readers also step aside after this many records, whatever the I/O did. */
const RECORDS_PER_SLICE = 2000;

/** n bytes the parser needs, at a file offset; answered with a view or null (file ends first). */
interface Want {
  offset: number;
  n: number;
}
interface Bytes {
  buf: Buffer;
  at: number;
}
type ParseStep = { want: Want; record?: undefined } | { record: LogRecord; want?: undefined };

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
  bytes(offset: number, n: number): Bytes | null {
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

/** FileWindow over fs.promises: every refill is an await, so a long file never holds the event loop. */
class AsyncFileWindow {
  private buf = Buffer.allocUnsafe(ASYNC_CHUNK_BYTES);
  private start = 0;
  private len = 0;

  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}

  /** The bytes if they are already in the window (or past the end: null); undefined if a read is needed. */
  peek(offset: number, n: number): Bytes | null | undefined {
    if (offset + n > this.size) return null;
    if (offset < this.start || offset + n > this.start + this.len) return undefined;
    return { buf: this.buf, at: offset - this.start };
  }

  async bytes(offset: number, n: number): Promise<Bytes | null> {
    if (offset + n > this.size) return null;
    if (offset < this.start || offset + n > this.start + this.len) {
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
      this.start = offset;
      this.len = 0;
      const want = Math.min(this.buf.length, this.size - offset);
      while (this.len < want) {
        const { bytesRead } = await this.fh.read(this.buf, this.len, want - this.len, offset + this.len);
        if (bytesRead <= 0) break;
        this.len += bytesRead;
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
 * The record format and end-of-data rules, apart from how bytes are fetched: it asks for bytes
 * by yielding `{want}` and hands out `{record}`s, so the sync and async readers share it.
 */
function* parseLogFile(path: string, size: number, opts: ReadLogOptions): Generator<ParseStep, LogFileEnd, Bytes | null | undefined> {
  const maxLen = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const logger = opts.logger ?? consoleLogger;
  const result = (end: LogEnd, validEnd: number, records: number, lastZxid: number): LogFileEnd => ({
    path, end, validEnd, fileSize: size, records, lastZxid,
  });
  const hdr = yield { want: { offset: 0, n: FILE_HEADER_BYTES } };
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
    const head = yield { want: { offset: off, n: 12 } };
    if (!head) return result(off === size ? 'eof' : 'partial', off, records, lastZxid);
    const crcHi = head.buf.readUInt32BE(head.at);
    const crc = head.buf.readUInt32BE(head.at + 4);
    const len = head.buf.readInt32BE(head.at + 8);
    if (len === 0) return result('padding', off, records, lastZxid);
    if (len < 0 || len > maxLen) {
      logger.warn(`${path}: unreasonable record length ${len} at offset ${off}; valid data ends there`);
      return result('bad-length', off, records, lastZxid);
    }
    const body = yield { want: { offset: off + 12, n: len + 1 } };
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
    yield { record: { txn, offset: off, endOffset, crc, crcOk } };
    records++;
    lastZxid = txn.hdr.zxid;
    off = endOffset;
  }
}

/**
 * Every valid record of one log file, in order; the generator's return value says how the
 * valid data ended. A bad magic number is the only hard error (the file is not a txn log).
 * Synchronous: for startup and the dump tools; see readLogFileAsync for the serving path.
 */
export function* readLogFile(path: string, opts: ReadLogOptions = {}): Generator<LogRecord, LogFileEnd, void> {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw StorageError.wrap('open txn log', path, e);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const w = new FileWindow(fd, size);
    const parser = parseLogFile(path, size, opts);
    let input: Bytes | null | undefined;
    for (;;) {
      const step = parser.next(input);
      if (step.done) return step.value;
      if (step.value.want) {
        input = w.bytes(step.value.want.offset, step.value.want.n);
      } else {
        input = undefined;
        yield step.value.record;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The records of one log file over fs.promises, in batches: every record already in memory
 * goes out in one array before the next read from disk, so the per-record cost stays that of
 * the synchronous reader while the event loop gets a turn at every read (and every
 * RECORDS_PER_SLICE records). Safe while serving.
 */
export async function* readLogBatches(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogRecord[], LogFileEnd, void> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch (e) {
    throw StorageError.wrap('open txn log', path, e);
  }
  try {
    const size = (await fh.stat()).size;
    const w = new AsyncFileWindow(fh, size);
    const parser = parseLogFile(path, size, opts);
    let input: Bytes | null | undefined;
    let batch: LogRecord[] = [];
    for (;;) {
      const step = parser.next(input);
      if (step.done) {
        if (batch.length > 0) yield batch;
        return step.value;
      }
      if (step.value.want) {
        const { offset, n } = step.value.want;
        input = w.peek(offset, n);
        if (input === undefined) {
          if (batch.length > 0) {
            yield batch;
            batch = [];
          }
          input = await w.bytes(offset, n);
        }
      } else {
        input = undefined;
        batch.push(step.value.record);
        if (batch.length >= RECORDS_PER_SLICE) {
          yield batch;
          batch = [];
          await yieldToEventLoop();
        }
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Reads a whole file with readLogBatches; returns how its valid data ended. */
export async function readLogFileEnd(path: string, opts: ReadLogOptions = {}, each?: (r: LogRecord) => boolean | void): Promise<LogFileEnd | null> {
  const it = readLogBatches(path, opts);
  try {
    for (let r = await it.next(); ; r = await it.next()) {
      if (r.done) return r.value;
      if (each) for (const rec of r.value) if (each(rec) === false) return null;
    }
  } finally {
    await it.return(undefined as never);
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
 * Follows the txns of consecutive files. When a file's data ended abnormally and a later file
 * goes on with a gap inside the same epoch, acknowledged txns would be silently missing: that
 * is refused with an error naming the file, rather than replaying around the hole.
 */
class LogSequence {
  private damaged: LogFileEnd | null = null;

  constructor(
    private readonly fromZxid: number,
    readonly out: ReadLogsResult,
  ) {}

  fileEnded(end: LogFileEnd): void {
    this.out.files.push(end);
    if (isAbnormalEnd(end.end)) this.damaged = end;
  }

  /** Call for every record in order; throws on a gap after damage. */
  next(z: number, file: string): void {
    const damaged = this.damaged;
    if (damaged && epochOf(z) === epochOf(this.out.lastZxid)) {
      const expected = Math.max(this.out.lastZxid, this.fromZxid - 1) + 1;
      if (z > expected) {
        throw new StorageError(
          `${damaged.path}: valid data ends at offset ${damaged.validEnd} (${damaged.end}) but ${file} continues at zxid 0x${z.toString(16)}; ` +
            `txns 0x${expected.toString(16)}..0x${(z - 1).toString(16)} are missing, refusing to replay around the gap`,
          damaged.path,
          'EGAP',
        );
      }
    }
    this.damaged = null;
    this.out.lastZxid = z;
  }
}

/** Txns with zxid >= fromZxid across every log file in logDir, ascending (FileTxnIterator). */
export function* readLogs(
  logDir: string,
  fromZxid: number,
  opts: ReadLogOptions = {},
  out: ReadLogsResult = { files: [], lastZxid: -1 },
): Generator<Txn, ReadLogsResult, void> {
  const files: DataFile[] = logFilesFrom(listDataFiles(logDir, LOG_PREFIX), fromZxid);
  const seq = new LogSequence(fromZxid, out);
  for (const f of files) {
    const it = readLogFile(f.path, opts);
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) {
        seq.fileEnded(r.value);
        break;
      }
      const z = r.value.txn.hdr.zxid;
      seq.next(z, f.path);
      if (z >= fromZxid) yield r.value.txn;
    }
  }
  return out;
}

export interface ReadAfterOptions extends ReadLogOptions {
  /**
   * Refuse (StorageError code ENOTCOVERED) unless the log provably holds every txn after
   * `zxid`: it must reach back to `zxid` itself, or start right at zxid + 1 in the same epoch.
   * The leader needs that before it answers a learner with a DIFF from the log (Apache's
   * ZKDatabase.getProposalsFromTxnLog makes the same check).
   */
  mustCover?: boolean;
  /** Stop after the txn with this zxid: a reader of a live log stays within what is durable. */
  untilZxid?: number;
}

/**
 * Txns with zxid > `zxid` across the log files of logDir, ascending, read with fs.promises in
 * chunks and yielding to the event loop, so a leader can stream a DIFF while it serves. The same
 * gap rules as readLogs apply. The return value lists the files read and the last zxid seen.
 */
export async function* readTxnsAfter(
  logDir: string,
  zxid: number,
  opts: ReadAfterOptions = {},
): AsyncGenerator<Txn, ReadLogsResult, void> {
  const out: ReadLogsResult = { files: [], lastZxid: -1 };
  const files = logFilesFrom(await listDataFilesAsync(logDir, LOG_PREFIX), zxid);
  const seq = new LogSequence(zxid + 1, out);
  let first = true;
  const until = opts.untilZxid ?? Infinity;
  for (const f of files) {
    const it = readLogBatches(f.path, opts);
    try {
      for (let r = await it.next(); ; r = await it.next()) {
        if (r.done) {
          seq.fileEnded(r.value);
          break;
        }
        for (const rec of r.value) {
          const z = rec.txn.hdr.zxid;
          if (first && opts.mustCover && z > zxid && !(z === zxid + 1 && epochOf(z) === epochOf(zxid))) {
            throw new StorageError(
              `the txn log in ${logDir} starts at zxid 0x${z.toString(16)}: txns after 0x${zxid.toString(16)} are not all there`,
              logDir,
              'ENOTCOVERED',
            );
          }
          first = false;
          seq.next(z, f.path);
          if (z > zxid) yield rec.txn;
          if (z >= until) return out;
        }
      }
    } finally {
      await it.return(undefined as never);
    }
  }
  return out;
}

/**
 * Zxid of the last valid txn in logDir, or -1 if there is none (FileTxnLog.getLastLoggedZxid,
 * except that a newest file without a valid record defers to the one before it).
 */
export async function getLastLoggedZxid(logDir: string, opts: ReadLogOptions = {}): Promise<number> {
  const files = await listDataFilesAsync(logDir, LOG_PREFIX);
  for (let i = files.length - 1; i >= 0; i--) {
    const end = (await readLogFileEnd(files[i]!.path, opts))!;
    if (end.lastZxid >= 0) return end.lastZxid;
  }
  return -1;
}
