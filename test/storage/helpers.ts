// Shared fixtures for storage tests: temp dirs, the recorded ZooKeeper data directory,
// txn builders, a logger that records, and a StorageIO that counts and fails on demand.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn, TxnBody } from '../../src/protocol/txn.js';
import { StorageError, nodeStorageIO, type StorageFile, type StorageIO, type StorageLogger } from '../../src/storage/StorageIO.js';

export const VECTOR_DIR = '/work/shared/vectors/disk';
export const VECTOR_DATA = path.join(VECTOR_DIR, 'data', 'version-2');

export function tmpDir(tag = 'zk-storage-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), tag));
}

/** A writable copy of the recorded data directory; returns the dataDir (holding version-2). */
export function copyVectorDataDir(): string {
  const dataDir = tmpDir('zk-vectors-');
  const v2 = path.join(dataDir, 'version-2');
  fs.mkdirSync(v2);
  for (const f of fs.readdirSync(VECTOR_DATA)) {
    fs.copyFileSync(path.join(VECTOR_DATA, f), path.join(v2, f));
    fs.chmodSync(path.join(v2, f), 0o644);
  }
  return dataDir;
}

export class RecordingLogger implements StorageLogger {
  warnings: string[] = [];
  infos: string[] = [];
  warn(m: string): void {
    this.warnings.push(m);
  }
  info(m: string): void {
    this.infos.push(m);
  }
}

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const SESSION = 0x1000067b4530001n;

/** Decoded txns carry `digest: undefined`; drop it so they compare with hand-built ones. */
export function plain(t: Txn): Txn {
  return t.digest ? t : { hdr: t.hdr, body: t.body };
}

export function txn(zxid: number, body: TxnBody, clientId = SESSION): Txn {
  return { hdr: { clientId, cxid: zxid, zxid, time: 1_700_000_000_000 + zxid, type: body.type }, body };
}

export function createTxn(zxid: number, p: string, data: string | null, parentCVersion: number, ephemeral = false): Txn {
  return txn(zxid, {
    type: OpCode.create,
    path: p,
    data: data === null ? null : Buffer.from(data),
    acl: OPEN_ACL,
    ephemeral,
    parentCVersion,
  });
}

export function setDataTxn(zxid: number, p: string, data: string, version: number): Txn {
  return txn(zxid, { type: OpCode.setData, path: p, data: Buffer.from(data), version });
}

export function deleteTxn(zxid: number, p: string): Txn {
  return txn(zxid, { type: OpCode.delete, path: p });
}

export function createSessionTxn(zxid: number, id: bigint, timeOut: number): Txn {
  return txn(zxid, { type: OpCode.createSession, timeOut }, id);
}

/** A node:fs StorageIO that counts operations and can be told to fail. */
export class FaultyIO implements StorageIO {
  datasyncs = 0;
  writes = 0;
  bytesWritten = 0;
  /** Fail any write once this many bytes have been written in total (ENOSPC). */
  spaceLeft = Infinity;
  failDatasyncWith: string | null = null;
  failCreateWith: string | null = null;

  private fault(code: string, op: string, p: string): Error {
    return Object.assign(new Error(`${code}: simulated ${op} failure, '${p}'`), { code });
  }

  async createExclusive(p: string): Promise<StorageFile> {
    if (this.failCreateWith) throw StorageError.wrap('create', p, this.fault(this.failCreateWith, 'open', p));
    return this.wrap(await nodeStorageIO.createExclusive(p));
  }
  async createTruncate(p: string): Promise<StorageFile> {
    if (this.failCreateWith) throw StorageError.wrap('create', p, this.fault(this.failCreateWith, 'open', p));
    return this.wrap(await nodeStorageIO.createTruncate(p));
  }
  rename(a: string, b: string): Promise<void> {
    return nodeStorageIO.rename(a, b);
  }
  syncDir(p: string): Promise<void> {
    return nodeStorageIO.syncDir(p);
  }
  truncate(p: string, length: number, sync: boolean): Promise<void> {
    if (sync) this.datasyncs++;
    return nodeStorageIO.truncate(p, length, sync);
  }
  remove(p: string): Promise<void> {
    return nodeStorageIO.remove(p);
  }

  private wrap(f: StorageFile): StorageFile {
    const io = this;
    return {
      path: f.path,
      async write(buf, position) {
        io.writes++;
        if (buf.length > 1 && io.bytesWritten + buf.length > io.spaceLeft) {
          // Like a real full disk: part of the buffer may land before ENOSPC.
          const fits = Math.max(0, io.spaceLeft - io.bytesWritten);
          if (fits > 0) await f.write(buf.subarray(0, fits), position);
          io.bytesWritten += fits;
          throw StorageError.wrap('write', f.path, Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' }));
        }
        io.bytesWritten += buf.length;
        return f.write(buf, position);
      },
      async datasync() {
        io.datasyncs++;
        if (io.failDatasyncWith) throw StorageError.wrap('fsync', f.path, Object.assign(new Error(`${io.failDatasyncWith}: i/o error, fdatasync`), { code: io.failDatasyncWith }));
        return f.datasync();
      },
      close: () => f.close(),
    };
  }
}

/** Creates of /n1../nN under the root, each with its parentCVersion, as the server would log them. */
export function chainTxns(n: number, first = 1): Txn[] {
  const out: Txn[] = [];
  for (let i = first; i < first + n; i++) out.push(createTxn(i, `/n${i}`, `value-${i}`, i));
  return out;
}

/** Append txns to a fresh FileTxnLog in dir, rolling to a new file every `perFile` txns. */
export async function writeLogFiles(dir: string, txns: Txn[], perFile: number, preAllocSizeKb = 16): Promise<void> {
  const { FileTxnLog } = await import('../../src/storage/TxnLog.js');
  const log = new FileTxnLog({ dir, preAllocSizeKb, forceSync: true, logger: new RecordingLogger() });
  for (let i = 0; i < txns.length; i += perFile) {
    if (i > 0) log.roll();
    await log.append(txns.slice(i, i + perFile));
  }
  await log.close();
}

/** Everything observable about a tree: per path data, ACL list, persisted stat, children. */
export function treeImage(db: { tree: import('../../src/tree/DataTree.js').DataTree }): Map<string, unknown> {
  const out = new Map<string, unknown>();
  db.tree.walk((p, n) => {
    out.set(p, { data: n.data?.toString('hex') ?? null, acl: db.tree.aclOf(n), stat: n.persisted(), children: [...n.children].sort() });
  });
  return out;
}

export async function collectAsync<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
