// The transaction log: ZooKeeper 3.8's `log.<hex zxid>` files (FileTxnLog), written with
// group commit. Layout per file: FileHeader {magic "ZKLG", version 2, dbid 0}, then records
// {crc: long = Adler-32 of the payload, len: int, payload = TxnHeader+record(+TxnDigest), 0x42},
// then zero padding up to the preallocated size.
import * as path from 'node:path';
import type { Txn } from '../protocol/txn.js';
import { writeTxnCached } from '../protocol/txn.js';
import { Writer } from '../jute/archive.js';
import { TxnRing, pushTxn, txnAt } from '../protocol/TxnRing.js';
import { adler32 } from './Adler32.js';
import { logFileName } from './FileNames.js';
import { truncateLog } from './LogTruncation.js';
import { getLastLoggedZxid as scanLastLoggedZxid, readTxnsAfter as readLogTxnsAfter } from './TxnLogReader.js';
import { nodeStorageIO, StorageError, type StorageFile, type StorageIO, type StorageLogger, consoleLogger } from './StorageIO.js';

import { END_OF_RECORD, FILE_HEADER_BYTES, TXNLOG_MAGIC, TXNLOG_VERSION } from './TxnLogFormat.js';

export { END_OF_RECORD, FILE_HEADER_BYTES, RECORD_OVERHEAD, TXNLOG_MAGIC, TXNLOG_VERSION } from './TxnLogFormat.js';
/** ZooKeeper extends the file when fewer than this many bytes remain before the allocated end. */
const PAD_SLACK_BYTES = 4096;
const FSYNC_WARN_MS = 1000;

/**
 * The transaction log as the server and the quorum code see it (Apache's TxnLog). FileTxnLog
 * writes ZooKeeper's files; MemoryTxnLog is its in-memory twin for tests (the simulation's SimTxnLog adds crash loss);
 * NullTxnLog keeps nothing. Concurrency contract (all three): one writer; calls may overlap
 * freely except truncate, which must not race appends (see there).
 */
export interface TxnLog {
  /**
   * Durably append txns (in zxid order). Resolves after they are fsynced (or written, if
   * forceSync=false). Group commit: appends arriving while an fsync is in flight are gathered
   * into the next batch and fsynced together. Promises resolve in call order. On any I/O
   * error (ENOSPC, EROFS, EIO, fsync failure) the promise rejects with an Error naming the
   * file and errno, and the log refuses further appends (rejects) so nothing unpersisted is
   * ever acknowledged.
   */
  append(txns: Txn[]): Promise<void>;
  /** Start a new log file at the next append (called when a snapshot is taken). */
  roll(): void;
  /**
   * Remove every logged txn with zxid > `zxid` (a learner's TRUNC). Appends already issued
   * complete first; appends issued while it runs are rejected; the next append after it
   * starts a new file.
   */
  truncate(zxid: number): Promise<void>;
  /**
   * The durable txns with zxid > `zxid`, ascending, without holding the event loop (a
   * leader's DIFF). With mustCover, fails (code ENOTCOVERED) unless the log provably holds
   * every txn after `zxid`. Appends made while iterating may or may not be included.
   */
  readTxnsAfter(zxid: number, opts?: { mustCover?: boolean }): AsyncIterable<Txn>;
  /** Zxid of the last durable txn, or -1 if the log holds none. */
  getLastLoggedZxid(): Promise<number>;
  close(): Promise<void>;
}

export interface TxnLogStats {
  /** Txns durably appended. */
  txns: number;
  /** Write+fsync rounds (one per group-commit batch). */
  batches: number;
  fsyncs: number;
  fsyncsOverThreshold: number;
  lastFsyncMs: number;
  maxFsyncMs: number;
  filesCreated: number;
}

/**
 * Log records for txns, back to back in one buffer (checksum, length, txn, 'B' each):
 * encoded in place, so a batch costs one allocation rather than several copies per txn.
 */
