// The file operations storage performs, behind a small seam so tests can count fsyncs and
// inject ENOSPC/EIO without a real full disk. Every failure becomes a StorageError that
// names the file, the operation and the errno.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

export class StorageError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'StorageError';
  }

  static wrap(op: string, path: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const e = err as NodeJS.ErrnoException;
    const code = e?.code;
    return new StorageError(`${op} ${path} failed: ${code ?? 'error'} (${e?.message ?? String(err)})`, path, code);
  }
}

/** An open file written with positional writes. */
export interface StorageFile {
  readonly path: string;
  /** Write all of buf at position (short writes are retried until done). */
  write(buf: Buffer, position: number): Promise<void>;
  /** fdatasync: data and the metadata needed to read it back (size) reach the disk. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageIO {
  /** Create a new file; fails if it already exists (the log never reopens an old file). */
  createExclusive(path: string): Promise<StorageFile>;
  /** Create or truncate (snapshot temporaries). */
  createTruncate(path: string): Promise<StorageFile>;
  rename(from: string, to: string): Promise<void>;
  /** fsync a directory so a created or renamed entry survives a power loss. */
  syncDir(path: string): Promise<void>;
  /** Cut an existing file to `length` bytes; with `sync`, fsync it before resolving. */
  truncate(path: string, length: number, sync: boolean): Promise<void>;
  /** Delete a file; a file already gone is not an error. */
  remove(path: string): Promise<void>;
}

class NodeFile implements StorageFile {
  constructor(
    readonly path: string,
    private readonly fh: fsp.FileHandle,
  ) {}

  async write(buf: Buffer, position: number): Promise<void> {
    let off = 0;
    try {
      while (off < buf.length) {
        const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, position + off);
        if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        off += bytesWritten;
      }
    } catch (e) {
      throw StorageError.wrap('write', this.path, e);
    }
  }

  async datasync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (e) {
      throw StorageError.wrap('fsync', this.path, e);
    }
  }

  async close(): Promise<void> {
    try {
      await this.fh.close();
    } catch (e) {
      throw StorageError.wrap('close', this.path, e);
    }
  }
}

export const nodeStorageIO: StorageIO = {
  async createExclusive(path) {
    try {
      return new NodeFile(path, await fsp.open(path, 'wx', 0o644));
    } catch (e) {
      throw StorageError.wrap('create', path, e);
    }
  },
  async createTruncate(path) {
    try {
      return new NodeFile(path, await fsp.open(path, 'w', 0o644));
    } catch (e) {
      throw StorageError.wrap('create', path, e);
    }
  },
  async rename(from, to) {
    try {
      await fsp.rename(from, to);
    } catch (e) {
      throw StorageError.wrap(`rename to ${to}:`, from, e);
    }
  },
  async syncDir(path) {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      await fh.sync();
    } catch (e) {
      throw StorageError.wrap('fsync directory', path, e);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  },
  async truncate(path, length, sync) {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(path, 'r+');
      await fh.truncate(length);
      if (sync) await fh.datasync();
    } catch (e) {
      throw StorageError.wrap(`truncate to ${length} bytes`, path, e);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  },
  async remove(path) {
    try {
      await fsp.rm(path, { force: true });
    } catch (e) {
      throw StorageError.wrap('delete', path, e);
    }
  },
};

/** Where storage reports what it tolerated (torn tails, skipped snapshots). */
export type StorageLogger = { warn(msg: string): void; info(msg: string): void };
export const consoleLogger: StorageLogger = {
  warn: (m) => console.warn(`[storage] WARN ${m}`),
  info: (m) => console.info(`[storage] ${m}`),
};
