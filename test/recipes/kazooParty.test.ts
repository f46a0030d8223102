// Party and ShallowParty members seen across kazoo and our client on one path of our server.
// Skipped where Debian's kazoo is not installed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { after, before, test } from 'node:test';
import { ZooKeeper } from '../../src/client/index.js';
import { Party, ShallowParty } from '../../src/recipes/index.js';
import { eventually } from '../client/clientSuite.js';
import { startServer, type TestServer } from '../support/OurServer.js';

const PYTHON = '/usr/bin/python3';
const kazooAvailable = fs.existsSync('/usr/lib/python3/dist-packages/kazoo/client.py');

// Joins both kinds of party as "py", prints each one's members as JSON, leaves when stdin closes.
const script = `
import sys, json
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1])
zk.start(timeout=10)
p = zk.Party(sys.argv[2], "py")
s = zk.ShallowParty(sys.argv[3], "py")
p.join()
s.join()
print(json.dumps({"party": sorted(p), "shallow": sorted(s)}), flush=True)
sys.stdin.read()
p.leave()
s.leave()
zk.stop()
`;

let server: TestServer;
let zk: ZooKeeper;
before(async () => {
  server = await startServer({ tickTime: 100 });
  zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
});
after(async () => {
  await zk.close();
  await server.stop();
});

test('kazoo and our Party / ShallowParty members see each other', { skip: !kazooAvailable && 'kazoo not installed' }, async () => {
  const party = new Party(zk, '/kzp/party', 'node');
  const shallow = new ShallowParty(zk, '/kzp/shallow', 'node');
  await party.join();
  await shallow.join();
  const py = spawn(PYTHON, ['-c', script, server.connectString, '/kzp/party', '/kzp/shallow'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  py.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => py.on('close', r));
  const lines = readline.createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done, `kazoo said nothing: ${err}`);
  assert.deepEqual(JSON.parse(first.value), { party: ['node', 'py'], shallow: ['node', 'py'] });
  assert.deepEqual((await party.members()).sort(), ['node', 'py']);
  assert.deepEqual((await shallow.members()).sort(), ['node', 'py']);
  assert.equal(await party.size(), 2);
  py.stdin.end();
  assert.equal(await exited, 0, err);
  await eventually(async () => (await party.members()).join() === 'node' && (await shallow.members()).join() === 'node');
  await party.leave();
  await shallow.leave();
  assert.deepEqual(await party.members(), []);
});

test('Party and ShallowParty node layout as kazoo writes it', async () => {
  const a = new Party(zk, '/kzp/layout', 'alpha');
  const b = new ShallowParty(zk, '/kzp/shallow-layout', 'beta');
  await a.join();
  await a.join(); // idempotent
  await b.join();
  const [pn] = await zk.getChildren('/kzp/layout');
  assert.match(pn!, /^[0-9a-f]{32}__party__$/);
  assert.equal((await zk.getData(`/kzp/layout/${pn}`)).data?.toString(), 'alpha');
  const [sn] = await zk.getChildren('/kzp/shallow-layout');
  assert.match(sn!, /^[0-9a-f]{32}-beta$/);
  // Children without the party marker are not members (kazoo filters the same way).
  await zk.create('/kzp/layout/other', 'x');
  assert.deepEqual(await a.members(), ['alpha']);
  await a.leave();
  await b.leave();
  assert.equal(a.participating, false);
  assert.deepEqual(await b.members(), []);
});
