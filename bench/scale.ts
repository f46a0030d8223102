// `npm run bench -- --scale`: big trees against Apache ZooKeeper 3.8 (Debian's package, -Xmx512m,
// GC log) and our server, one after the other on the same machine, then a side-by-side table.
//   node dist/bench/run.js --scale [--scale-nodes 1000000] [--shapes flat,wide] [--servers apache,ours]
//                                  [--conns 4] [--inflight 1000] [--port-base 28100] [--fanout 10000]
// Shapes (N = --scale-nodes):
//   flat: N znodes of 100 B, 1000 per parent (/scale/p<i>/c<j>)
//   wide: N/10 znodes of 1 KB, parents with 100 children each (/scale/p<i>/c<j>, parents 1 KB too)
//   fanout: --fanout sessions (one connection each) each send a request at once, watch one node
//   (one setData fires them all), watch a 1,000-node subtree recursively (one write deep inside
//   fires them all), then every connection drops so all sessions expire together (--shapes
//   none: only this). SCALE_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles our server.
// For each server and shape: a fresh server, the tree built with pipelined creates over several
// connections, RSS once settled, then a restart on the same data dir: time from exec to the
// first answered getData, and RSS after the reload. The longest stall is ours measured inside
// the server (mntr zk_max_jvm_pause_time_ms, fed by an event-loop delay histogram) and Apache's
// longest GC pause from its -Xlog:gc file.
import fs from 'node:fs';
import path from 'node:path';
import { startApacheZk, apacheZkAvailable } from '../test/support/ApacheZk.js';
import { startOurZk, ourZkAvailable } from '../test/support/OurZk.js';
import { fourLetterWord, makeTempDir, type RunningServer, type StartOptions } from '../test/support/ServerProcess.js';
import { BenchClient } from './BenchClient.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const scaleNodes = Number(arg('scale-nodes', '1000000'));
const shapes = arg('shapes', 'flat,wide').split(',').filter((x): x is ShapeName => x === 'flat' || x === 'wide');
const servers = arg('servers', 'apache,ours').split(',');
const conns = Number(arg('conns', '4'));
/** Sessions of the fan-out phase (each a connection watching one node), 0 to skip it. */
const fanoutSessions = Number(arg('fanout', '10000'));
/** Fan-out sessions' timeout: long enough for a loaded server to take them all on. */
const SESSION_TIMEOUT_MS = 30_000;
const inflight = Number(arg('inflight', '1000'));
let nextPort = Number(arg('port-base', '28100'));

type ShapeName = 'flat' | 'wide';
interface Shape {
  name: ShapeName;
  parents: number;
  perParent: number;
  dataSize: number;
}

function shapeOf(name: ShapeName): Shape {
  if (name === 'flat') return { name, parents: Math.max(1, Math.ceil(scaleNodes / 1000)), perParent: Math.min(1000, scaleNodes), dataSize: 100 };
  const total = Math.max(100, Math.floor(scaleNodes / 10));
  return { name, parents: Math.max(1, Math.floor(total / 100)), perParent: 100, dataSize: 1024 };
}

interface Result {
  nodes: number;
  /** Longest GC pause (ms): ours from --trace-gc, Apache's from -Xlog:gc. */
  gcBuildMs: number;
  gcRestartMs: number;
  buildS: number;
  rssMB: number;
  restartS: number;
  rssAfterRestartMB: number;
  /** ours: event-loop stall; apache: GC pause (ms). */
  pauseBuildMs: number;
  pauseRestartMs: number;
}

