// V8 settings the server runs with, as Apache's zkEnv.sh gives the JVM its -Xmx: the tree lives
// off the JS heap (NodeStore), so the heap holds only requests in flight and ~10 MB of state,
// and V8's defaults (16 MB semi-spaces, old space grown to 4× what survives) would keep 50–75 MB
// committed for it. Measured on a 1M-znode build (bench --scale): RSS 367 → 301 MB, with no
// throughput change in getData/setData runs side by side.
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

/** `args` (node options) plus whichever of SERVER_NODE_FLAGS they do not set already. */
export function withServerNodeFlags(args: readonly string[]): string[] {
  const set = (flag: string) => flag.split('=')[0]!;
  const have = new Set(args.map(set));
  return [...args, ...SERVER_NODE_FLAGS.filter((f) => !have.has(set(f)))];
}
