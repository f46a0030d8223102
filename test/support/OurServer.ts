// Start our server in-process on a free loopback port with a temp data dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ZkServer } from '../../src/server/ZkServer.js';
import { defaultConfig, type ServerConfig } from '../../src/config/ServerConfig.js';

export interface TestServer {
  server: ZkServer;
  port: number;
  connectString: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zkts-'));
  const tickTime = overrides.tickTime ?? 200;
  const config = defaultConfig({
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
    tickTime,
    minSessionTimeout: 2 * tickTime,
    maxSessionTimeout: 20 * tickTime,
    dataDir,
    dataLogDir: dataDir,
    fourLetterWords: new Set(['*', 'ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'crst', 'srst', 'dump', 'envi', 'wchs', 'wchc', 'wchp', 'dirs', 'isro', 'gtmk', 'stmk', 'hash']),
    ...overrides,
  });
  const server = new ZkServer(config);
  await server.start();
  return {
    server,
    port: server.port,
    connectString: `127.0.0.1:${server.port}`,
    dataDir,
    async stop() {
      await server.stop();
    },
  };
}
