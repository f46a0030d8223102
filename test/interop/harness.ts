// Shared plumbing for the interop suite: start Apache ZooKeeper and our server side by side, run
// a client program (zkCli.sh or a kazoo script) against each, and diff the normalised results.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apacheZkAvailable, startApacheZk, ZKCLI } from '../support/ApacheZk.js';
import { ourZkAvailable, startOurZk } from '../support/OurZk.js';
import type { RunningServer, StartOptions } from '../support/ServerProcess.js';

/** The source folder test/interop/ (scripts are not compiled, so they are read from there). */
export const INTEROP_SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/interop');
export const PYTHON = '/usr/bin/python3';

export { apacheZkAvailable, ourZkAvailable };

export interface ServerPair {
  apache: RunningServer;
  ours: RunningServer | null;
  stop(): Promise<void>;
}

/** Starts both servers in parallel with the same zoo.cfg extras. `ours` is null until it is built. */
export async function startBoth(opts: StartOptions = {}): Promise<ServerPair> {
  const [a, o] = await Promise.allSettled([
    startApacheZk(opts),
    ourZkAvailable() ? startOurZk(opts) : Promise.resolve(null),
  ]);
  if (a.status === 'rejected' || o.status === 'rejected') {
    if (a.status === 'fulfilled') await a.value.stop();
    if (o.status === 'fulfilled' && o.value) await o.value.stop();
    throw a.status === 'rejected' ? a.reason : (o as PromiseRejectedResult).reason;
  }
  const apache = a.value;
  const ours = o.value;
  return {
    apache,
    ours,
    async stop() {
      await Promise.all([apache.stop(), ours?.stop()]);
    },
  };
}

export interface ProcResult {
  code: number | null;
  out: string;
  timedOut: boolean;
}

/** Runs a program with `input` on stdin; stdout and stderr are merged through one pipe (`2>&1`)
 * so their interleaving is what the user would see on a terminal. */
export function runMerged(cmd: string, args: string[], input: string, timeoutMs: number, env: Record<string, string> = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('/bin/sh', ['-c', `exec ${quoted} 2>&1`], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
  });
}

// ---------------------------------------------------------------- zkCli

export interface ZkCliScript {
  name: string;
  /** zoo.cfg extras from `#config key=value` lines. */
  config: Record<string, string>;
  /** JVM flags for Apache ZooKeeper from `#jvm -Dx=y` lines (settings it only reads as system properties). */
  jvmFlags: string[];
  /** Commands with comments removed; `{{SERVER}}` still in place. */
  commands: string[];
}

export function parseZkCliScript(name: string, text: string): ZkCliScript {
  const config: Record<string, string> = {};
  const commands: string[] = [];
  const jvmFlags: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const cfg = /^#config\s+([^=\s]+)=(.*)$/.exec(line);
    const jvm = /^#jvm\s+(\S+)$/.exec(line);
    if (cfg) config[cfg[1]!] = cfg[2]!.trim();
    else if (jvm) jvmFlags.push(jvm[1]!);
    else if (line !== '' && !line.startsWith('#')) commands.push(line);
  }
  return { name, config, jvmFlags, commands };
}

export async function runZkCli(server: RunningServer, commands: string[], timeoutMs = 60000): Promise<ProcResult> {
  const input = commands.map((c) => c.replaceAll('{{SERVER}}', server.connectString)).join('\n') + '\nquit\n';
  return runMerged(ZKCLI, ['-server', server.connectString], input, timeoutMs, {
    // Faster JVM start; the client is short-lived.
    CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto',
  });
}

export interface NormalisedCli {
  lines: string[];
  /** Watch events, sorted: their interleaving with command output is racy in zkCli. */
  events: string[];
}

/** Removes what legitimately differs between two runs: zxids, times, session ids, ports. */
export function normaliseZkCli(out: string, server: RunningServer): NormalisedCli {
  const lines: string[] = [];
  const events: string[] = [];
  for (let line of out.split('\n')) {
    line = line.replace(/\r$/, '');
    if (line.startsWith('SLF4J:')) continue;
    if (line.trim() === '' || line === 'WATCHER::') continue;
    if (line.startsWith('WatchedEvent ')) {
      // Connection-state events are printed by zkCli's event thread at racy moments.
      if (!/type:None/.test(line)) events.push(line);
      continue;
    }
    line = line.replaceAll(server.connectString, '{{SERVER}}').replaceAll(String(server.port), '{{PORT}}');
    line = line.replace(/^(cZxid|mZxid|pZxid) = 0x[0-9a-f]+$/, '$1 = ZXID');
    line = line.replace(/^(ctime|mtime) = .*$/, '$1 = TIME');
    line = line.replace(/^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$/, 'ephemeralOwner = SESSION');
    // getEphemerals lists paths in the server's hash-set order, which is not part of the contract.
    if (/^\[\/.*\]$/.test(line)) line = '[' + line.slice(1, -1).split(', ').sort().join(', ') + ']';
    line = line.replace(/sessionid:0x[0-9a-f]+/g, 'sessionid:SESSION').replace(/sessionid = 0x[0-9a-f]+/g, 'sessionid = SESSION');
    lines.push(line);
  }
  events.sort();
  return { lines, events };
}

// ---------------------------------------------------------------- kazoo

export async function runKazoo(script: string, server: RunningServer, timeoutMs = 120000, extraArgs: string[] = []): Promise<{ results: unknown; raw: ProcResult }> {
  const file = path.join(INTEROP_SRC, 'kazoo', script);
  const raw = await runMerged(PYTHON, [file, server.connectString, ...extraArgs], '', timeoutMs, { PYTHONUNBUFFERED: '1' });
  const marker = raw.out.lastIndexOf('\nRESULT ');
  const start = raw.out.startsWith('RESULT ') ? 0 : marker + 1;
  if (marker < 0 && start !== 0) return { results: null, raw };
  const line = raw.out.slice(start + 'RESULT '.length).split('\n')[0]!;
  try {
    return { results: JSON.parse(line), raw };
  } catch {
    return { results: null, raw };
  }
}

// ---------------------------------------------------------------- diffs

/** A readable line diff (LCS-based) for assertion messages; only the changed hunks with context. */
export function lineDiff(a: string[], b: string[], labelA = 'apache', labelB = 'ours', context = 2): string {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<[' ' | '-' | '+', string]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push([' ', a[i]!]);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push(['-', a[i++]!]);
    else ops.push(['+', b[j++]!]);
  }
  while (i < n) ops.push(['-', a[i++]!]);
  while (j < m) ops.push(['+', b[j++]!]);
  const keep = new Set<number>();
  ops.forEach(([op], k) => {
    if (op !== ' ') for (let c = k - context; c <= k + context; c++) keep.add(c);
  });
  const out: string[] = [`--- ${labelA}`, `+++ ${labelB}`];
  let last = -2;
  ops.forEach(([op, text], k) => {
    if (!keep.has(k)) return;
    if (k !== last + 1) out.push('@@');
    out.push(`${op} ${text}`);
    last = k;
  });
  return out.join('\n');
}

export function jsonLines(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => JSON.stringify(x));
  return JSON.stringify(v, null, 1).split('\n');
}
