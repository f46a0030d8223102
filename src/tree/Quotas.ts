// Quota bookkeeping (Quotas/StatsTrack): limits live in
// /zookeeper/quota<path>/zookeeper_limits, usage in .../zookeeper_stats.
import { QUOTA_ROOT } from './paths.js';

export const LIMITS_NODE = 'zookeeper_limits';
export const STATS_NODE = 'zookeeper_stats';

export function limitsPath(path: string): string {
  return QUOTA_ROOT + path + '/' + LIMITS_NODE;
}
export function statsPath(path: string): string {
  return QUOTA_ROOT + path + '/' + STATS_NODE;
}

/** StatsTrack: `count=1,bytes=2` plus optional `byteHardLimit`/`countHardLimit`; missing means -1. */
export class StatsTrack {
  readonly fields = new Map<string, number>();

  constructor(text?: string | null) {
    if (!text) return;
    for (const part of text.split(/[,;]/)) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const key = part.substring(0, eq).trim();
      const v = Number(part.substring(eq + 1).split('=')[0]);
      this.fields.set(key, Number.isFinite(v) ? v : -1);
    }
  }

  get(key: string): number {
    return this.fields.get(key) ?? -1;
  }

  get count(): number {
    return this.get('count');
  }
  get bytes(): number {
    return this.get('bytes');
  }
  get countHardLimit(): number {
    return this.get('countHardLimit');
  }
  get byteHardLimit(): number {
    return this.get('byteHardLimit');
  }

  static usage(count: number, bytes: number): string {
    return `count=${count},bytes=${bytes}`;
  }
}
