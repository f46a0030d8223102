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
      '"payload":{"@class":"com.example.Details","version":"1.2"},"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC",' +
      '"uriSpec":{"parts":[{"value":"scheme","variable":true},{"value":"://","variable":false}]},"enabled":true}';
    await zk.create('/svc2/worker/9c1b1c1e-2f0a-4a57-9f0a-4b6f2f0e3a11', curatorJson);
    const [inst] = await new ServiceDiscovery<{ version: string }>(zk, '/svc2').queryForInstances('worker');
    // "@class" (Curator's Jackson type id) is taken out of the payload into payloadClass.
    const expected = JSON.parse(curatorJson);
    expected.payload = { version: '1.2' };
    assert.deepEqual(inst, { ...expected, payloadClass: 'com.example.Details' });
    // Written back, the JSON is the same as Curator's, "@class" first in the payload.
    await new ServiceDiscovery<{ version: string }>(zk, '/svc2').updateService(inst!);
    assert.equal((await zk.getData('/svc2/worker/9c1b1c1e-2f0a-4a57-9f0a-4b6f2f0e3a11')).data!.toString(), curatorJson);
    await zk.create('/svc2/worker/broken', 'not json');
    await assert.rejects(new ServiceDiscovery(zk, '/svc2').queryForInstance('worker', 'broken'), /does not hold a JSON service instance/);
  } finally {
    await zk.close();
  }
});

test('payloadClass writes "@class" first in object payloads, per instance or as the registry default', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 2000 });
  try {
    const sd = new ServiceDiscovery<unknown>(zk, '/svc3', { payloadClass: 'java.util.HashMap' });
    await sd.registerService({ name: 'a', id: 'one', payload: { zone: 'x', '@class': 'stale' } });
    await sd.registerService({ name: 'a', id: 'two', payload: { w: 1 }, payloadClass: 'com.example.Mine' });
    await sd.registerService({ name: 'a', id: 'three', payload: 'text' });
    const raw = async (id: string) => JSON.parse((await zk.getData(`/svc3/a/${id}`)).data!.toString()).payload;
    assert.deepEqual(Object.entries(await raw('one')), [['@class', 'java.util.HashMap'], ['zone', 'x']]);
    assert.deepEqual(Object.entries(await raw('two')), [['@class', 'com.example.Mine'], ['w', 1]]);
    assert.equal(await raw('three'), 'text', 'only object payloads carry "@class"');
    const plain = new ServiceDiscovery(zk, '/svc3');
    const two = await plain.queryForInstance('a', 'two');
    assert.deepEqual([two?.payload, two?.payloadClass], [{ w: 1 }, 'com.example.Mine']);
    await plain.registerService({ name: 'a', id: 'four', payload: { k: 'v' } });
    assert.deepEqual(Object.keys(await raw('four')), ['k'], 'no "@class" unless asked for');
  } finally {
    await zk.close();
  }
});
