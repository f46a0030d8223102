// Names of ZooKeeper's data files: `log.<hex zxid>` and `snapshot.<hex zxid>[.gz|.snappy]`,
// lowercase hex without leading zeros (Java Long.toHexString), sorted numerically.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log';
export const SNAPSHOT_PREFIX = 'snapshot';

export function zxidHex(zxid: number): string {
  return zxid.toString(16);
}

/** The zxid a file name carries, or -1 for a wrong prefix or bad hex (Util.getZxidFromName). */
export function zxidFromName(name: string, prefix: string): number {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix || !/^[0-9a-fA-F]{1,16}$/.test(parts[1]!)) return -1;
  const v = BigInt('0x' + parts[1]);
  if (v > 0x7fffffffffffffffn) return -1;
  return Number(v);
}

export interface DataFile {
  name: string;
  path: string;
  zxid: number;
}

function dataFiles(dir: string, names: string[], prefix: string): DataFile[] {
  const out: DataFile[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix + '.') || name.endsWith('.tmp')) continue;
    const zxid = zxidFromName(name, prefix);
    if (zxid < 0) continue;
    out.push({ name, path: path.join(dir, name), zxid });
  }
  return out.sort((a, b) => a.zxid - b.zxid);
}

/**
 * Files with the prefix in dir, ascending by zxid. Our own in-progress temporaries
 * (`*.tmp`) are not data files.
 */
export function listDataFiles(dir: string, prefix: string): DataFile[] {
  return dataFiles(dir, fs.readdirSync(dir), prefix);
}

/** listDataFiles without blocking the event loop (autopurge, truncation, log reads while serving). */
export async function listDataFilesAsync(dir: string, prefix: string): Promise<DataFile[]> {
  return dataFiles(dir, await fsp.readdir(dir), prefix);
}

export function logFileName(zxid: number): string {
  return `${LOG_PREFIX}.${zxidHex(zxid)}`;
}

export function snapshotFileName(zxid: number): string {
  return `${SNAPSHOT_PREFIX}.${zxidHex(zxid)}`;
}

/**
 * Log files a reader needs to see every txn with zxid >= fromZxid: every file named at or
 * after it, plus the newest one named before it (it may hold fromZxid).
 */
export function logFilesFrom(logs: DataFile[], fromZxid: number): DataFile[] {
  let start = 0;
  for (let i = 0; i < logs.length; i++) {
    if (logs[i]!.zxid <= fromZxid) start = i;
    else break;
  }
  return logs.slice(start);
}
