// `npm run bench -- --ensemble`: our 3-member ensemble against Apache ZooKeeper 3.8's 3-member
// ensemble, both running on this machine for the whole run. Workloads alternate between the two
// (apache, ours, apache, ours, ...) so that load from other processes on a shared machine falls on
// both alike; compare the ratios, not the absolute numbers.
//   node dist/bench/run.js --ensemble [--sessions 9] [--depth 16] [--duration 5] [--warmup 3]
//        [--workloads getData,setData,mix90/10] [--failover-trials 3] [--tick 2000]
//        [--servers apache,ours] [--cpu-prof DIR]   (profile our members with node --cpu-prof)
//        [--keep-logs]   (members log at INFO; logs and data kept, paths printed)
//        [--detail]   (p50/p99 per member and per kind of request: where the tail is)
//   ENSEMBLE_NODE_ARGS="--flag ..." adds node options to our members; they win over zk-server's own
//   (e.g. --no-single-threaded-gc, which `zk-server start` adds when members outnumber the cores).
// Sessions are spread over the members (session i on member i % 3). Server CPU per op is the sum
// of the three members' user+system time (/proc/PID/stat) over the workload, divided by its ops.
// Fail-over: with writers on both followers, the leader is SIGKILLed; the figure is the time from
// the kill to the first successful write issued after it (median over the trials). The killed
// member is restarted and rejoins before the next trial.
import fs from 'node:fs';
import path from 'node:path';
import { APACHE_ZK_CLASSPATH, apacheZkAvailable } from '../test/support/ApacheZk.js';
import { OUR_ZK_CLI, ourZkAvailable } from '../test/support/OurZk.js';
import { serverNodeFlagsFor, withServerEnv } from '../src/cli/nodeFlags.js';
import { loadZooCfg } from '../src/config/ZooCfg.js';
import { makeTempDir, startServerProcess, type RunningServer } from '../test/support/ServerProcess.js';
import { srvrMode, writeMemberConfig, type MemberPorts } from '../test/support/Ensemble.js';
import { BenchClient } from './BenchClient.js';
import { BENCH_ROOT, prepare, runWorkload, type LoadOptions, type LoadResult, type WorkloadName } from './Workload.js';

type Impl = 'apache' | 'ours';
const HOST = '127.0.0.1';
const IDS = [1, 2, 3];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EnsembleBenchOptions {
  sessions: number;
  depth: number;
  maxOps: number;
  durationMs: number;
  dataSize: number;
  keys: number;
  warmupS: number;
  workloads: WorkloadName[];
  servers: string[];
  failoverTrials: number;
  tickTime: number;
  /** The first of 100 ports this run may use: apache gets base..base+49, ours base+50..base+99. */
  basePort: number;
  cpuProfDir: string;
  /** Log at INFO and keep the members' logs and data (their paths are printed); for diagnosis. */
  keepLogs: boolean;
  /** Also print p50/p99 per member and per kind (read/write) of request. */
  detail: boolean;
}

interface Member {
  id: number;
  cfgFile: string;
  dataDir: string;
  server: RunningServer | null;
  runs: number;
}

class Ensemble {
  readonly members: Member[] = [];
  private readonly root: string;

  constructor(
    readonly impl: Impl,
    private readonly ports: Map<number, MemberPorts>,
    tickTime: number,
    private readonly cpuProfDir: string,
    readonly keepLogs: boolean,
  ) {
    this.root = makeTempDir(`ensbench-${impl}-`);
    for (const id of IDS) {
      // The same zoo.cfg for both implementations; maxClientCnxns=0 as the bench opens many sessions.
      const { cfgFile, dataDir } = writeMemberConfig(path.join(this.root, `m${id}`), id, ports, tickTime, new Set(), { maxClientCnxns: 0 });
      this.members.push({ id, cfgFile, dataDir, server: null, runs: 0 });
    }
  }

