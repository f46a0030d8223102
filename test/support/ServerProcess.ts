// Shared machinery for running a ZooKeeper-compatible server as a child process in tests and
// benchmarks: free-port allocation, zoo.cfg writing, four-letter-word probing, PID-based stop.
// ApacheZk.ts and OurZk.ts build on this so both servers are started and stopped the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RunningServer {
  host: string;
  port: number;
  dataDir: string;
  /** `host:port`, what zkCli -server / kazoo hosts= want. */
  connectString: string;
  pid: number;
  /** Path of the file the server's stdout+stderr go to (handy when a test fails). */
  logFile: string;
  /** Kill by PID (SIGTERM, then SIGKILL after a grace period), wait for exit, remove dataDir. */
  stop(opts?: { keepDataDir?: boolean }): Promise<void>;
}

export interface StartOptions {
  tickTime?: number;
  /** Extra zoo.cfg lines, key -> value. */
  extraConfig?: Record<string, string | number | boolean>;
  /** Reuse an existing dataDir (for restart tests); otherwise a fresh temp dir. */
  dataDir?: string;
  /** Fixed port (for restart tests); otherwise a free one. */
  port?: number;
  /** How long to wait for `srvr` to answer. */
  startTimeoutMs?: number;
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** Working directory of the child (relative paths in its config resolve against it). */
  cwd?: string;
  /** Extra JVM flags (Apache ZooKeeper only), e.g. -Dzookeeper.enforceQuota=true. */
  jvmFlags?: string[];
}

/**
 * Ports handed to servers the tests start come from 10000-23999: below the kernel's ephemeral
 * range (32768+), so an outgoing connection or a port-0 listener elsewhere cannot take one between
 * this probe and the server's bind (a port-0 probe could be reused that way). Each test process
 * starts at its own offset (by pid) so parallel test files rarely probe the same ports.
 */
const PORT_LOW = 10000;
const PORT_SPAN = 14000;
let nextPortOffset = (process.pid * 7919) % PORT_SPAN;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < PORT_SPAN; tries++) {
    const port = PORT_LOW + nextPortOffset;
    nextPortOffset = (nextPortOffset + 1) % PORT_SPAN;
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, host, () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${PORT_LOW}-${PORT_LOW + PORT_SPAN - 1} on ${host}`);
}

/** Sends a four-letter word and returns everything the server wrote before closing. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`4lw ${word}: timeout`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

export function writeZooCfg(file: string, entries: Record<string, string | number | boolean>): void {
  const lines = Object.entries(entries).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

export function baseZooCfg(dataDir: string, port: number, tickTime: number): Record<string, string | number | boolean> {
  return {
    tickTime,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: 0,
    '4lw.commands.whitelist': '*',
    'admin.enableServer': false,
    extendedTypesEnabled: true,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Spawns `cmd args` (which must run the server in the foreground), waits until `srvr` answers on
 * host:port, and returns a handle. The child's output goes to a log file inside a temp dir.
 */
export async function startServerProcess(
  name: string,
  cmd: string,
  args: string[],
  host: string,
  port: number,
  dataDir: string,
  ownsDataDir: boolean,
  workDir: string,
  opts: StartOptions,
): Promise<RunningServer> {
  const logFile = path.join(workDir, `${name}.log`);
  const logFd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, ...(opts.env ?? {}) },
    cwd: opts.cwd,
    detached: false,
  });
  fs.closeSync(logFd);
  let exited = false;
  // If the test or benchmark process dies without stopping us, do not leave the server running.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => {
    exited = true;
    process.removeListener('exit', killOnExit);
  });
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  let lastErr: unknown;
  for (;;) {
    if (exited) {
      const log = safeTail(logFile);
      throw new Error(`${name} exited during start (code ${child.exitCode}); log:\n${log}`);
    }
    try {
      const out = await fourLetterWord(host, port, 'srvr', 1000);
      if (/Zookeeper version/i.test(out) || /Mode:/.test(out)) break;
      lastErr = new Error(`unexpected srvr answer: ${JSON.stringify(out)}`);
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer srvr on ${host}:${port}: ${String(lastErr)}; log:\n${safeTail(logFile)}`);
    }
    await sleep(100);
  }
  const pid = child.pid!;
  let stopped = false;
  return {
    host,
    port,
    dataDir,
    connectString: `${host}:${port}`,
    pid,
    logFile,
    async stop(stopOpts) {
      if (!stopped) {
        stopped = true;
        if (!exited) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            /* already gone */
          }
          if (!(await waitExit(child, 5000))) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* already gone */
            }
            await waitExit(child, 5000);
          }
        }
      }
      if (!stopOpts?.keepDataDir) {
        if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
        fs.rmSync(workDir, { recursive: true, force: true });
      }
    },
  };
}

function safeTail(file: string): string {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.length > 4000 ? s.slice(-4000) : s;
  } catch {
    return '(no log)';
  }
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
