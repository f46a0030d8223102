// Runs a real Apache ZooKeeper 3.8 (Debian's `zookeeper` package) standalone in the foreground,
// for interop tests and benchmarks that compare it with our server.
import fs from 'node:fs';
import path from 'node:path';
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

/** zookeeper.jar's manifest Class-Path pulls in netty, jute, slf4j-api, etc.; we add a logger. */
export const APACHE_ZK_CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'].join(':');
export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

export function apacheZkAvailable(): boolean {
  return fs.existsSync('/usr/share/java/zookeeper.jar') && fs.existsSync('/usr/bin/java');
}

export async function startApacheZk(opts: StartOptions = {}): Promise<RunningServer> {
  const host = '127.0.0.1';
  const workDir = makeTempDir('apache-zk-');
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? path.join(workDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort(host));
  const cfgFile = path.join(workDir, 'zoo.cfg');
  writeZooCfg(cfgFile, { ...baseZooCfg(dataDir, port, opts.tickTime ?? 2000), ...(opts.extraConfig ?? {}) });
  const args = [
    '-cp',
    APACHE_ZK_CLASSPATH,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-Dzookeeper.jmx.log4j.disable=true',
    ...(opts.jvmFlags ?? []),
    'org.apache.zookeeper.server.quorum.QuorumPeerMain',
    cfgFile,
  ];
  return startServerProcess('apache-zk', '/usr/bin/java', args, host, port, dataDir, ownsDataDir, workDir, opts);
}
