// Size-rotated log files as log4j/logback's RollingFileAppender with a FixedWindowRollingPolicy
// keeps them: `name` is the live file, `name.1` the newest backup, `name.<maxBackups>` the oldest;
// the file rolls once a write takes it past maxBytes. Shared by the server log and the audit log.
import fs from 'node:fs';
import path from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1 << 20, mb: 1 << 20, g: 1 << 30, gb: 1 << 30 };

/** logback's FileSize syntax (a number, optionally KB/MB/GB, powers of 1024); undefined if not one. */
export function parseFileSize(value: string): number | undefined {
  const m = /^\s*(\d+)\s*([kmg]?b?)\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return n >= 1 && Number.isSafeInteger(n) ? n : undefined;
}

export function openRotatingFile(file: string, maxBytes: number, maxBackups: number): RotatingFileStream {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const base = path.basename(file);
  // With `rotate` the library calls the generator with the backup index (null for the live file).
  return createStream((index: number | Date) => (typeof index === 'number' && index > 0 ? `${base}.${index}` : base), {
    path: path.dirname(file),
    size: `${maxBytes}B`,
    rotate: maxBackups,
  });
}
