// Loader for the recorded Apache ZooKeeper 3.8 quorum traffic (shared/vectors/quorum/*.jsonl):
// frames grouped into the byte streams they were cut from.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const QUORUM_VECTOR_DIR = process.env.ZK_QUORUM_VECTORS ?? '/work/shared/vectors/quorum';

export interface VectorFrame {
  seq: number;
  conn: string;
  from: number | null;
  to: number | null;
  port: 'election' | 'quorum';
  dir: 'c2s' | 's2c';
  offset: number;
  kind: 'initial' | 'message' | 'packet' | 'snapshot';
  hex: string;
  note: string;
  decoded: any;
  forwarded?: boolean;
}

export interface VectorFile {
  name: string;
  header: any;
  frames: VectorFrame[];
}

export function vectorFiles(): string[] {
  return fs.readdirSync(QUORUM_VECTOR_DIR).filter((f) => f.endsWith('.jsonl')).sort();
}

export function loadVectorFile(name: string): VectorFile {
  const lines = fs.readFileSync(path.join(QUORUM_VECTOR_DIR, name), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const header = JSON.parse(lines[0]!);
  const frames = lines.slice(1).map((l) => JSON.parse(l) as VectorFrame);
  return { name, header, frames };
}

/**
 * Runs of frames that are contiguous in one direction of one connection (a file may start in the
 * middle of a connection or leave traffic out between its scenario windows).
 */
export function contiguousRuns(frames: VectorFrame[]): VectorFrame[][] {
  const byStream = new Map<string, VectorFrame[]>();
  for (const f of frames) {
    const key = `${f.conn}/${f.dir}`;
    let list = byStream.get(key);
    if (!list) byStream.set(key, (list = []));
    list.push(f);
  }
  const runs: VectorFrame[][] = [];
  for (const list of byStream.values()) {
    list.sort((a, b) => a.offset - b.offset);
    let run: VectorFrame[] = [];
    let next = -1;
    for (const f of list) {
      if (run.length > 0 && f.offset !== next) {
        runs.push(run);
        run = [];
      }
      run.push(f);
      next = f.offset + f.hex.length / 2;
    }
    if (run.length > 0) runs.push(run);
  }
  return runs;
}

/** Feed bytes in uneven chunks so readers are exercised at every kind of split point. */
export function* chunked(buf: Buffer, seed: number): Generator<Buffer> {
  let x = seed >>> 0 || 1;
  let pos = 0;
  while (pos < buf.length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const n = 1 + (x % 97);
    yield buf.subarray(pos, Math.min(buf.length, pos + n));
    pos += n;
  }
}

/** JSON shape of the vectors' `decoded`: longs as decimal strings, buffers as hex. */
export function asVectorJson(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(asVectorJson);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = asVectorJson(x);
    return o;
  }
  return v;
}

/** A jute long held as a JS number, in the vectors' decimal-string form. */
export function longText(n: number): string {
  return BigInt(n).toString();
}