export function encodeLogRecords(txns: Txn[]): Buffer {
  const w = new Writer(256 * txns.length);
  for (const txn of txns) {
    const start = w.pos;
    w.longNum(0).int(0);
    writeTxnCached(w, txn);
    const len = w.pos - start - 12;
    w.buf.writeUInt32BE(adler32(w.buf, 1, start + 12, w.pos), start + 4);
    w.buf.writeInt32BE(len, start + 8);
    w.byte(END_OF_RECORD);
  }
  return w.view();
}

/** The 13+len bytes of one log record for a txn. */
export function encodeLogRecord(txn: Txn): Buffer {
  return encodeLogRecords([txn]);
}

export function encodeLogFileHeader(): Buffer {
  const h = Buffer.alloc(FILE_HEADER_BYTES);
  h.writeInt32BE(TXNLOG_MAGIC, 0);
  h.writeInt32BE(TXNLOG_VERSION, 4);
  // dbid (bytes 8..15) is always 0.
  return h;
}

/** New allocated size when a write would come within PAD_SLACK_BYTES of the end (FilePadding). */
export function paddedSize(position: number, currentSize: number, preAllocBytes: number): number {
  if (preAllocBytes <= 0 || position + PAD_SLACK_BYTES < currentSize) return currentSize;
  if (position > currentSize) return Math.floor((position + preAllocBytes) / preAllocBytes) * preAllocBytes;
  return currentSize + preAllocBytes;
}

interface PendingAppend {
  record: Buffer | null;
  txns: Txn[];
  firstZxid: number;
  lastZxid: number;
  txnCount: number;
  rollBefore: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

interface OpenLog {
  file: StorageFile;
  /** Next write offset. */
  pos: number;
  /** Allocated (padded) size. */
  size: number;
  /** Written since the last fsync. */
  dirty: boolean;
}

export interface FileTxnLogOptions {
  /** The `<dataLogDir>/version-2` directory. */
  dir: string;
  preAllocSizeKb: number;
  forceSync: boolean;
  io?: StorageIO;
  logger?: StorageLogger;
  /** The last zxid already in the directory, if the caller knows it (saves a scan). */
  lastLoggedZxid?: number;
  /** Per-record size limit when reading back (jute.maxbuffer + extrasize). */
  maxRecordBytes?: number;
}

const ZERO_BYTE = Buffer.alloc(1);
/** Bounds of the in-memory copy of the newest durable txns (see readTxnsAfter). */
const RECENT_MAX_TXNS = 1000;
const RECENT_MAX_BYTES = 8 * 1024 * 1024;

export class FileTxnLog implements TxnLog {
  readonly stats: TxnLogStats = { txns: 0, batches: 0, fsyncs: 0, fsyncsOverThreshold: 0, lastFsyncMs: 0, maxFsyncMs: 0, filesCreated: 0 };
  /** Told the duration of every fsync (the server's fsynctime metric). */
  onFsync: ((ms: number) => void) | null = null;
  private readonly io: StorageIO;
  private readonly logger: StorageLogger;
  private readonly preAllocBytes: number;
  private queue: PendingAppend[] = [];
  private flushing = false;
  private drained: Array<() => void> = [];
  private failure: Error | null = null;
  private closed = false;
  private current: OpenLog | null = null;
  /** The writer never appends to a file that existed before it started: first append opens one. */
  private rollRequested = true;
  private truncating = false;
  /** Last durable zxid; null until known (a scan of the directory finds it on demand). */
  private lastLogged: number | null;
  /**
   * The newest txns this writer made durable, in append order: every txn it appended after
   * the oldest held, nothing truncated since. A member that loses its leader replays the txns it
   * logged past what it applied before it votes; reading them back from the file meant parsing the
   * whole current log file (50-130 ms under load, all of it in the fail-over time). Held encoded
   * (see TxnRing) and decoded only when a replay reads them; the byte bound counts the txns' bytes.
   */
  private readonly recent = new TxnRing({ maxCount: RECENT_MAX_TXNS, maxBytes: RECENT_MAX_BYTES });

