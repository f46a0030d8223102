// `acceptedEpoch` / `currentEpoch` in the snapshot directory (A1): decimal text, no newline,
// replaced atomically (write .tmp, fsync, rename, fsync the directory). Reading is synchronous
// (startup); writing happens during the quorum protocol too, so it goes through StorageIO.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StorageError, nodeStorageIO, type StorageIO } from './StorageIO.js';

export const CURRENT_EPOCH_FILE = 'currentEpoch';
export const ACCEPTED_EPOCH_FILE = 'acceptedEpoch';

/** The epoch stored in snapDir/name, or null when the file does not exist. */
export function readEpochFile(snapDir: string, name: string): number | null {
  const p = path.join(snapDir, name);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw StorageError.wrap('read', p, e);
  }
  const first = text.split(/\r?\n/, 1)[0]!.trim();
  if (!/^-?\d+$/.test(first)) throw new StorageError(`${p}: "${first}" is not an epoch number`, p, 'EBADEPOCH');
  return Number(first);
}

export async function writeEpochFile(snapDir: string, name: string, epoch: number, io: StorageIO = nodeStorageIO): Promise<void> {
  const p = path.join(snapDir, name);
  const tmp = p + '.tmp';
  const f = await io.createTruncate(tmp);
  try {
    await f.write(Buffer.from(String(epoch), 'ascii'), 0);
    await f.datasync();
  } finally {
    await f.close().catch(() => undefined);
  }
  try {
    await io.rename(tmp, p);
  } catch {
    // ZooKeeper's fallback: delete the target, then rename again.
    await io.remove(p);
    await io.rename(tmp, p);
  }
  await io.syncDir(snapDir);
}

export function epochOfZxid(zxid: number): number {
  return Math.floor(zxid / 0x100000000);
}

/**
 * The startup checks a quorum peer makes after loading its database (QuorumPeer.loadDataBase):
 * create missing files from the last zxid's epoch, adopt `currentEpoch.tmp` after an
 * interrupted update, refuse to start on inconsistent epochs.
 */
export async function loadEpochs(
  snapDir: string,
  lastProcessedZxid: number,
  io: StorageIO = nodeStorageIO,
): Promise<{ currentEpoch: number; acceptedEpoch: number }> {
  const zxidEpoch = epochOfZxid(lastProcessedZxid);
  let current = readEpochFile(snapDir, CURRENT_EPOCH_FILE);
  if (current === null) {
    current = zxidEpoch;
    await writeEpochFile(snapDir, CURRENT_EPOCH_FILE, current, io);
  }
  if (zxidEpoch > current) {
    const tmp = readEpochFile(snapDir, CURRENT_EPOCH_FILE + '.tmp');
    if (tmp === null) {
      throw new StorageError(
        `${path.join(snapDir, CURRENT_EPOCH_FILE)}: current epoch ${current} is older than the last zxid's epoch ${zxidEpoch} (0x${lastProcessedZxid.toString(16)})`,
        path.join(snapDir, CURRENT_EPOCH_FILE),
        'EBADEPOCH',
      );
    }
    current = tmp;
    await writeEpochFile(snapDir, CURRENT_EPOCH_FILE, current, io);
  }
  let accepted = readEpochFile(snapDir, ACCEPTED_EPOCH_FILE);
  if (accepted === null) {
    accepted = zxidEpoch;
    await writeEpochFile(snapDir, ACCEPTED_EPOCH_FILE, accepted, io);
  }
  if (accepted < current) {
    throw new StorageError(
      `${path.join(snapDir, ACCEPTED_EPOCH_FILE)}: accepted epoch ${accepted} is less than the current epoch ${current}`,
      path.join(snapDir, ACCEPTED_EPOCH_FILE),
      'EBADEPOCH',
    );
  }
  return { currentEpoch: current, acceptedEpoch: accepted };
}