const log = (s: string) => process.stdout.write(s + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Longest "Pause ..." in a -Xlog:gc file (ms); 0 when none was logged. */
function maxGcPauseMs(file: string): number {
  let max = 0;
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return NaN;
  }
  for (const line of text.split('\n')) {
    const m = /Pause.* ([\d.]+)ms\s*$/.exec(line);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** Longest GC pause in a node --trace-gc log ("..., 12.3 / 0.0 ms" per collection); 0 when none. */
function maxNodeGcPauseMs(file: string): number {
  let max = 0;
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return NaN;
  }
  for (const line of text.split('\n')) {
    const m = /MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/.exec(line);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

async function mntrValue(s: RunningServer, key: string): Promise<number> {
  const out = await fourLetterWord(s.host, s.port, 'mntr', 10000);
  const m = new RegExp(`^zk_${key}\\t(\\S+)$`, 'm').exec(out);
  return m ? Number(m[1]) : NaN;
}

async function connectAll(s: RunningServer, n: number): Promise<BenchClient[]> {
  return Promise.all(Array.from({ length: n }, () => BenchClient.connect(s.host, s.port, 30000)));
}

/** Creates every path of `paths` with pipelining: each connection keeps `inflight` requests out. */
async function createAll(clients: BenchClient[], paths: string[], data: Buffer, progressLabel: string): Promise<void> {
  let next = 0;
  let done = 0;
  let failed = 0;
  let lastErr = 0;
  const total = paths.length;
  let lastReport = Date.now();
  await new Promise<void>((resolve, reject) => {
    const pump = (c: BenchClient) => {
      while (c.inFlight < inflight && next < total) {
        const p = paths[next++]!;
        c.create(p, data, (err) => {
          done++;
          if (err !== 0 && err !== -110 /* NodeExists */) {
            failed++;
            lastErr = err;
          }
          if (failed > 0 && c.closed) return reject(new Error(`${progressLabel}: connection lost (err ${lastErr})`));
          if (Date.now() - lastReport > 5000) {
            lastReport = Date.now();
            log(`  ${progressLabel}: ${done}/${total} created`);
          }
          if (done === total) resolve();
          else pump(c);
        });
      }
    };
    if (total === 0) resolve();
    for (const c of clients) pump(c);
  });
  if (failed > 0) throw new Error(`${progressLabel}: ${failed} creates failed (last err ${lastErr})`);
}

async function build(s: RunningServer, shape: Shape, label: string): Promise<number> {
  const clients = await connectAll(s, conns);
  try {
    const c0 = clients[0]!;
    const small = Buffer.alloc(0);
    const err = await c0.call((d) => c0.create('/scale', small, d));
    if (err !== 0 && err !== -110) throw new Error(`create /scale: err ${err}`);
    const data = Buffer.alloc(shape.dataSize, 0x61);
    const parents = Array.from({ length: shape.parents }, (_, i) => `/scale/p${i}`);
    await createAll(clients, parents, data, label);
    const kids: string[] = [];
    for (let i = 0; i < shape.parents; i++) for (let j = 0; j < shape.perParent; j++) kids.push(`/scale/p${i}/c${j}`);
    await createAll(clients, kids, data, label);
    return 1 + parents.length + kids.length;
  } finally {
    for (const c of clients) c.close();
  }
}

/** Retries getData until it answers OK (the server may still be loading). */
async function firstRead(s: RunningServer, p: string, deadlineMs: number): Promise<void> {
  for (;;) {
    try {
      const c = await BenchClient.connect(s.host, s.port, 30000);
      const err = await c.call((d) => c.getData(p, d));
      c.close();
      if (err === 0) return;
    } catch {
      /* not serving yet */
    }
    if (Date.now() > deadlineMs) throw new Error(`no answer to getData ${p}`);
    await sleep(20);
  }
}

interface Runner {
  label: string;
  start(opts: StartOptions, gcLog: string): Promise<RunningServer>;
  pauseMs(s: RunningServer, gcLog: string): Promise<number>;
  gcMs(s: RunningServer, gcLog: string): number;
}

const RUNNERS: Record<string, Runner> = {
  apache: {
    label: 'apache',
    start: (opts, gcLog) => startApacheZk({ ...opts, jvmFlags: ['-Xmx512m', `-Xlog:gc:file=${gcLog}`] }),
    pauseMs: async (_s, gcLog) => maxGcPauseMs(gcLog),
    gcMs: (_s, gcLog) => maxGcPauseMs(gcLog),
  },
  ours: {
    label: 'ours',
    start: (opts) => startOurZk({ ...opts, nodeArgs: ['--trace-gc', ...(process.env.SCALE_NODE_ARGS ? process.env.SCALE_NODE_ARGS.split(' ') : [])] }),
    pauseMs: (s) => mntrValue(s, 'max_jvm_pause_time_ms'),
    gcMs: (s) => maxNodeGcPauseMs(s.logFile),
  },
};

async function runShape(r: Runner, shape: Shape): Promise<Result> {
  const work = makeTempDir(`scale-${r.label}-`);
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir);
  const port = nextPort++;
  const opts: StartOptions = { dataDir, port, startTimeoutMs: 600_000 };
  const label = `${r.label} ${shape.name}`;
  try {
    log(`${label}: building ${shape.parents} x ${shape.perParent} znodes of ${shape.dataSize} B on port ${port}`);
    const gc1 = path.join(work, 'gc-build.log');
    let s = await r.start(opts, gc1);
    const t0 = Date.now();
    const nodes = await build(s, shape, label);
    const buildS = (Date.now() - t0) / 1000;
    log(`${label}: ${nodes} znodes in ${buildS.toFixed(1)} s; letting it settle`);
    await sleep(5000);
    const rss = rssMB(s.pid);
    const pauseBuild = await r.pauseMs(s, gc1);
    await s.stop({ keepDataDir: true });
    const gcBuild = r.gcMs(s, gc1);
    fs.rmSync(path.dirname(s.logFile), { recursive: true, force: true });

    log(`${label}: restarting on the same data`);
    const gc2 = path.join(work, 'gc-restart.log');
    const t1 = Date.now();
    s = await r.start(opts, gc2);
    await firstRead(s, `/scale/p${shape.parents - 1}/c${shape.perParent - 1}`, Date.now() + 600_000);
    const restartS = (Date.now() - t1) / 1000;
    await sleep(5000);
    const rss2 = rssMB(s.pid);
    const pauseRestart = await r.pauseMs(s, gc2);
    await s.stop({ keepDataDir: true });
    const gcRestart = r.gcMs(s, gc2);
    fs.rmSync(path.dirname(s.logFile), { recursive: true, force: true });
    const res = {
      nodes, buildS, rssMB: rss, restartS, rssAfterRestartMB: rss2, pauseBuildMs: pauseBuild, pauseRestartMs: pauseRestart,
      gcBuildMs: gcBuild, gcRestartMs: gcRestart,
    };
    log(
      `${label}: RSS ${rss.toFixed(0)} MB, restart ${restartS.toFixed(1)} s, RSS after restart ${rss2.toFixed(0)} MB, ` +
        `longest stall ${pauseBuild} / ${pauseRestart} ms, longest GC pause ${gcBuild} / ${gcRestart} ms`,
    );
    return res;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

interface FanoutResult {
  sessions: number;
  connectS: number;
  /** From the setData to the last of the N notifications received. */
  notifyMs: number;
  /** Same, for one write under a subtree every session watches recursively. */
  recursiveNotifyMs: number;
  /** From dropping every connection to the server reporting no session left. */
  expireS: number;
  /** ours: longest event-loop stall (ms) in each phase; apache: longest GC pause over the run. */
  stallRequestsMs: number;
  stallNotifyMs: number;
  stallRecursiveMs: number;
  /** While the server handles N connections closing at once (before any session expires). */
  stallDropMs: number;
  stallExpireMs: number;
  rssMB: number;
}

async function untilTrue(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Children of the busy subtree of the recursive-watch phase: /busy/p<i>/c<j>. */
const BUSY_PARENTS = 10;
const BUSY_CHILDREN = 100;

/**
 * N connections, each with a session. Phases, each measured apart (srst, then the phase, then
 * mntr): one request from every connection at once (getData leaving a watch on /fan); one
 * setData on /fan firing the N watches; every session adding a recursive watch on /busy (a
 * subtree of 1,000 nodes) and one setData deep inside it firing all N; every connection dropped
 * at once; the N sessions expiring together (30 s after their last ping).
 */
async function runFanout(r: Runner, n: number): Promise<FanoutResult> {
  const work = makeTempDir(`scale-fan-${r.label}-`);
  const port = nextPort++;
  const gc = path.join(work, 'gc.log');
  const s = await r.start({ port, startTimeoutMs: 120_000 }, gc);
  const label = `${r.label} fanout`;
  const clients: BenchClient[] = [];
  // Each session pings every 3 s, the sessions spread over those 3 s as real clients' are (they
  // connect at different times): 10,000 pings in one burst would be a storm of its own, landing
  // in whichever phase is being measured.
  const PING_SLICES = 30;
  let pingSlice = 0;
  const pinger = setInterval(() => {
    for (let i = pingSlice; i < clients.length; i += PING_SLICES) clients[i]!.ping();
    pingSlice = (pingSlice + 1) % PING_SLICES;
  }, 3000 / PING_SLICES);
  /** srst, run the phase, let the period of the pause monitor close, read the longest stall. */
  const measured = async (phase: () => Promise<void>): Promise<number> => {
    await fourLetterWord(s.host, s.port, 'srst', 10000);
    await phase();
    await sleep(1500);
    return r.pauseMs(s, gc);
  };
  let received = 0;
  let lastAt = 0;
  /** Fires one setData and waits for `expect` notifications; returns the ms to the last one. */
  const fire = async (p: string, expect: number): Promise<number> => {
    received = 0;
    const c0 = clients[0]!;
    const t1 = Date.now();
    const serr = await c0.call((d) => c0.setData(p, Buffer.from('1'), d));
    if (serr !== 0) throw new Error(`setData ${p}: err ${serr}`);
    await untilTrue(`${expect} notifications (have ${received})`, () => received >= expect, 120_000);
    return lastAt - t1;
  };
  try {
    log(`${label}: opening ${n} sessions on port ${port}`);
    const t0 = Date.now();
    for (let i = 0; i < n; i += 500) {
      const batch = await Promise.all(Array.from({ length: Math.min(500, n - i) }, () => BenchClient.connect(s.host, s.port, SESSION_TIMEOUT_MS)));
      clients.push(...batch);
      if ((i / 500) % 4 === 3) log(`  ${label}: ${clients.length}/${n} connected`);
    }
    const connectS = (Date.now() - t0) / 1000;
    for (const c of clients) {
      c.onWatchEvent = () => {
        received++;
        lastAt = Date.now();
      };
    }
    const c0 = clients[0]!;
    const cerr = await c0.call((d) => c0.create('/fan', Buffer.from('0'), d));
    if (cerr !== 0 && cerr !== -110) throw new Error(`create /fan: err ${cerr}`);
    const busy = ['/busy', ...Array.from({ length: BUSY_PARENTS }, (_, i) => `/busy/p${i}`)];
    for (let i = 0; i < BUSY_PARENTS; i++) for (let j = 0; j < BUSY_CHILDREN; j++) busy.push(`/busy/p${i}/c${j}`);
    for (const p of busy) {
      const e = await c0.call((d) => c0.create(p, Buffer.alloc(0), d));
      if (e !== 0 && e !== -110) throw new Error(`create ${p}: err ${e}`);
    }
    let errs: number[] = [];
    const stallRequests = await measured(async () => {
      errs = await Promise.all(clients.map((c) => c.call((d) => c.getDataWatch('/fan', d))));
    });
    const bad = errs.filter((e) => e !== 0).length;
    // A loaded server may lose a few sessions on the way; the figures are for those watching.
    if (bad > n / 100) throw new Error(`${bad} getData with watch failed`);
    const watching = n - bad;
    log(`${label}: ${n} sessions connected in ${connectS.toFixed(1)} s, ${watching} watching /fan${bad ? ` (${bad} failed)` : ''}; firing`);
    let notifyMs = 0;
    const stallNotify = await measured(async () => {
      notifyMs = await fire('/fan', watching);
    });
    const rss = rssMB(s.pid);
    log(`${label}: ${watching} notifications in ${notifyMs} ms; every session adds a recursive watch on /busy (${busy.length} nodes)`);
    const rerrs = await Promise.all(clients.map((c) => c.call((d) => c.addRecursiveWatch('/busy', d))));
    const recursive = rerrs.filter((e) => e === 0).length;
    if (recursive < watching) throw new Error(`${watching - recursive} addWatch failed`);
    let recursiveNotifyMs = 0;
    const stallRecursive = await measured(async () => {
      recursiveNotifyMs = await fire(`/busy/p${BUSY_PARENTS - 1}/c${BUSY_CHILDREN - 1}`, recursive);
    });
    log(`${label}: one write under /busy → ${recursive} notifications in ${recursiveNotifyMs} ms; dropping every connection`);
    clearInterval(pinger);
    let t2 = 0;
    // Sessions time out 30 s after their last ping: the connections' closes are handled well
    // before any expires, so the two are measured apart.
    const stallDrop = await measured(async () => {
      t2 = Date.now();
      for (const c of clients) c.destroy();
      clients.length = 0;
      await sleep(2500);
    });
    const stallExpire = await measured(async () => {
      await untilTrue('every session to expire', async () => (await mntrValue(s, 'global_sessions')) === 0, 180_000);
    });
    const expireS = (Date.now() - t2) / 1000;
    log(
      `${label}: sessions expired ${expireS.toFixed(1)} s after the drop; longest stall: ${n} requests at once ${stallRequests}, ` +
        `notifying ${stallNotify}, recursive ${stallRecursive}, closing ${stallDrop}, expiring ${stallExpire} ms`,
    );
    return {
      sessions: watching, connectS, notifyMs, recursiveNotifyMs, expireS, stallRequestsMs: stallRequests, stallNotifyMs: stallNotify,
      stallRecursiveMs: stallRecursive, stallDropMs: stallDrop, stallExpireMs: stallExpire, rssMB: rss,
    };
  } finally {
    clearInterval(pinger);
    for (const c of clients) c.destroy();
    await s.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

function ratio(o: number | undefined, a: number | undefined): string {
  return o === undefined || a === undefined || !a ? '-' : (o / a).toFixed(2);
}

export async function runScale(): Promise<void> {
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  log(`scale bench: --scale-nodes ${scaleNodes}, shapes ${shapes.join(',')}, ${conns} connections x ${inflight} in flight; load average ${load}`);
  const results = new Map<string, Map<ShapeName, Result>>();
  const fanouts = new Map<string, FanoutResult>();
  for (const name of servers) {
    const r = RUNNERS[name];
    if (!r) throw new Error(`unknown server ${name}`);
    if (name === 'apache' && !apacheZkAvailable()) {
      log('apache: not installed, skipped');
      continue;
    }
    if (name === 'ours' && !ourZkAvailable()) {
      log('ours: not built, skipped');
      continue;
    }
    const m = new Map<ShapeName, Result>();
    results.set(name, m);
    for (const sh of shapes) m.set(sh, await runShape(r, shapeOf(sh)));
    if (fanoutSessions > 0) fanouts.set(name, await runFanout(r, fanoutSessions));
  }
  const a = results.get('apache');
  const o = results.get('ours');
  log('');
  log('| shape | znodes | build s a / o | RSS MB a / o (o/a) | restart→first read s a / o (o/a) | RSS after restart MB a / o (o/a) | longest GC pause ms, build: a / o | after restart: a / o | ours longest event-loop stall ms, build / after restart |');
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const sh of shapes) {
    const ra = a?.get(sh);
    const ro = o?.get(sh);
    log(
      `| ${sh} | ${ra?.nodes ?? ro?.nodes} | ${fmt(ra?.buildS, 1)} / ${fmt(ro?.buildS, 1)} | ${fmt(ra?.rssMB)} / ${fmt(ro?.rssMB)} (${ratio(ro?.rssMB, ra?.rssMB)}) | ` +
        `${fmt(ra?.restartS, 2)} / ${fmt(ro?.restartS, 2)} (${ratio(ro?.restartS, ra?.restartS)}) | ${fmt(ra?.rssAfterRestartMB)} / ${fmt(ro?.rssAfterRestartMB)} (${ratio(ro?.rssAfterRestartMB, ra?.rssAfterRestartMB)}) | ` +
        `${fmt(ra?.gcBuildMs, 1)} / ${fmt(ro?.gcBuildMs, 1)} | ${fmt(ra?.gcRestartMs, 1)} / ${fmt(ro?.gcRestartMs, 1)} | ${fmt(ro?.pauseBuildMs)} / ${fmt(ro?.pauseRestartMs)} |`,
    );
  }
  if (fanouts.size > 0) {
    const fa = fanouts.get('apache');
    const fo = fanouts.get('ours');
    log('');
    log('| fan-out | apache | ours |');
    log('|---|---:|---:|');
    log(`| sessions (one connection each) | ${fa?.sessions ?? '-'} | ${fo?.sessions ?? '-'} |`);
    log(`| connect all, s | ${fmt(fa?.connectS, 1)} | ${fmt(fo?.connectS, 1)} |`);
    log(`| RSS with them connected, MB | ${fmt(fa?.rssMB)} | ${fmt(fo?.rssMB)} |`);
    log(`| one setData → last of the watch notifications, ms | ${fmt(fa?.notifyMs)} | ${fmt(fo?.notifyMs)} |`);
    log(`| one setData under a recursively watched subtree → last notification, ms | ${fmt(fa?.recursiveNotifyMs)} | ${fmt(fo?.recursiveNotifyMs)} |`);
    log(`| drop all → every session expired, s | ${fmt(fa?.expireS, 1)} | ${fmt(fo?.expireS, 1)} |`);
    log(`| longest pause while every connection sends a request at once: apache GC (whole run) / ours event loop, ms | ${fmt(fa?.stallRequestsMs, 1)} | ${fmt(fo?.stallRequestsMs)} |`);
    log(`| longest pause while notifying N one-shot watches: apache GC (whole run) / ours event loop, ms | ${fmt(fa?.stallNotifyMs, 1)} | ${fmt(fo?.stallNotifyMs)} |`);
    log(`| longest pause while notifying N recursive watches: apache GC (whole run) / ours event loop, ms | ${fmt(fa?.stallRecursiveMs, 1)} | ${fmt(fo?.stallRecursiveMs)} |`);
    log(`| longest pause while N connections close: apache GC (whole run) / ours event loop, ms | ${fmt(fa?.stallDropMs, 1)} | ${fmt(fo?.stallDropMs)} |`);
    log(`| longest pause while N sessions expire: apache GC (whole run) / ours event loop, ms | ${fmt(fa?.stallExpireMs, 1)} | ${fmt(fo?.stallExpireMs)} |`);
  }
}