  constructor(private readonly opts: FileTxnLogOptions) {
    this.io = opts.io ?? nodeStorageIO;
    this.logger = opts.logger ?? consoleLogger;
    this.preAllocBytes = opts.preAllocSizeKb > 0 ? opts.preAllocSizeKb * 1024 : 0;
    this.lastLogged = opts.lastLoggedZxid ?? null;
  }

  /** Set once an I/O error happened; every later append rejects with it. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Path of the file receiving appends, if one is open. */
  get currentFile(): string | null {
    return this.current?.file.path ?? null;
  }

  append(txns: Txn[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new StorageError(`txn log ${this.opts.dir} is closed`, this.opts.dir, undefined));
    if (this.truncating) return Promise.reject(new StorageError(`txn log ${this.opts.dir} is being truncated`, this.opts.dir, 'EBUSY'));
    let record: Buffer | null = null;
    if (txns.length > 0) record = encodeLogRecords(txns);
    return new Promise<void>((resolve, reject) => {
      const rollBefore = record !== null && this.rollRequested;
      if (rollBefore) this.rollRequested = false;
      const firstZxid = txns[0]?.hdr.zxid ?? 0;
      const lastZxid = txns[txns.length - 1]?.hdr.zxid ?? -1;
      this.queue.push({ record, txns, firstZxid, lastZxid, txnCount: txns.length, rollBefore, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Start on a microtask so appends made in the same tick share the first batch.
        queueMicrotask(() => void this.flushLoop());
      }
    });
  }

  roll(): void {
    this.rollRequested = true;
  }

  private async idle(): Promise<void> {
    if (this.flushing) await new Promise<void>((r) => this.drained.push(r));
  }

  async truncate(zxid: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new StorageError(`txn log ${this.opts.dir} is closed`, this.opts.dir, undefined);
    this.truncating = true;
    try {
      await this.idle();
      if (this.failure) throw this.failure;
      const cur = this.current;
      this.current = null;
      this.rollRequested = true;
      this.forgetRecent();
      if (cur) await cur.file.close();
      const res = await truncateLog(this.opts.dir, zxid, {
        io: this.io, logger: this.logger, sync: this.opts.forceSync, maxRecordBytes: this.opts.maxRecordBytes,
      });
      this.lastLogged = res.lastZxid;
    } catch (e) {
      // Half a truncation must not be followed by appends: stop here unless nothing was touched.
      if ((e as StorageError).code !== 'ENOLOG') this.fail(StorageError.wrap('truncate txn log', this.opts.dir, e), []);
      throw e;
    } finally {
      this.truncating = false;
    }
  }

  async getLastLoggedZxid(): Promise<number> {
    if (this.lastLogged === null) {
      await this.idle();
      if (this.lastLogged === null) {
        this.lastLogged = await scanLastLoggedZxid(this.opts.dir, { logger: this.logger, maxRecordBytes: this.opts.maxRecordBytes });
      }
    }
    return this.lastLogged;
  }

  async *readTxnsAfter(zxid: number, opts: { mustCover?: boolean } = {}): AsyncGenerator<Txn, void, void> {
    // Read only what is durable: the record being written after it may be half there.
    const until = await this.getLastLoggedZxid();
    if (until <= zxid) return;
    // Everything after `zxid` is among the newest txns kept in memory: no need to parse the files.
    if (this.recent.size > 0 && this.recent.minZxid <= zxid) {
      // Decoded before the first yield: appends while the caller iterates must not change what it gets.
      const out: Txn[] = [];
      for (let i = this.recent.firstAbove(zxid); i < this.recent.size && this.recent.zxidAt(i) <= until; i++) out.push(txnAt(this.recent, i));
      yield* out;
      return;
    }
    yield* readLogTxnsAfter(this.opts.dir, zxid, {
      logger: this.logger, maxRecordBytes: this.opts.maxRecordBytes, mustCover: opts.mustCover, untilZxid: until,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    const cur = this.current;
    this.current = null;
    if (cur) {
      try {
        await cur.file.close();
      } catch (e) {
        if (!this.failure) throw e;
      }
    }
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.commit(batch);
      } catch (e) {
        this.fail(StorageError.wrap('append to txn log', this.current?.file.path ?? this.opts.dir, e), batch);
        break;
      }
      for (const p of batch) if (p.record) this.remember(p.txns);
      for (const p of batch) p.resolve();
    }
    if (this.failure) this.fail(this.failure, []);
    this.flushing = false;
    const waiters = this.drained;
    this.drained = [];
    for (const w of waiters) w();
  }

  private remember(txns: Txn[]): void {
    for (const t of txns) pushTxn(this.recent, t);
  }

  private forgetRecent(): void {
    this.recent.clear();
  }

  private fail(err: Error, batch: PendingAppend[]): void {
    if (!this.failure) {
      this.failure = err;
      this.logger.warn(`txn log stopped accepting writes: ${err.message}`);
    }
    const rest = this.queue;
    this.queue = [];
    for (const p of batch) p.reject(err);
    for (const p of rest) p.reject(err);
  }

  /** Write one batch, rolling files where asked, then fsync every file touched (FileTxnLog.commit). */
  private async commit(batch: PendingAppend[]): Promise<void> {
    const retired: OpenLog[] = [];
    let chunks: Buffer[] = [];
    let bytes = 0;
    let txns = 0;
    let lastZxid = -1;
    for (const p of batch) {
      if (!p.record) continue;
      lastZxid = p.lastZxid;
      if (p.rollBefore || !this.current) {
        if (chunks.length) await this.writeChunks(chunks, bytes);
        chunks = [];
        bytes = 0;
        if (this.current) retired.push(this.current);
        this.current = null;
        this.current = await this.openNew(p.firstZxid);
      }
      chunks.push(p.record);
      bytes += p.record.length;
      txns += p.txnCount;
    }
    if (chunks.length) await this.writeChunks(chunks, bytes);
    for (const f of retired) await this.sync(f);
    if (this.current) await this.sync(this.current);
    for (const f of retired) await f.file.close();
    if (lastZxid >= 0) this.lastLogged = lastZxid;
    this.stats.batches++;
    this.stats.txns += txns;
  }

  private async sync(f: OpenLog): Promise<void> {
    if (!f.dirty) return;
    if (this.opts.forceSync) {
      const t0 = performance.now();
      await f.file.datasync();
      const ms = performance.now() - t0;
      this.stats.fsyncs++;
      this.stats.lastFsyncMs = ms;
      this.onFsync?.(ms);
      if (ms > this.stats.maxFsyncMs) this.stats.maxFsyncMs = ms;
      if (ms > FSYNC_WARN_MS) {
        this.stats.fsyncsOverThreshold++;
        this.logger.warn(`fsync of ${f.file.path} took ${Math.round(ms)} ms, over the ${FSYNC_WARN_MS} ms warning threshold`);
      }
    }
    f.dirty = false;
  }

  private async openNew(firstZxid: number): Promise<OpenLog> {
    const p = path.join(this.opts.dir, logFileName(firstZxid));
    const file = await this.io.createExclusive(p);
    const log: OpenLog = { file, pos: 0, size: 0, dirty: true };
    try {
      await file.write(encodeLogFileHeader(), 0);
      log.pos = log.size = FILE_HEADER_BYTES;
      // The new name must survive a crash as surely as the records in it.
      if (this.opts.forceSync) await this.io.syncDir(this.opts.dir);
    } catch (e) {
      await file.close().catch(() => undefined);
      throw e;
    }
    this.stats.filesCreated++;
    return log;
  }

  private async writeChunks(chunks: Buffer[], bytes: number): Promise<void> {
    const cur = this.current!;
    // Checked at the write position like FilePadding; a batch may run past the padded end,
    // the next check then pads from wherever the file reached.
    const newSize = paddedSize(cur.pos, cur.size, this.preAllocBytes);
    if (newSize > cur.size) {
      // One zero byte at the new end makes the file that long; the gap reads back as zeros.
      await cur.file.write(ZERO_BYTE, newSize - 1);
      cur.size = newSize;
    }
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
    await cur.file.write(buf, cur.pos);
    cur.pos += bytes;
    if (cur.pos > cur.size) cur.size = cur.pos;
    cur.dirty = true;
  }
}
