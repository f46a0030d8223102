// Runs our server as a separate process through its CLI, `zk-server start-foreground zoo.cfg`,
// with the same shape as ApacheZk.ts so tests can run one scenario against both.
import fs from 'node:fs';
import { withServerEnv, withServerNodeFlags } from '../../src/cli/nodeFlags.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  baseZooCfg,
  freePort,
  makeTempDir,
  startServerProcess,
  writeZooCfg,
  type RunningServer,
  type StartOptions,
} from './ServerProcess.js';

export type { RunningServer, StartOptions } from './ServerProcess.js';

/** dist/src/cli/zk-server.js, found relative to this compiled file (dist/test/support/OurZk.js). */
export const OUR_ZK_CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-server.js');

export function ourZkAvailable(): boolean {
  return fs.existsSync(OUR_ZK_CLI);
}

export async function startOurZk(opts: StartOptions & { nodeArgs?: string[] } = {}): Promise<RunningServer> {
  const host = '127.0.0.1';
  const workDir = makeTempDir('our-zk-');
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? path.join(workDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort(host));
  const cfgFile = path.join(workDir, 'zoo.cfg');
  writeZooCfg(cfgFile, { ...baseZooCfg(dataDir, port, opts.tickTime ?? 2000), ...(opts.extraConfig ?? {}) });
  // The node flags zk-server's own launchers use (npm start, the shebang, `start`).
  const args = [...withServerNodeFlags(opts.nodeArgs ?? []), OUR_ZK_CLI, 'start-foreground', cfgFile];
  return startServerProcess('our-zk', process.execPath, args, host, port, dataDir, ownsDataDir, workDir, { ...opts, env: withServerEnv(opts.env ?? {}) });
}
