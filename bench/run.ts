// `npm run bench`: the same pipelined workloads against Apache ZooKeeper 3.8 and our server, one
// after the other on the same machine with the same settings, then a side-by-side table.
//   node dist/bench/run.js [--sessions 8] [--depth 16] [--ops 200000] [--duration 10] [--size 100]
//                          [--keys 1000] [--servers apache,ours] [--workloads getData,setData,...]
//                          [--warmup 3] [--cpu-prof DIR]   (profile our server with node --cpu-prof)
// The table also gives each server process's CPU time per operation (from /proc), which is
// steadier than ops/s on a busy machine.
//   node dist/bench/run.js --ensemble [...]   3-member ensembles instead (see bench/ensemble.ts)
import fs from 'node:fs';
import { startApacheZk, apacheZkAvailable } from '../test/support/ApacheZk.js';
import { startOurZk, ourZkAvailable } from '../test/support/OurZk.js';
import type { RunningServer } from '../test/support/ServerProcess.js';
import { runEnsembleBench } from './ensemble.js';
import { prepare, runWorkload, WORKLOADS, type LoadOptions, type LoadResult, type WorkloadName } from './Workload.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const ensemble = process.argv.includes('--ensemble');
const sessions = Number(arg('sessions', ensemble ? '9' : '8'));
const depth = Number(arg('depth', '16'));
const maxOps = Number(arg('ops', ensemble ? '1000000' : '200000'));
const durationMs = Number(arg('duration', ensemble ? '5' : '10')) * 1000;
const dataSize = Number(arg('size', '100'));
const keys = Number(arg('keys', '1000'));
const warmupS = Number(arg('warmup', '3'));
const cpuProfDir = arg('cpu-prof', '');
const servers = arg('servers', 'apache,ours').split(',');
const workloads = arg('workloads', (ensemble ? ['getData', 'setData', 'mix90/10'] : WORKLOADS).join(',')).split(',') as WorkloadName[];
for (const w of workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}; one of ${WORKLOADS.join(', ')}`);

/** CPU time (user + system, ms) the server process has used so far; null where /proc is missing. */
function serverCpuMs(pid: number): number | null {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

/** Server CPU per operation of each workload, in microseconds (by server label). */
const cpuPerOp = new Map<string, Map<WorkloadName, number>>();

async function benchServer(label: string, start: () => Promise<RunningServer>): Promise<Map<WorkloadName, LoadResult>> {
  const server = await start();
  const results = new Map<WorkloadName, LoadResult>();
  try {
    const opts: LoadOptions = { host: server.host, port: server.port, sessions, depth, maxOps, durationMs, dataSize, keys };
    await prepare(opts);
    if (warmupS > 0) await runWorkload('mix90/10', { ...opts, durationMs: warmupS * 1000 });
    const cpu = new Map<WorkloadName, number>();
    cpuPerOp.set(label, cpu);
    for (const w of workloads) {
      const cpu0 = serverCpuMs(server.pid);
      const r = await runWorkload(w, opts);
      const cpu1 = serverCpuMs(server.pid);
      if (cpu0 !== null && cpu1 !== null && r.ops > 0) cpu.set(w, ((cpu1 - cpu0) * 1000) / r.ops);
      results.set(w, r);
      process.stdout.write(
        `${label.padEnd(7)} ${w.padEnd(14)} ${fmt(r.opsPerSec).padStart(9)} ops/s  p50 ${fmt(r.p50us).padStart(7)} us  p99 ${fmt(r.p99us).padStart(7)} us  (${r.ops} ops, ${r.errors} errors, ${r.seconds.toFixed(1)} s)\n`,
      );
    }
  } finally {
    await server.stop();
  }
  return results;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toString() : n.toFixed(1);
}

async function main(): Promise<void> {
  process.stdout.write(
    `bench: ${sessions} sessions x ${depth} in flight, up to ${maxOps} ops or ${durationMs / 1000} s per workload, ${dataSize}-byte data, ${keys} keys, warmup ${warmupS} s\n`,
  );
  const all = new Map<string, Map<WorkloadName, LoadResult>>();
  if (servers.includes('apache')) {
    if (!apacheZkAvailable()) process.stdout.write('apache: not installed, skipped\n');
    else all.set('apache', await benchServer('apache', () => startApacheZk({ jvmFlags: ['-Xmx1g'] })));
  }
  if (servers.includes('ours')) {
    if (!ourZkAvailable()) process.stdout.write('ours: dist/src/cli/zk-server.js not built, skipped\n');
    else {
      const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
      all.set('ours', await benchServer('ours', () => startOurZk({ nodeArgs })));
    }
  }
  const a = all.get('apache');
  const o = all.get('ours');
  process.stdout.write('\n| workload | apache ops/s | ours ops/s | ours/apache | apache p50/p99 us | ours p50/p99 us | server CPU us/op apache / ours |\n');
  process.stdout.write('|---|---:|---:|---:|---:|---:|---:|\n');
  for (const w of workloads) {
    const ra = a?.get(w);
    const ro = o?.get(w);
    const ratio = ra && ro ? (ro.opsPerSec / ra.opsPerSec).toFixed(2) : '-';
    const lat = (r?: LoadResult) => (r ? `${fmt(r.p50us)} / ${fmt(r.p99us)}` : '-');
    const cpuOf = (label: string) => {
      const v = cpuPerOp.get(label)?.get(w);
      return v === undefined ? '-' : v.toFixed(1);
    };
    process.stdout.write(
      `| ${w} | ${ra ? fmt(ra.opsPerSec) : '-'} | ${ro ? fmt(ro.opsPerSec) : '-'} | ${ratio} | ${lat(ra)} | ${lat(ro)} | ${cpuOf('apache')} / ${cpuOf('ours')} |\n`,
    );
  }
  const errs = [...all.values()].flatMap((m) => [...m.values()]).reduce((s, r) => s + r.errors, 0);
  if (errs > 0) {
    process.stdout.write(`\n${errs} requests failed; see the per-line error counts above.\n`);
    process.exitCode = 1;
  }
}

const entry = ensemble
  ? () =>
      runEnsembleBench({
        sessions, depth, maxOps, durationMs, dataSize, keys, warmupS, workloads, servers, cpuProfDir,
        failoverTrials: Number(arg('failover-trials', '3')),
        tickTime: Number(arg('tick', '2000')),
        basePort: Number(arg('base-port', '25100')),
        keepLogs: process.argv.includes('--keep-logs'),
        detail: process.argv.includes('--detail'),
      }).then((errors) => {
        if (errors > 0) process.exitCode = 1;
      })
  : // `--scale` runs the big-tree benchmark (bench/scale.ts) instead of the throughput workloads.
    process.argv.includes('--scale')
    ? () => import('./scale.js').then((m) => m.runScale())
    : main;

entry().catch((e) => {
  console.error(e);
  process.exit(1);
});
