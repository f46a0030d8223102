// quorumListenOnAllIPs: a member's election (and quorum) ports listen on every interface instead of
// its server.N address, as Apache's do; without it only the configured address answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { loadZooCfg } from '../../src/config/ZooCfg.js';
import { QuorumPeer } from '../../src/server/QuorumPeer.js';
import { makeTempDir } from '../support/ServerProcess.js';
import { allocatePorts, writeMemberConfig } from '../support/Ensemble.js';

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

for (const allIps of [true, false]) {
  test(`quorumListenOnAllIPs=${allIps}: the election port ${allIps ? 'answers on another loopback address too' : 'answers on the server.N address only'}`, async () => {
    const ports = await allocatePorts([1, 2, 3]);
    const root = makeTempDir('listen-all-');
    const { cfgFile } = writeMemberConfig(path.join(root, 'm1'), 1, ports, 200, new Set(), { quorumListenOnAllIPs: allIps });
    const peer = new QuorumPeer(loadZooCfg(cfgFile), { logger: quiet as never });
    try {
      await peer.start();
      const election = ports.get(1)!.election;
      assert.equal(await reachable('127.0.0.1', election), true);
      assert.equal(await reachable('127.0.0.2', election), allIps);
    } finally {
      await peer.stop();
    }
  });
}
