// V8 settings the server runs with, as Apache's zkEnv.sh gives the JVM its -Xmx: the tree lives
// off the JS heap (NodeStore), so the heap holds only requests in flight and ~10 MB of state,
// and V8's defaults (16 MB semi-spaces, old space grown to 4× what survives) would keep 50–75 MB
// committed for it. Measured on a 1M-znode build (bench --scale): RSS 367 → 301 MB, with no
// throughput change in getData/setData runs side by side.
/** Node options for a server process: `zk-server`'s shebang, `npm start` and `start` carry them. */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=50'];

/** `args` (node options) plus whichever of SERVER_NODE_FLAGS they do not set already. */
export function withServerNodeFlags(args: readonly string[]): string[] {
  const set = (flag: string) => flag.split('=')[0]!;
  const have = new Set(args.map(set));
  return [...args, ...SERVER_NODE_FLAGS.filter((f) => !have.has(set(f)))];
}
