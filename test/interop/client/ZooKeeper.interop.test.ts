// Client tests against a real Apache ZooKeeper 3.8 (skipped when it is not installed).
import { test } from 'node:test';
import { apacheZkAvailable, startApacheZk } from '../../support/ApacheZk.js';
import { clientSuite } from '../../client/clientSuite.js';

if (!apacheZkAvailable()) {
  test('Apache ZooKeeper not installed', { skip: true }, () => {});
} else {
  clientSuite('Apache ZooKeeper 3.8', async () => {
    const s = await startApacheZk({ tickTime: 200 });
    return { connectString: s.connectString, stop: () => s.stop() };
  });
}
