// ServiceDiscovery in Curator's x-discovery layout, against our server: node paths and JSON field
// names as Curator writes them, an instance written the way Curator's JsonInstanceSerializer
// writes it is read back, DYNAMIC instances go with their session, PERMANENT ones stay.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { ServiceDiscovery } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  await server.stop();
});

test('register, query, update, unregister; DYNAMIC instances vanish with their session', async () => {
  const a = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  const b = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  try {
    const reg = new ServiceDiscovery<{ zone: string }>(a, '/services');
    const look = new ServiceDiscovery<{ zone: string }>(b, '/services');
    const dyn = await reg.registerService({ name: 'api', address: '10.0.0.1', port: 8080, payload: { zone: 'a' } });
    const perm = await reg.registerService({ name: 'api', id: 'fixed-1', address: '10.0.0.2', port: 8081, serviceType: 'PERMANENT' });
    const raw = JSON.parse((await b.getData(`/services/api/${dyn.id}`)).data!.toString());
    assert.deepEqual(Object.keys(raw).sort(), ['address', 'enabled', 'id', 'name', 'payload', 'port', 'registrationTimeUTC', 'serviceType', 'sslPort', 'uriSpec']);
    assert.equal(raw.serviceType, 'DYNAMIC');
    assert.deepEqual(await look.queryForNames(), ['api']);
    const found = await look.queryForInstances('api');
    assert.deepEqual(found.map((i) => i.id).sort(), [dyn.id, 'fixed-1'].sort());
    assert.deepEqual((await look.queryForInstance('api', dyn.id))?.payload, { zone: 'a' });
    await reg.updateService({ ...perm, enabled: false });
    assert.equal((await look.queryForInstance('api', 'fixed-1'))?.enabled, false);
    await a.close();
    // The registering session is gone: its DYNAMIC (ephemeral) instance with it, the PERMANENT one stays.
    await eventually(async () => (await look.queryForInstances('api')).map((i) => i.id).join() === 'fixed-1');
    await look.unregisterService(perm);
    assert.deepEqual(await look.queryForInstances('api'), []);
    assert.equal(await look.queryForInstance('api', 'nope'), null);
  } finally {
    await a.close();
    await b.close();
  }
});

test("an instance as Curator's JsonInstanceSerializer writes it is read back", async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  try {
    await zk.create('/svc2', null);
    await zk.create('/svc2/worker', null);
    const curatorJson =
      '{"name":"worker","id":"9c1b1c1e-2f0a-4a57-9f0a-4b6f2f0e3a11","address":"192.168.1.5","port":9000,"sslPort":null,' +
      '"payload":{"version":"1.2"},"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",' +
      '"uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false}]},"enabled":true}';
    await zk.create('/svc2/worker/9c1b1c1e-2f0a-4a57-9f0a-4b6f2f0e3a11', curatorJson);
    const [inst] = await new ServiceDiscovery<{ version: string }>(zk, '/svc2').queryForInstances('worker');
    assert.deepEqual(inst, JSON.parse(curatorJson));
    await zk.create('/svc2/worker/broken', 'not json');
    await assert.rejects(new ServiceDiscovery(zk, '/svc2').queryForInstance('worker', 'broken'), /does not hold a JSON service instance/);
  } finally {
    await zk.close();
  }
});
