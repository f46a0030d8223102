// The election port on real sockets, one member alone: with no peer reachable its election must
// keep timing out (doubling the interval) and re-sending, so that it finds the others as soon as
// the network lets it. Its own notification loops back while the election is still handing out
// outputs; delivered re-entrantly, it once left a stale timer armed and the member silent forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElectionTransport, type PeerAddr } from '../../../src/quorum/net/ElectionTransport.js';
import { nodeRuntime } from '../../../src/runtime/Runtime.js';
import { PortRange } from '../ensemble-net.js';

test('a member alone keeps timing out and retrying its election', { timeout: 30000 }, async () => {
  const peers: PeerAddr[] = [];
  const ports = new PortRange(24700);
  for (const sid of [1, 2, 3]) peers.push({ sid, host: '127.0.0.1', quorumPort: await ports.take(), electionPort: await ports.take(), type: 'participant' });
  const lines: string[] = [];
  const t = new ElectionTransport(3, peers, 'server.1=…', nodeRuntime, {
    decided: () => assert.fail('a member alone cannot decide'),
    log: (_level, message) => lines.push(message),
  });
  await t.listen();
  try {
    t.startLooking({ lastLoggedZxid: 0n, currentEpoch: 0n });
    const deadline = Date.now() + 15000;
    const timeouts = () => lines.filter((l) => /^Notification time out: \d+ ms$/.test(l));
    while (timeouts().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(timeouts().slice(0, 3), ['Notification time out: 400 ms', 'Notification time out: 800 ms', 'Notification time out: 1600 ms']);
  } finally {
    await t.stop();
  }
});
