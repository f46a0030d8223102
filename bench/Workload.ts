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
    const onDone = (err: number, ns: bigint) => {
      if (completed < lat.length) lat[completed] = Number(ns) / 1000;
      completed++;
      if (err !== 0) errors++;
      if (!stopped && (issued >= opts.maxOps || process.hrtime.bigint() >= deadline)) stopped = true;
      if (!stopped) issue(ci);
      else if (clients.every((x) => x.inFlight === 0)) finish();
    };
    issued++;
    switch (name) {
      case 'getData':
        c.getData(`${BENCH_ROOT}/k${nextKey()}`, onDone);
        break;
      case 'setData':
        c.setData(`${BENCH_ROOT}/k${nextKey()}`, data, onDone);
        break;
      case 'create+delete': {
        const i = seq[ci]!++;
        const p = `${BENCH_ROOT}/cd/s${ci}-${i >> 1}`;
        if ((i & 1) === 0) c.create(p, data, onDone);
        else c.delete(p, onDone);
        break;
      }
      case 'mix90/10':
        if (nextKey() % 10 === 0) c.setData(`${BENCH_ROOT}/k${nextKey()}`, data, onDone);
        else c.getData(`${BENCH_ROOT}/k${nextKey()}`, onDone);
        break;
    }
  };

  for (let ci = 0; ci < clients.length; ci++) for (let d = 0; d < opts.depth; d++) issue(ci);
  await finished;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of clients) c.close();
  const n = Math.min(completed, lat.length);
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
  };
}