  private startMember(m: Member): Promise<RunningServer> {
    const workDir = makeTempDir(`ensbench-${this.impl}${m.id}-${m.runs++}-`);
    const port = this.ports.get(m.id)!.client;
    // Both at WARN: per-request logging would cost either side CPU that is not the server's work.
    const level = this.keepLogs ? 'info' : 'warn';
    if (this.keepLogs) process.stdout.write(`${this.impl}${m.id} log: ${path.join(workDir, `${this.impl}${m.id}.log`)}\n`);
    if (this.impl === 'apache') {
      const args = ['-Xmx512m', '-cp', APACHE_ZK_CLASSPATH, `-Dorg.slf4j.simpleLogger.defaultLogLevel=${level}`, '-Dorg.slf4j.simpleLogger.showDateTime=true',
        '-Dzookeeper.jmx.log4j.disable=true', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', m.cfgFile];
      return startServerProcess(`apache${m.id}`, '/usr/bin/java', args, HOST, port, m.dataDir, false, workDir, { startTimeoutMs: 90000 });
    }
    const nodeArgs = [...(this.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}`] : []), ...(process.env.ENSEMBLE_NODE_ARGS ? process.env.ENSEMBLE_NODE_ARGS.split(' ') : [])];
    return startServerProcess(`ours${m.id}`, process.execPath, [...serverNodeFlagsFor(loadZooCfg(m.cfgFile), nodeArgs), OUR_ZK_CLI, 'start-foreground', m.cfgFile], HOST, port, m.dataDir, false,
      workDir, { startTimeoutMs: 90000, env: withServerEnv({ ZOO_LOG4J_PROP: `${level.toUpperCase()},CONSOLE` }) });
  }

  /** Starts all members at once (a member serves only with a quorum) and waits for the roles. */
  async start(): Promise<void> {
    const started = await Promise.allSettled(this.members.map((m) => this.startMember(m)));
    started.forEach((s, i) => {
      if (s.status === 'fulfilled') this.members[i]!.server = s.value;
    });
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    await this.roles(60000);
  }

  get servers(): RunningServer[] {
    return this.members.map((m) => m.server).filter((s): s is RunningServer => s !== null);
  }

  /** One leader and two followers by srvr; bounded. */
  async roles(timeoutMs: number): Promise<{ leader: Member; followers: Member[] }> {
    const deadline = Date.now() + timeoutMs;
    let modes: (string | null)[] = [];
    while (Date.now() < deadline) {
      modes = await Promise.all(this.members.map((m) => (m.server ? srvrMode(m.server) : Promise.resolve(null))));
      const leaders = this.members.filter((_, i) => modes[i] === 'leader');
      const followers = this.members.filter((_, i) => modes[i] === 'follower');
      if (leaders.length === 1 && followers.length === this.members.length - 1) return { leader: leaders[0]!, followers };
      await sleep(50);
    }
    throw new Error(`${this.impl}: no leader and two followers within ${timeoutMs} ms; modes ${JSON.stringify(modes)}`);
  }

  kill(m: Member): void {
    process.kill(m.server!.pid, 'SIGKILL');
  }

  async restart(m: Member): Promise<void> {
    await m.server!.stop({ keepDataDir: true });
    if (this.keepLogs) process.stdout.write(`${this.impl}${m.id} restarted\n`);
    m.server = await this.startMember(m);
  }

  cpuMs(): number | null {
    let sum = 0;
    for (const s of this.servers) {
      const v = procCpuMs(s.pid);
      if (v === null) return null;
      sum += v;
    }
    return sum;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop({ keepDataDir: this.keepLogs })));
    if (!this.keepLogs) fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** CPU time (user + system, ms) a process has used; null where /proc is missing. */
function procCpuMs(pid: number): number | null {
  try {
    // After the command name: utime and stime are the 12th and 13th fields, in clock ticks (100/s).
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

function portsFrom(base: number): Map<number, MemberPorts> {
  return new Map(IDS.map((id, i) => [id, { client: base + i, quorum: base + 10 + i, election: base + 20 + i }]));
}

/** getData on every member until it sees the last key prepare() created (followers apply a little later). */
async function waitKeysEverywhere(servers: RunningServer[], keys: number): Promise<void> {
  for (const s of servers) {
    const c = await BenchClient.connect(s.host, s.port);
    try {
      const deadline = Date.now() + 30000;
      for (;;) {
        const err = await c.call((d) => c.getData(`${BENCH_ROOT}/k${keys - 1}`, d));
        if (err === 0) break;
        if (Date.now() > deadline) throw new Error(`${s.connectString}: ${BENCH_ROOT}/k${keys - 1} not there (err ${err})`);
        await sleep(20);
      }
    } finally {
      c.close();
    }
  }
}

/**
 * One fail-over trial: writers on both followers keep `depth` setData requests in flight and
 * reconnect (new session, every 10 ms) when their member drops them; the leader is SIGKILLed after
 * a second of load. Returns ms from the kill to the first successful write issued after it.
 */
async function failoverTrial(ens: Ensemble, depth: number, dataSize: number, keys: number): Promise<number> {
  const { leader, followers } = await ens.roles(60000);
  const data = Buffer.alloc(dataSize, 0x63);
  let killedAt = 0n;
  let firstOk = 0n;
  let running = true;
  let acked = 0;
  const writer = async (m: Member, wi: number) => {
    const s = m.server!;
    while (running) {
      let c: BenchClient;
      try {
        c = await BenchClient.connect(s.host, s.port, 10000, 1000);
      } catch {
        await sleep(10);
        continue;
      }
      let k = wi;
      await new Promise<void>((resolve) => {
        // A request stuck with a member that lost its leader would hide the ensemble's recovery
        // behind one connection: drop a connection that completes nothing for 2 s and reconnect.
        let lastProgress = Date.now();
        const watchdog = setInterval(() => {
          if (Date.now() - lastProgress > 2000) c.destroy(new Error('stalled'));
        }, 100);
        const issue = () => {
          const issuedAt = process.hrtime.bigint();
          c.setData(`${BENCH_ROOT}/k${(k = (k + 7) % keys)}`, data, (err) => {
            lastProgress = Date.now();
            if (err === 0) {
              acked++;
              if (killedAt !== 0n && issuedAt > killedAt && firstOk === 0n) firstOk = process.hrtime.bigint();
            }
            if (running && !c.closed && err === 0) issue();
            else if (c.inFlight === 0) {
              clearInterval(watchdog);
              c.close();
              resolve();
            }
          });
        };
        for (let d = 0; d < depth; d++) issue();
      });
    }
  };
  const writers = followers.map((m, i) => writer(m, i));
  await sleep(1000);
  if (acked === 0) throw new Error(`${ens.impl}: no write acknowledged before the kill`);
  killedAt = process.hrtime.bigint();
  ens.kill(leader);
  if (ens.keepLogs) process.stdout.write(`${ens.impl}${leader.id} SIGKILLed at ${new Date().toISOString()}\n`);
  const deadline = Date.now() + 60000;
  while (firstOk === 0n && Date.now() < deadline) await sleep(5);
  running = false;
  await Promise.all(writers);
  if (firstOk === 0n) throw new Error(`${ens.impl}: no write succeeded within 60 s of the leader's kill`);
  const ms = Number(firstOk - killedAt) / 1e6;
  await ens.restart(leader);
  await ens.roles(60000);
  return ms;
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toString() : n.toFixed(1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export async function runEnsembleBench(o: EnsembleBenchOptions): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  out(`ensemble bench: 3 members each, tickTime ${o.tickTime}, ${o.sessions} sessions spread over the members x ${o.depth} in flight, `
    + `${o.durationMs / 1000} s per workload, ${o.dataSize}-byte data, ${o.keys} keys, warmup ${o.warmupS} s, ${o.failoverTrials} fail-over trials\n`);
  const impls: Impl[] = [];
  if (o.servers.includes('apache')) {
    if (apacheZkAvailable()) impls.push('apache');
    else out('apache: not installed, skipped\n');
  }
  if (o.servers.includes('ours')) {
    if (ourZkAvailable()) impls.push('ours');
    else out('ours: dist/src/cli/zk-server.js not built, skipped\n');
  }
  const ensembles = new Map<Impl, Ensemble>();
  const results = new Map<Impl, Map<WorkloadName, LoadResult & { cpuUsPerOp: number | null }>>();
  const failovers = new Map<Impl, number[]>();
  let errors = 0;
  const t0 = Date.now();
  try {
    for (const impl of impls) {
      const e = new Ensemble(impl, portsFrom(o.basePort + (impl === 'apache' ? 0 : 50)), o.tickTime, o.cpuProfDir, o.keepLogs);
      ensembles.set(impl, e);
    }
    // Started one after the other: three JVMs and three nodes starting together on two cores
    // would only slow each other's start.
    for (const e of ensembles.values()) {
      const t = Date.now();
      await e.start();
      out(`${e.impl}: ensemble serving ${Date.now() - t} ms after start\n`);
    }
    const optsOf = (e: Ensemble): LoadOptions => ({
      host: HOST, port: e.servers[0]!.port, endpoints: e.servers.map((s) => ({ host: s.host, port: s.port })),
      sessions: o.sessions, depth: o.depth, maxOps: o.maxOps, durationMs: o.durationMs, dataSize: o.dataSize, keys: o.keys,
    });
    for (const e of ensembles.values()) {
      await prepare(optsOf(e));
      await waitKeysEverywhere(e.servers, o.keys);
      results.set(e.impl, new Map());
      failovers.set(e.impl, []);
    }
    for (const e of ensembles.values()) if (o.warmupS > 0) await runWorkload('mix90/10', { ...optsOf(e), durationMs: o.warmupS * 1000 });
    for (const w of o.workloads) {
      for (const e of ensembles.values()) {
        const c0 = e.cpuMs();
        const r = await runWorkload(w, optsOf(e));
        const c1 = e.cpuMs();
        const cpuUsPerOp = c0 !== null && c1 !== null && r.ops > 0 ? ((c1 - c0) * 1000) / r.ops : null;
        results.get(e.impl)!.set(w, { ...r, cpuUsPerOp });
        errors += r.errors;
        out(`${e.impl.padEnd(7)} ${w.padEnd(14)} ${fmt(r.opsPerSec).padStart(9)} ops/s  p50 ${fmt(r.p50us).padStart(7)} us  p99 ${fmt(r.p99us).padStart(7)} us`
          + `  cpu ${cpuUsPerOp === null ? '-' : cpuUsPerOp.toFixed(1)} us/op  (${r.ops} ops, ${r.errors} errors, ${r.seconds.toFixed(1)} s)\n`);
        if (o.detail) for (const k of r.classes ?? []) out(`          ${k.label.padEnd(16)} ${String(k.ops).padStart(8)} ops  p50 ${fmt(k.p50us).padStart(7)} us  p99 ${fmt(k.p99us).padStart(7)} us\n`);
      }
    }
    for (let t = 0; t < o.failoverTrials; t++) {
      for (const e of ensembles.values()) {
        const ms = await failoverTrial(e, Math.min(o.depth, 4), o.dataSize, o.keys);
        failovers.get(e.impl)!.push(ms);
        out(`${e.impl.padEnd(7)} fail-over trial ${t + 1}: first write ${fmt(ms)} ms after SIGKILL of the leader\n`);
      }
    }
  } finally {
    await Promise.all([...ensembles.values()].map((e) => e.stop()));
  }
  const a = results.get('apache');
  const u = results.get('ours');
  out(`\n(whole ensemble bench: ${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
  out('\n| workload | apache ops/s | ours ops/s | ours/apache | apache p99 us | ours p99 us | p99 ours/apache | CPU us/op apache / ours (3 members) |\n');
  out('|---|---:|---:|---:|---:|---:|---:|---:|\n');
  const ratio = (x?: number | null, y?: number | null) => (x && y ? (x / y).toFixed(2) : '-');
  for (const w of o.workloads) {
    const ra = a?.get(w);
    const ru = u?.get(w);
    const cpu = (r?: { cpuUsPerOp: number | null }) => (r?.cpuUsPerOp == null ? '-' : r.cpuUsPerOp.toFixed(1));
    out(`| ${w} | ${ra ? fmt(ra.opsPerSec) : '-'} | ${ru ? fmt(ru.opsPerSec) : '-'} | ${ratio(ru?.opsPerSec, ra?.opsPerSec)} | `
      + `${ra ? fmt(ra.p99us) : '-'} | ${ru ? fmt(ru.p99us) : '-'} | ${ratio(ru?.p99us, ra?.p99us)} | ${cpu(ra)} / ${cpu(ru)} |\n`);
  }
  const fa = failovers.get('apache') ?? [];
  const fu = failovers.get('ours') ?? [];
  const list = (xs: number[]) => xs.map((x) => fmt(x)).join(', ');
  out(`| fail-over ms (median of ${o.failoverTrials}) | ${fa.length ? fmt(median(fa)) : '-'} | ${fu.length ? fmt(median(fu)) : '-'} | `
    + `${ratio(median(fu), median(fa))} | trials: ${list(fa)} | trials: ${list(fu)} | | |\n`);
  out('\nTargets: ops/s ours/apache >= 1.5; p99 ours/apache <= 0.5; fail-over ours/apache <= 0.5.\n');
  if (errors > 0) out(`\n${errors} requests failed; see the per-line error counts above.\n`);
  return errors;
}
