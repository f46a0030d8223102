// Client tests against our own server, in-process.
import { startServer } from '../support/OurServer.js';
import { clientSuite } from './clientSuite.js';

clientSuite('our server', async () => {
  const s = await startServer({ tickTime: 100, extendedTypesEnabled: true });
  return { connectString: s.connectString, stop: () => s.stop() };
});
