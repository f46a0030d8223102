// File descriptor gauges read from /proc without blocking the event loop (they are read when
// mntr, /commands/monitor or a scrape asks, never on the request path). -1 where the platform has
// no /proc, as ZooKeeper's OSMXBean reports an unknown count.
import fs from 'node:fs/promises';

/** Descriptors this process has open now. */
export async function openFileDescriptorCount(): Promise<number> {
  try {
    return (await fs.readdir('/proc/self/fd')).length;
  } catch {
    return -1;
  }
}

/** The soft RLIMIT_NOFILE from a /proc/<pid>/limits text; null if the line is missing. */
export function parseMaxOpenFiles(limits: string): number | null {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return null;
  // Java reports an unlimited soft limit as Long.MAX_VALUE; JSON and mntr then print that.
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/** The soft limit on open descriptors (what getrlimit(RLIMIT_NOFILE) gives Java). */
export async function maxFileDescriptorCount(): Promise<number> {
  try {
    return parseMaxOpenFiles(await fs.readFile('/proc/self/limits', 'utf8')) ?? -1;
  } catch {
    return -1;
  }
}
