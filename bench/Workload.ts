// Closed-loop load: several sessions, each keeping `depth` requests in flight, until a total op
// count or a duration is reached. Latencies are collected per op in nanoseconds.
import { BenchClient } from './BenchClient.js';

export type WorkloadName = 'getData' | 'setData' | 'create+delete' | 'mix90/10';
export const WORKLOADS: WorkloadName[] = ['getData', 'setData', 'create+delete', 'mix90/10'];

export interface Endpoint {
  host: string;
  port: number;
}

export interface LoadOptions {
  host: string;
  port: number;
  /** Members of an ensemble: session i connects to endpoints[i % n] (default: host:port only). */
  endpoints?: Endpoint[];
  sessions: number;
  depth: number;
  maxOps: number;
  durationMs: number;
  dataSize: number;
  keys: number;
}

export interface LoadResult {
  workload: WorkloadName;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  p50us: number;
  p99us: number;
  maxus: number;
  /** p50/p99 by endpoint and kind (read/write), when more than one class was seen: where the tail lives. */
  classes?: { label: string; ops: number; p50us: number; p99us: number }[];
}

export const BENCH_ROOT = '/bench';

export async function prepare(opts: LoadOptions): Promise<void> {
  const c = await BenchClient.connect(opts.host, opts.port);
  const data = Buffer.alloc(opts.dataSize, 0x61);
  await c.call((d) => c.create(BENCH_ROOT, Buffer.alloc(0), d));
  await c.call((d) => c.create(`${BENCH_ROOT}/cd`, Buffer.alloc(0), d));
  // Pipelined key creation: issue all, wait for the last.
  let last: Promise<number> = Promise.resolve(0);
  for (let k = 0; k < opts.keys; k++) last = c.call((d) => c.create(`${BENCH_ROOT}/k${k}`, data, d));
  await last;
  c.close();
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runWorkload(name: WorkloadName, opts: LoadOptions): Promise<LoadResult> {
  const eps = opts.endpoints?.length ? opts.endpoints : [{ host: opts.host, port: opts.port }];
  const clients = await Promise.all(Array.from({ length: opts.sessions }, (_, i) => BenchClient.connect(eps[i % eps.length]!.host, eps[i % eps.length]!.port)));
  const data = Buffer.alloc(opts.dataSize, 0x62);
  const lat = new Float64Array(opts.maxOps);
  // Class of each completed op: endpoint index * 2 + (1 for a write).
  const cls = new Uint8Array(opts.maxOps);
  let issued = 0;
  let completed = 0;
  let errors = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(opts.durationMs) * 1_000_000n;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let stopped = false;
  // Per-session sequence numbers for create+delete so each session works on its own nodes.
  const seq = new Array<number>(clients.length).fill(0);
  let rnd = 0x9e3779b9;
  const nextKey = () => {
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    return (rnd >>> 0) % opts.keys;
  };

  const issue = (ci: number) => {
    const c = clients[ci]!;
    let write = 0;
    const onDone = (err: number, ns: bigint) => {
      if (completed < lat.length) {
        lat[completed] = Number(ns) / 1000;
        cls[completed] = (ci % eps.length) * 2 + write;
      }
      completed++;
      if (err !== 0) errors++;
      if (!stopped && (issued >= opts.maxOps || process.hrtime.bigint() >= deadline)) stopped = true;
      // A closed connection fails its requests at once: issuing again would only recurse.
      if (!stopped && !c.closed) issue(ci);
      else if (clients.every((x) => x.inFlight === 0)) finish();
    };
    issued++;
    switch (name) {
      case 'getData':
        c.getData(`${BENCH_ROOT}/k${nextKey()}`, onDone);
        break;
      case 'setData':
        write = 1;
        c.setData(`${BENCH_ROOT}/k${nextKey()}`, data, onDone);
        break;
      case 'create+delete': {
        const i = seq[ci]!++;
        const p = `${BENCH_ROOT}/cd/s${ci}-${i >> 1}`;
        write = 1;
        if ((i & 1) === 0) c.create(p, data, onDone);
        else c.delete(p, onDone);
        break;
      }
      case 'mix90/10':
        if (nextKey() % 10 === 0) {
          write = 1;
          c.setData(`${BENCH_ROOT}/k${nextKey()}`, data, onDone);
        } else c.getData(`${BENCH_ROOT}/k${nextKey()}`, onDone);
        break;
    }
  };

  for (let ci = 0; ci < clients.length; ci++) for (let d = 0; d < opts.depth; d++) issue(ci);
  await finished;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of clients) c.close();
  const n = Math.min(completed, lat.length);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let xs = byClass.get(cls[i]!);
    if (!xs) byClass.set(cls[i]!, (xs = []));
    xs.push(lat[i]!);
  }
  const classes = byClass.size < 2 ? undefined : [...byClass.keys()].sort((a, b) => a - b).map((k) => {
    const xs = Float64Array.from(byClass.get(k)!).sort();
    return { label: `${eps.length > 1 ? `member ${(k >> 1) + 1} ` : ''}${k & 1 ? 'write' : 'read'}`, ops: xs.length, p50us: percentile(xs, 50), p99us: percentile(xs, 99) };
  });
  const sorted = lat.subarray(0, n).sort();
  return {
    workload: name,
    ops: completed,
    errors,
    seconds,
    opsPerSec: completed / seconds,
    p50us: percentile(sorted, 50),
    p99us: percentile(sorted, 99),
    maxus: n ? sorted[n - 1]! : 0,
    classes,
  };
}
