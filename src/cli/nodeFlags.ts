// V8 settings the server runs with, as Apache's zkEnv.sh gives the JVM its -Xmx: the tree lives
// off the JS heap (NodeStore), so the heap holds only requests in flight and ~10 MB of state,
// and V8's defaults (16 MB semi-spaces, old space grown to 4× what survives) would keep 50–75 MB
// committed for it. Measured on a 1M-znode build (bench --scale): RSS 367 → 301 MB, with no
// throughput change in getData/setData runs side by side.
import os from 'node:os';
import type { ServerConfig } from '../config/ServerConfig.js';

/**
 * glibc malloc settings for a server process. Large blocks (the node store's arena chunks and
 * columns) are otherwise taken from the brk heap once glibc's adaptive threshold has risen, where
 * freed request buffers between them can never be given back: a 100k × 1 KB build ended at
 * 224 MB RSS against 198 MB with these (190 with the trim threshold), throughput unchanged.
 * The launchers set them as they set the node options; a value already in the environment wins.
 */
export const SERVER_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

/** `env` plus whichever of SERVER_ENV it does not set. */
export function withServerEnv<T extends Record<string, string | undefined>>(env: T): T & Record<string, string> {
  const out: Record<string, string | undefined> = { ...env };
  for (const [k, v] of Object.entries(SERVER_ENV)) if (out[k] === undefined) out[k] = v;
  return out as T & Record<string, string>;
}

/** Node options for a server process: `zk-server`'s shebang, `npm start` and `start` carry them. */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=50'];

/** The V8 flag a node option sets: `--no-x` and `--x=1` both set `--x`. */
function flagName(flag: string): string {
  return flag.split('=')[0]!.replace(/^--no-/, '--');
}

/** `args` (node options) plus whichever of `flags` (default SERVER_NODE_FLAGS) they do not set already. */
export function withServerNodeFlags(args: readonly string[], flags: readonly string[] = SERVER_NODE_FLAGS): string[] {
  const have = new Set(args.map(flagName));
  return [...args, ...flags.filter((f) => !have.has(flagName(f)))];
}

/**
 * V8's garbage collector marks, sweeps and scavenges with helper threads beside the main thread.
 * When the members of an ensemble outnumber this machine's cores (a test or development ensemble
 * on one box, as in conf/ensemble), those helpers only take CPU from the other members' main
 * threads, and a member's GC pause then lasts until its helpers get a core. Measured with 3
 * members on 2 cores (bench --ensemble, 5 s runs side by side): write p99 16.6 → 12.7 ms, read/write
 * mix p99 8.3 → 6.4 ms, throughput +5 %. A standalone server on the same 2 cores is better off with the
 * helpers: its 1M-znode bulk load took 24.4 s without them against 18.0 s with them.
 */
export const SHARED_CORES_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/**
 * How many members of the configured ensemble run on this machine: those whose quorum address is
 * a loopback address, this host's name, or an address of one of its interfaces. 1 when standalone.
 */
export function localMemberCount(config: Pick<ServerConfig, 'servers'>, interfaces = os.networkInterfaces(), hostname = os.hostname()): number {
  if (!config.servers || config.servers.size === 0) return 1;
  const local = new Set<string>(['localhost', hostname.toLowerCase()]);
  for (const list of Object.values(interfaces)) for (const a of list ?? []) local.add(a.address.toLowerCase());
  const isLocal = (host: string) => {
    const h = host.toLowerCase().replace(/^\[|\]$/g, '');
    return local.has(h) || /^127\./.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
  };
  let n = 0;
  for (const spec of config.servers.values()) if (spec.addresses.some((a) => isLocal(a.host))) n++;
  return Math.max(1, n);
}

/** The node options for a server with this config: SERVER_NODE_FLAGS, and SHARED_CORES_NODE_FLAGS when its members here outnumber the cores. */
export function serverNodeFlagsFor(config: Pick<ServerConfig, 'servers'> | undefined, args: readonly string[] = [], cores = os.availableParallelism()): string[] {
  const shared = config !== undefined && localMemberCount(config) > cores;
  return withServerNodeFlags(args, shared ? [...SERVER_NODE_FLAGS, ...SHARED_CORES_NODE_FLAGS] : SERVER_NODE_FLAGS);
}
